"""What every part of the benchmark shares: where things are, logging, the error type."""
import json
import os
import sys
import time

BENCHMARKS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The entry point: child helpers (`_seed`, `_download`, `_probe`) and the re-execution in
# the network namespace run this file, whose main() dispatches them. Another benchmark
# that shares these modules (reopen.py) names itself with `use_entry`.
ENTRY = os.path.join(BENCHMARKS, "compare.py")
PREFIX = "compare"
REPO = os.path.dirname(BENCHMARKS)
PYTHON = "/usr/bin/python3"
SEEDER_IP = "127.0.0.2"


def use_entry(path, prefix):
    """Makes `path` the script that child helpers and the namespace re-execution run, and
    `prefix` the name its log lines carry."""
    global ENTRY, PREFIX
    ENTRY, PREFIX = path, prefix


def log(message):
    sys.stderr.write("[%s %s] %s\n" % (PREFIX, time.strftime("%H:%M:%S"), message))
    sys.stderr.flush()


def say(**fields):
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


class BenchError(Exception):
    pass
