#!/usr/bin/python3
"""A hostile BitTorrent peer for memofs's tests. It claims to have every piece and
then misbehaves in one of several ways (--mode):

  corrupt     answers every request with random bytes of the right length
  lie-length  sends a `have` message whose length prefix says 9 bytes
  lie-block   answers requests with blocks longer than asked, past the piece's end
  huge        sends a length prefix of 2^31 - 1
  bad-hashes  speaks BEP 52 (v2) and answers hash requests with random hashes
  corrupt-v2  speaks BEP 52 and answers hash requests with the true hashes of
              --content (a single-file hybrid torrent's file), but every block
              request with random bytes
  reqq-off-by-one  serves --content honestly, slowly (one block per 20 ms), as
              Transmission 3.00 does with its request queue: says reqq 16 in its
              extension handshake, but rejects a request that would be the 16th
              pending one, and sends that reject 10 s late (prints
              {"event":"rejected"} when it decides to)
  never-unchoke  has every piece and never unchokes: every request waits

Peers that lie or stall (each prints {"event":"request"} at the first request it
gets and {"event":"closed","seconds":S,"client":C} when the connection ends, S after it
began; C is the peer id's first 8 bytes, "-MF0100-" for memofs: a seeder that learned
of the liar through memofs's PEX connects too, and leaves at once, both being seeds):
  wrong-length   answers every request with a block one byte short
  unrequested    answers every request with a block of another piece, never asked for
  stall          unchokes, takes every request and answers none (keep-alives only)
  reject-all     fast extension: rejects every request at once
  choke-storm    unchokes and chokes again every 20 ms, sends no block
  huge-metadata  says metadata_size 500 MB in its extension handshake, then idles
  never-metadata says ut_metadata and a metadata_size (a wrong one: 5 MiB), answers no
                 request for it
  unsafe-metadata  serves, by ut_metadata, an info dictionary of its own whose file is
                 named "../escape" (no --torrent: its info hash is in the ready event)

Listens on --listen (host:port, port 0 picks one), prints {"event":"ready","port":N},
serves connections until stdin closes or --lifetime passes. Loopback only.
"""
import argparse
import hashlib
import json
import os
import select
import socket
import struct
import sys
import threading
import time

import libtorrent as lt


def say(**fields):
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


