#!/usr/bin/python3
"""A plain peer-wire client for memofs's tests: it connects to a peer, says it speaks the
fast extension (BEP 6) and libtorrent's lt_donthave extension, and reports what the peer
tells it, one JSON line each:

  {"event":"pieces","pieces":[...]}      what the peer's bitfield (or have_all) says it has
  {"event":"have","piece":N}             a have
  {"event":"donthave","piece":N}         an lt_donthave: the peer no longer has N
  {"event":"unchoked"}
  {"event":"block","piece":N,"sha1":H}   the first block (16 KiB) of piece N, as sent
  {"event":"rejected","piece":N}         a reject of that request
  {"event":"done"}                       after --linger seconds

With --request N,M,… it asks for the first block of each, once unchoked. Loopback only.
"""
import argparse
import hashlib
import json
import os
import socket
import struct
import sys
import time

import libtorrent as lt  # noqa: F401  (the same interpreter as the other peers)


def say(**fields):
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


BLOCK = 16384
DONTHAVE_ID = 7


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--connect", required=True)
    parser.add_argument("--info-hash", required=True)
    parser.add_argument("--pieces", type=int, required=True)
    parser.add_argument("--request", default="")
    parser.add_argument("--linger", type=float, default=5)
    args = parser.parse_args()
    host, port = args.connect.rsplit(":", 1)
    wanted = [int(p) for p in args.request.split(",") if p]

    conn = socket.create_connection((host, int(port)), timeout=10)
    reserved = bytearray(8)
    reserved[5] |= 0x10  # extension protocol (BEP 10)
    reserved[7] |= 0x04  # fast extension (BEP 6)
    conn.sendall(b"\x13BitTorrent protocol" + bytes(reserved) + bytes.fromhex(args.info_hash)
                 + b"-PR0001-" + os.urandom(12))
    handshake = b""
    while len(handshake) < 68:
        chunk = conn.recv(68 - len(handshake))
        if not chunk:
            raise SystemExit("closed during the handshake")
        handshake += chunk
    m = b"d1:md11:lt_donthavei%dee1:v5:probee" % DONTHAVE_ID
    conn.sendall(struct.pack(">IBB", len(m) + 2, 20, 0) + m)
    conn.sendall(struct.pack(">IB", 1, 2))  # interested

    buffer = b""
    requested = False
    deadline = time.time() + args.linger
    conn.settimeout(0.2)
    while time.time() < deadline:
        try:
            chunk = conn.recv(1 << 16)
            if not chunk:
                break
            buffer += chunk
        except socket.timeout:
            pass
        while len(buffer) >= 4:
            length = struct.unpack(">I", buffer[:4])[0]
            if len(buffer) < 4 + length:
                break
            message, buffer = buffer[4:4 + length], buffer[4 + length:]
            if not message:
                continue
            kind, payload = message[0], message[1:]
            if kind == 5:
                say(event="pieces", pieces=[i for i in range(args.pieces) if payload[i // 8] & (0x80 >> (i % 8))])
            elif kind == 14:
                say(event="pieces", pieces=list(range(args.pieces)))
            elif kind == 15:
                say(event="pieces", pieces=[])
            elif kind == 4:
                say(event="have", piece=struct.unpack(">I", payload)[0])
            elif kind == 20 and payload[0] == DONTHAVE_ID:
                say(event="donthave", piece=struct.unpack(">I", payload[1:5])[0])
            elif kind == 1:
                say(event="unchoked")
                if not requested:
                    requested = True
                    for piece in wanted:
                        conn.sendall(struct.pack(">IBIII", 13, 6, piece, 0, BLOCK))
            elif kind == 7:
                piece, begin = struct.unpack(">II", payload[:8])
                say(event="block", piece=piece, sha1=hashlib.sha1(payload[8:]).hexdigest())
            elif kind == 16:
                say(event="rejected", piece=struct.unpack(">I", payload[:4])[0])
    say(event="done")
    conn.close()


if __name__ == "__main__":
    main()
