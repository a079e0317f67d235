"""The private network namespace: compare.py re-executes itself under `unshare --net`, so
every peer, tracker and mount daemon sees only loopback."""
import os
import sys

from . import common
from .common import PYTHON, BenchError, log

NETNS_FLAG = "MEMOFS_COMPARE_IN_NETNS"


def in_private_netns():
    with open("/proc/self/net/dev") as handle:
        names = [line.split(":")[0].strip() for line in handle.readlines()[2:]]
    return names == ["lo"]


def enter_netns():
    if in_private_netns():
        return
    if os.environ.get(NETNS_FLAG):
        raise BenchError("re-executed under unshare --net but more than loopback is visible")
    env = dict(os.environ)
    env[NETNS_FLAG] = "1"
    log("re-executing inside a private network namespace (unshare --net)")
    sys.stdout.flush()
    os.execve("/usr/bin/unshare", ["unshare", "--net", "--", PYTHON, common.ENTRY] + sys.argv[1:], env)