def read_exact(conn, count):
    data = b""
    while len(data) < count:
        chunk = conn.recv(count - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data


BLOCK = 16384


def tree_node(leaves, layer, index):
    """Node `index` of the merkle tree `layer` levels above `leaves` (zeros past the end)."""
    if layer == 0:
        return leaves[index] if index < len(leaves) else bytes(32)
    return hashlib.sha256(tree_node(leaves, layer - 1, 2 * index) + tree_node(leaves, layer - 1, 2 * index + 1)).digest()


def answer_hashes(conn, body, mode, leaves):
    header = body[1:49]
    base, index, count, proofs = struct.unpack(">IIII", body[33:49])
    if mode == "bad-hashes":
        hashes = os.urandom(32 * count)
    else:
        hashes = b"".join(tree_node(leaves, base, index + i) for i in range(count))
    conn.sendall(struct.pack(">IB", 1 + 48 + len(hashes), 22) + header + hashes)


REQQ = 16


def serve_like_transmission(conn, content, piece_length):
    """Transmission 3.00's request queue (peer-msgs.c): a request is rejected when
    `pendingReqsToClient + 1 >= REQQ` (line 1382), and a reject waits in the message batch
    (peer-msgs.c:317-331 do not hurry it; the batch goes out every 10 s); a cancel drops a
    pending request without a reject (line 1624)."""
    pending = []
    lock = threading.Lock()
    send_lock = threading.Lock()
    closed = threading.Event()

    def send(data):
        with send_lock:
            conn.sendall(data)

    def sender():
        try:
            while not closed.is_set():
                time.sleep(0.02)
                with lock:
                    request = pending.pop(0) if pending else None
                if request:
                    piece, begin, size = request
                    at = piece * piece_length + begin
                    send(struct.pack(">IBII", 9 + size, 7, piece, begin) + content[at:at + size])
        except OSError:
            pass

    def late_reject(body):
        if not closed.is_set():
            try:
                send(struct.pack(">IB", 13, 16) + body[1:13])
            except OSError:
                pass

    threading.Thread(target=sender, daemon=True).start()
    try:
        while True:
            length = struct.unpack(">I", read_exact(conn, 4))[0]
            if length == 0:
                continue
            body = read_exact(conn, length)
            request = struct.unpack(">III", body[1:13]) if body[0] in (6, 8) else None
            with lock:
                if body[0] == 8 and request in pending:
                    pending.remove(request)
                    continue
                if body[0] != 6:
                    continue
                if len(pending) + 1 < REQQ:
                    pending.append(request)
                    continue
            say(event="rejected", request=list(request))
            timer = threading.Timer(10, late_reject, args=(body,))
            timer.daemon = True
            timer.start()
    finally:
        closed.set()


LIARS = ("wrong-length", "unrequested", "stall", "reject-all", "choke-storm", "huge-metadata", "never-metadata",
         "unsafe-metadata")
METADATA_ID = 3  # the id we ask ut_metadata messages to be sent to us with


def unsafe_info():
    """A single-file info dictionary named "../escape": what a torrent that tries to write
    outside its folder looks like. Bencoded by hand (keys in order), with its SHA-1."""
    length = 40000
    pieces = os.urandom(20 * ((length + 16383) // 16384))
    name = b"../escape"
    raw = (b"d6:lengthi%de4:name%d:%s12:piece lengthi16384e6:pieces%d:" % (length, len(name), name, len(pieces))
           + pieces + b"e")
    return raw, hashlib.sha1(raw).digest()


def serve_liar(conn, mode, num_pieces, metadata, client):
    """The peers that lie or stall (LIARS): connected, they misbehave until memofs drops
    them; says how long that took."""
    started = time.monotonic()
    send_lock = threading.Lock()
    closed = threading.Event()
    asked = threading.Event()

    def send(data):
        with send_lock:
            conn.sendall(data)

    def background(every, message):
        def run():
            try:
                while not closed.is_set():
                    time.sleep(every)
                    if not closed.is_set():
                        send(message())
            except OSError:
                pass
        threading.Thread(target=run, daemon=True).start()

    if mode in ("huge-metadata", "never-metadata", "unsafe-metadata"):
        size = {"huge-metadata": 500 << 20, "never-metadata": 5 << 20}.get(mode, len(metadata))
        extended = b"d1:md11:ut_metadatai%dee13:metadata_sizei%dee" % (METADATA_ID, size)
        send(struct.pack(">IBB", 2 + len(extended), 20, 0) + extended)
    if mode in ("stall", "huge-metadata", "never-metadata"):
        background(1, lambda: struct.pack(">I", 0))  # keep-alives: never silent
    if mode not in ("huge-metadata", "never-metadata", "unsafe-metadata"):
        send(struct.pack(">IB", 1, 1))  # unchoke
    if mode == "choke-storm":
        state = [1]

        def flip():
            state[0] ^= 1
            return struct.pack(">IB", 1, 1 - state[0])  # choke (0), then unchoke (1), ...
        background(0.02, flip)
    their_metadata_id = None
    try:
        while True:
            length = struct.unpack(">I", read_exact(conn, 4))[0]
            if length == 0:
                continue
            body = read_exact(conn, length)
            if body[0] == 20 and body[1] == 0:
                handshake = lt.bdecode(body[2:]) or {}
                their_metadata_id = (handshake.get(b"m") or {}).get(b"ut_metadata")
                continue
            if body[0] == 20 and body[1] == METADATA_ID and mode == "unsafe-metadata" and their_metadata_id:
                request = lt.bdecode(body[2:])
                piece = request.get(b"piece", 0)
                chunk = metadata[piece * 16384:(piece + 1) * 16384]
                header = lt.bencode({b"msg_type": 1, b"piece": piece, b"total_size": len(metadata)})
                send(struct.pack(">IBB", 2 + len(header) + len(chunk), 20, their_metadata_id) + header + chunk)
                continue
            if body[0] != 6:
                continue
            if not asked.is_set():
                asked.set()
                say(event="request", seconds=round(time.monotonic() - started, 3), client=client)
            piece, begin, size = struct.unpack(">III", body[1:13])
            if mode == "wrong-length":
                block = os.urandom(size - 1)
            elif mode == "unrequested":
                # A block of a piece far from this one (never the short last piece): on the
                # 16 KiB grid, inside the torrent, and not asked for.
                last = num_pieces - 1
                piece = (piece + num_pieces // 2) % last if last > 1 else piece
                block = os.urandom(size)
            elif mode == "reject-all":
                send(struct.pack(">IB", 13, 16) + body[1:13])
                continue
            else:
                continue
            send(struct.pack(">IBII", 9 + len(block), 7, piece, begin) + block)
    except (OSError, ConnectionError):
        pass
    finally:
        closed.set()
        say(event="closed", seconds=round(time.monotonic() - started, 3), client=client)


def serve(conn, info_hash, num_pieces, mode, leaves, content, piece_length, metadata=b""):
    try:
        conn.settimeout(None if mode in LIARS else 30)
        theirs = read_exact(conn, 68)
        if theirs[28:48] != info_hash:
            return
        reserved = bytearray(8)
        if mode in ("bad-hashes", "corrupt-v2"):
            reserved[7] |= 0x10
        if mode in ("reqq-off-by-one", "reject-all", "huge-metadata", "never-metadata", "unsafe-metadata"):
            reserved[5] |= 0x10  # extension protocol (BEP 10)
        if mode in ("reqq-off-by-one", "reject-all"):
            reserved[7] |= 0x04  # fast extension (BEP 6)
        conn.sendall(b"\x13BitTorrent protocol" + bytes(reserved) + info_hash + b"-XX0001-" + os.urandom(6).hex().encode())
        if mode == "unsafe-metadata":
            serve_liar(conn, mode, num_pieces, metadata, theirs[48:56].decode("latin-1"))
            return
        bitfield = bytearray(b"\xff" * ((num_pieces + 7) // 8))
        spare = len(bitfield) * 8 - num_pieces
        if spare:
            bitfield[-1] &= (0xFF << spare) & 0xFF
        conn.sendall(struct.pack(">IB", 1 + len(bitfield), 5) + bytes(bitfield))
        if mode == "reqq-off-by-one":
            extended = b"d1:mde4:reqqi%dee" % REQQ
            conn.sendall(struct.pack(">IBB", 2 + len(extended), 20, 0) + extended)
        if mode == "never-unchoke":
            # Has everything and never lets anyone have any of it: every request waits.
            while True:
                read_exact(conn, struct.unpack(">I", read_exact(conn, 4))[0])
        if mode in LIARS:
            serve_liar(conn, mode, num_pieces, metadata, theirs[48:56].decode("latin-1"))
            return
        conn.sendall(struct.pack(">IB", 1, 1))  # unchoke
        if mode == "reqq-off-by-one":
            serve_like_transmission(conn, content, piece_length)
            return
        if mode == "lie-length":
            conn.sendall(struct.pack(">IBIIII", 9, 4, 0, 0, 0, 0)[:13])
        if mode == "huge":
            conn.sendall(struct.pack(">I", 0x7FFFFFFF) + b"\x07" * 64)
        while True:
            length = struct.unpack(">I", read_exact(conn, 4))[0]
            if length == 0:
                continue
            body = read_exact(conn, length)
            if body[0] == 21 and mode in ("bad-hashes", "corrupt-v2"):
                answer_hashes(conn, body, mode, leaves)
                continue
            if body[0] != 6:  # only requests matter
                continue
            piece, begin, size = struct.unpack(">III", body[1:13])
            if mode in ("corrupt", "bad-hashes", "corrupt-v2"):
                block = os.urandom(size)
            elif mode == "lie-block":
                block = os.urandom(size + 100)
            else:
                continue
            conn.sendall(struct.pack(">IBII", 9 + len(block), 7, piece, begin) + block)
    except (OSError, ConnectionError):
        pass
    finally:
        conn.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--torrent", help="required but for unsafe-metadata")
    parser.add_argument("--mode", required=True, choices=["corrupt", "lie-length", "lie-block", "huge", "bad-hashes", "corrupt-v2",
                                                            "reqq-off-by-one", "never-unchoke", *LIARS])
    parser.add_argument("--content", help="the torrent's one file, for corrupt-v2's true hashes and reqq-off-by-one's blocks")
    parser.add_argument("--listen", default="127.0.0.3:0")
    parser.add_argument("--lifetime", type=float, default=240)
    args = parser.parse_args()

    if args.mode == "unsafe-metadata":
        metadata, info_hash = unsafe_info()
        num_pieces, piece_length = 3, 16384
    else:
        info = lt.torrent_info(args.torrent)
        info_hash = bytes.fromhex(str(info.info_hashes().v1))
        metadata = bytes(info.metadata())
        num_pieces, piece_length = info.num_pieces(), info.piece_length()
    leaves = []
    data = b""
    if args.content:
        with open(args.content, "rb") as handle:
            data = handle.read()
        leaves = [hashlib.sha256(data[at:at + BLOCK]).digest() for at in range(0, len(data), BLOCK)]
    host, port = args.listen.rsplit(":", 1)
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind((host, int(port)))
    server.listen(8)
    server.settimeout(0.1)
    say(event="ready", port=server.getsockname()[1], infohash=info_hash.hex())
    started = time.monotonic()
    connections = 0
    while time.monotonic() - started < args.lifetime:
        readable, _, _ = select.select([sys.stdin], [], [], 0)
        if readable and not sys.stdin.readline():
            break
        try:
            conn, _ = server.accept()
        except socket.timeout:
            continue
        connections += 1
        say(event="connection", count=connections)
        threading.Thread(target=serve, args=(conn, info_hash, num_pieces, args.mode, leaves, data,
                                             piece_length, metadata), daemon=True).start()
    say(event="exit")


if __name__ == "__main__":
    main()
