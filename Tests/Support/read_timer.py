#!/usr/bin/python3
"""Times reads of a file: `read_timer.py FILE --count N --size BYTES --seed S` reads N
blocks at random offsets with pread and prints {"latencies": [seconds, …]}; with
--sequential it reads the whole file in 1 MiB reads and prints {"seconds": …, "bytes": …}."""
import argparse
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
args = parser.parse_args()

fd = os.open(args.path, os.O_RDONLY)
length = os.fstat(fd).st_size
if args.sequential:
    started = time.monotonic()
    total = 0
    while True:
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            break
        total += len(chunk)
    print(json.dumps({"seconds": time.monotonic() - started, "bytes": total}))
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
