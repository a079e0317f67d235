"""What every part of the benchmark shares: where things are, logging, the error type."""
import json
import os
import sys
import time

BENCHMARKS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The entry point: child helpers (`_seed`, `_download`, `_probe`) and the re-execution in
# the network namespace run this file, whose main() dispatches them.
ENTRY = os.path.join(BENCHMARKS, "compare.py")
REPO = os.path.dirname(BENCHMARKS)
PYTHON = "/usr/bin/python3"
SEEDER_IP = "127.0.0.2"


def log(message):
    sys.stderr.write("[compare %s] %s\n" % (time.strftime("%H:%M:%S"), message))
    sys.stderr.flush()


def say(**fields):
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


class BenchError(Exception):
    pass
