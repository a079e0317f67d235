"""The child mode `_probe` of compare.py: one operation on a mount (or a bare peer-wire
client against the seeder), in its own process so a hung mount never hangs the benchmark."""
import json
import os
import random
import subprocess
import time

from .common import BenchError, say


def wire_random(op):
    """The seeder's own floor for the random reads: a bare peer-wire client on a fresh
    connection does what a filesystem must at the least. It fetches the pieces under the
    first byte and 1 MiB after it, then, for each of the same 20 offsets as the random
    reads, requests every block of the pieces under the read at once and waits for the
    last one. Nothing is hashed, written or handed to a reader. Acknowledged at once
    after every receive (TCP_QUICKACK), as memofs does, so no read waits on a delayed ACK.

    With `root` (a hybrid torrent's file root), the client speaks BEP 52 as memofs does
    for a random read: it asks for the file's piece layer once, then for each read only
    the blocks under it plus the piece's block hashes, and waits for those."""
    import socket
    import struct
    sock = socket.create_connection((op["host"], op["port"]), timeout=30)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    root = bytes.fromhex(op["root"]) if op.get("root") else None
    reserved = bytearray(8)
    if root:
        reserved[7] |= 0x10
    sock.sendall(b"\x13BitTorrent protocol" + bytes(reserved) + bytes.fromhex(op["info_hash"]) + b"-CP0001-" + os.urandom(12))
    buffered = bytearray()

    def take(count):
        while len(buffered) < count:
            data = sock.recv(1 << 20)
            if not data:
                raise BenchError("the seeder closed the connection")
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
            buffered.extend(data)
        out = bytes(buffered[:count])
        del buffered[:count]
        return out

    def message():
        length = struct.unpack(">I", take(4))[0]
        body = take(length) if length else b""
        return (body[0] if body else None), body[1:]

    take(68)
    sock.sendall(struct.pack(">IB", 1, 2))  # interested
    while message()[0] != 1:  # until unchoke
        pass
    size, piece_length, block = op["size"], op["piece_length"], 16384

    def fetch(first, last):
        started = time.monotonic()
        wanted = 0
        requests = bytearray()
        for piece in range(first, last + 1):
            length = min(piece_length, size - piece * piece_length)
            for begin in range(0, length, block):
                requests += struct.pack(">IBIII", 13, 6, piece, begin, min(block, length - begin))
                wanted += 1
        sock.sendall(requests)
        while wanted:
            if message()[0] == 7:
                wanted -= 1
        return time.monotonic() - started

    per_piece = piece_length // block

    def hash_request(base, index, count):
        return struct.pack(">IB", 49, 21) + root + struct.pack(">IIII", base, index, count, 0)

    def fetch_blocks(offset, length):
        """A random read of a hybrid torrent: each piece's block hashes and the read's blocks."""
        started = time.monotonic()
        first, last = offset // block, (offset + length - 1) // block
        pieces = sorted({index // per_piece for index in range(first, last + 1)})
        out = b"".join(hash_request(0, piece * per_piece, per_piece) for piece in pieces)
        for index in range(first, last + 1):
            piece, begin = divmod(index * block, piece_length)
            out += struct.pack(">IBIII", 13, 6, piece, begin, min(block, size - index * block))
        sock.sendall(out)
        wanted = len(pieces) + last - first + 1
        while wanted:
            kind = message()[0]
            if kind == 23:
                raise BenchError("the seeder refused a hash request")
            if kind in (7, 22):
                wanted -= 1
        return time.monotonic() - started

    fetch(0, min((1 << 20) // piece_length, (size - 1) // piece_length))
    if root:
        pieces = (size - 1) // piece_length + 1
        width = 1
        while width < pieces:
            width *= 2
        sock.sendall(hash_request(per_piece.bit_length() - 1, 0, width))
        while message()[0] not in (22, 23):
            pass
    rng = random.Random(op["seed"])
    latencies = []
    for _ in range(op["count"]):
        offset = rng.randrange(0, size - op["read_size"])
        if root:
            latencies.append(fetch_blocks(offset, op["read_size"]))
        else:
            latencies.append(fetch(offset // piece_length, (offset + op["read_size"] - 1) // piece_length))
    sock.close()
    return {"latencies": latencies}


def helper_probe(argv):
    """One operation on a mount; prints one JSON object. Times are time.monotonic() values
    (CLOCK_MONOTONIC, the same in every process) or durations."""
    op = json.loads(argv[0])
    kind = op["op"]
    if kind == "open":
        # A fresh torrent: write its magnet to shared/.add (when given; the clock starts just
        # before the write, else at op["started"]), poll the folder until the name shows up,
        # then (with "first_byte") open and read one byte until it succeeds.
        started = op.get("started")
        if op.get("magnet"):
            started = time.monotonic()
            with open(os.path.join(op["dir"], ".add"), "w") as handle:
                handle.write(op["magnet"] + "\n")
        deadline = time.monotonic() + op.get("timeout", 120)
        listed = first = None
        while listed is None:
            try:
                if op["name"] in os.listdir(op["dir"]):
                    listed = time.monotonic()
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                say(error="%s not listed within %s s" % (op["name"], op.get("timeout", 120)))
                return
            time.sleep(0.001)
        path = os.path.join(op["dir"], op["name"])
        while op.get("first_byte") and first is None:
            try:
                fd = os.open(path, os.O_RDONLY)
                try:
                    if len(os.read(fd, 1)) == 1:
                        first = time.monotonic()
                finally:
                    os.close(fd)
            except OSError:
                if time.monotonic() > deadline:
                    say(error="no first byte of %s within %s s" % (op["name"], op.get("timeout", 120)))
                    return
                time.sleep(0.005)
        say(started=started, listed=listed - started, first_byte=None if first is None else first - started)
    elif kind == "random":
        fd = os.open(op["path"], os.O_RDONLY)
        length = os.fstat(fd).st_size
        rng = random.Random(op["seed"])
        latencies = []
        for _ in range(op["count"]):
            offset = rng.randrange(0, length - op["size"])
            started = time.monotonic()
            data = os.pread(fd, op["size"], offset)
            latencies.append(time.monotonic() - started)
            if len(data) != op["size"]:
                say(error="short read at %d: %d bytes" % (offset, len(data)))
                return
        os.close(fd)
        say(latencies=latencies, at=time.monotonic())
    elif kind == "wire_random":
        say(**wire_random(op))
    elif kind == "sequential":
        # The whole file, open to close, `repeat` times (a warm 256 MiB file reads in about
        # 17 ms: one pass is too short a window on a shared machine).
        started = time.monotonic()
        total = 0
        open_s = read_s = close_s = 0.0
        for _ in range(op.get("repeat", 1)):
            begun = time.monotonic()
            fd = os.open(op["path"], os.O_RDONLY)
            opened = time.monotonic()
            while True:
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    break
                total += len(chunk)
            read_done = time.monotonic()
            os.close(fd)
            open_s, read_s, close_s = open_s + opened - begun, read_s + read_done - opened, close_s + time.monotonic() - read_done
        say(seconds=time.monotonic() - started, bytes=total, at=time.monotonic(), open_s=open_s, read_s=read_s, close_s=close_s)
    elif kind == "ffprobe":
        started = time.monotonic()
        result = subprocess.run(["ffprobe", "-v", "error", "-show_format", "-show_streams", op["path"]],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=op.get("timeout", 120))
        seconds = time.monotonic() - started
        text = result.stdout.decode(errors="replace")
        duration = next((line.split("=", 1)[1] for line in text.splitlines() if line.startswith("duration=")), None)
        say(seconds=seconds, status=result.returncode, duration=duration, errors=result.stderr.decode(errors="replace")[-500:])
    elif kind == "count":
        # How many names in a folder end with the suffix.
        names = os.listdir(op["dir"])
        say(count=sum(1 for name in names if name.endswith(op["suffix"])), total=len(names))
    elif kind == "read_text":
        with open(op["path"]) as handle:
            say(text=handle.read())
    else:
        say(error="unknown op " + kind)
