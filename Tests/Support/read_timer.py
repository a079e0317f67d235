#!/usr/bin/python3
"""Times reads of a file: `read_timer.py FILE --count N --size BYTES --seed S` reads N
blocks at random offsets with pread and prints {"latencies": [seconds, …]}; with
--sequential it reads the file in 1 MiB reads (from --offset, at most --limit bytes) and
prints {"seconds": …, "bytes": …, "longest": the longest single read, "sha1": of the bytes};
with --concurrent the N reads run at once, one thread each (readers under load), each at
the start of its own --size slot of the file, reading --read bytes (default --size); a read
that fails counts as an error."""
import argparse
import hashlib
import json
import os
import random
import time

parser = argparse.ArgumentParser()
parser.add_argument("path")
parser.add_argument("--count", type=int, default=20)
parser.add_argument("--size", type=int, default=65536)
parser.add_argument("--seed", type=int, default=1)
parser.add_argument("--sequential", action="store_true")
parser.add_argument("--offset", type=int, default=0)
parser.add_argument("--limit", type=int, default=None)
parser.add_argument("--concurrent", action="store_true")
parser.add_argument("--read", type=int, default=None, help="with --concurrent: bytes each read takes (default --size)")
args = parser.parse_args()

fd = os.open(args.path, os.O_RDONLY)
length = os.fstat(fd).st_size
if args.sequential:
    digest = hashlib.sha1()
    os.lseek(fd, args.offset, os.SEEK_SET)
    started = time.monotonic()
    total = 0
    longest = 0.0
    while args.limit is None or total < args.limit:
        wanted = 1 << 20 if args.limit is None else min(1 << 20, args.limit - total)
        before = time.monotonic()
        chunk = os.read(fd, wanted)
        longest = max(longest, time.monotonic() - before)
        if not chunk:
            break
        digest.update(chunk)
        total += len(chunk)
    print(json.dumps({"seconds": time.monotonic() - started, "bytes": total, "longest": longest,
                      "sha1": digest.hexdigest()}))
elif args.concurrent:
    import threading
    rng = random.Random(args.seed)
    slots = rng.sample(range(length // args.size), args.count)
    latencies = [None] * args.count
    errors = []
    start = threading.Barrier(args.count)

    def read(index):
        start.wait()
        began = time.monotonic()
        try:
            wanted = args.read or args.size
            data = os.pread(fd, wanted, slots[index] * args.size)
            assert len(data) == wanted
            latencies[index] = time.monotonic() - began
        except (OSError, AssertionError) as error:
            errors.append(str(error))

    threads = [threading.Thread(target=read, args=(i,)) for i in range(args.count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(json.dumps({"latencies": [x for x in latencies if x is not None], "errors": errors}))
else:
    rng = random.Random(args.seed)
    latencies = []
    for _ in range(args.count):
        offset = rng.randrange(0, length - args.size)
        started = time.monotonic()
        data = os.pread(fd, args.size, offset)
        latencies.append(time.monotonic() - started)
        assert len(data) == args.size
    print(json.dumps({"latencies": latencies}))
