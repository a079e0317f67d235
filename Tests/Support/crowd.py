#!/usr/bin/python3
"""A crowd of leechers for memofs's load benchmark: for each --torrent INFOHASH:PIECES it
opens --per-torrent connections to --peer HOST:PORT, each from its own loopback address
(127.1.x.y), and behaves as a plain BitTorrent leecher: shakes hands, is interested, and
while unchoked keeps --depth requests of 16 KiB blocks of random pieces in flight.

Prints {"event":"ready","connected":N} once every connection has shaken hands (or after
--connect-timeout), then every second {"event":"progress","connected":N,"unchoked":U,
"bytes":B}. Stops when stdin closes or --lifetime passes. Loopback only.
"""
import argparse
import json
import os
import random
import selectors
import socket
import struct
import sys
import time

BLOCK = 16384


def say(**fields):
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


class Leecher:
    def __init__(self, info_hash, pieces, piece_length, address, source, depth):
        self.info_hash = info_hash
        self.pieces = pieces
        self.piece_length = piece_length
        self.depth = depth
        self.buffer = b""
        self.shaken = False
        self.unchoked = False
        self.in_flight = 0
        self.received = 0
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind((source, 0))
        self.sock.setblocking(False)
        self.sock.connect_ex(address)
        self.out = b"\x13BitTorrent protocol" + bytes(8) + info_hash + b"-CR0001-" + os.urandom(12)

    def send(self, data):
        self.out += data

    def flush(self):
        if self.out:
            try:
                sent = self.sock.send(self.out)
                self.out = self.out[sent:]
            except BlockingIOError:
                pass

    def request_more(self):
        while self.unchoked and self.in_flight < self.depth:
            piece = random.randrange(self.pieces)
            begin = random.randrange(self.piece_length // BLOCK) * BLOCK
            self.send(struct.pack(">IBIII", 13, 6, piece, begin, BLOCK))
            self.in_flight += 1

    def on_readable(self):
        chunk = self.sock.recv(1 << 16)
        if not chunk:
            raise ConnectionError("closed")
        self.buffer += chunk
        if not self.shaken:
            if len(self.buffer) < 68:
                return
            if self.buffer[28:48] != self.info_hash:
                raise ConnectionError("wrong info hash")
            self.buffer = self.buffer[68:]
            self.shaken = True
            self.send(struct.pack(">IB", 1, 2))  # interested
        while len(self.buffer) >= 4:
            (length,) = struct.unpack(">I", self.buffer[:4])
            if len(self.buffer) < 4 + length:
                break
            body = self.buffer[4:4 + length]
            self.buffer = self.buffer[4 + length:]
            if not body:
                continue
            kind = body[0]
            if kind == 1:  # unchoke
                self.unchoked = True
            elif kind == 0:  # choke: requests are dropped
                self.unchoked = False
                self.in_flight = 0
            elif kind == 7:  # piece
                self.in_flight = max(0, self.in_flight - 1)
                self.received += length - 9
            elif kind == 16:  # reject (fast extension)
                self.in_flight = max(0, self.in_flight - 1)
        self.request_more()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--peer", required=True, help="host:port of memofs")
    parser.add_argument("--torrent", action="append", required=True, help="INFOHASH_HEX:PIECES")
    parser.add_argument("--piece-length", type=int, default=262144)
    parser.add_argument("--per-torrent", type=int, default=50)
    parser.add_argument("--depth", type=int, default=4)
    parser.add_argument("--lifetime", type=float, default=600)
    parser.add_argument("--connect-timeout", type=float, default=30)
    args = parser.parse_args()
    host, port = args.peer.rsplit(":", 1)
    selector = selectors.DefaultSelector()
    leechers = []
    for t, spec in enumerate(args.torrent):
        info_hash, pieces = spec.split(":")
        for i in range(args.per_torrent):
            source = "127.1.%d.%d" % (t + 1, i + 1)
            leecher = Leecher(bytes.fromhex(info_hash), int(pieces), args.piece_length, (host, int(port)), source, args.depth)
            leechers.append(leecher)
            selector.register(leecher.sock, selectors.EVENT_READ, leecher)
    selector.register(sys.stdin, selectors.EVENT_READ, None)
    started = time.monotonic()
    ready_said = False
    last_report = started
    live = set(leechers)
    while time.monotonic() - started < args.lifetime:
        for key, _ in selector.select(timeout=0.05):
            if key.data is None:
                if not sys.stdin.buffer.read1(1):
                    return
                continue
            leecher = key.data
            try:
                leecher.on_readable()
            except (ConnectionError, OSError):
                selector.unregister(leecher.sock)
                leecher.sock.close()
                live.discard(leecher)
        for leecher in list(live):
            try:
                leecher.flush()
            except OSError:
                selector.unregister(leecher.sock)
                leecher.sock.close()
                live.discard(leecher)
        now = time.monotonic()
        connected = sum(1 for leecher in live if leecher.shaken)
        if not ready_said and (connected == len(leechers) or now - started > args.connect_timeout):
            say(event="ready", connected=connected)
            ready_said = True
        if ready_said and now - last_report >= 1:
            last_report = now
            say(event="progress", connected=connected, unchoked=sum(1 for leecher in live if leecher.unchoked),
                bytes=sum(leecher.received for leecher in leechers))


if __name__ == "__main__":
    main()
