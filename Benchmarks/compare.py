#!/usr/bin/python3
"""memofs against btfs and a native libtorrent downloader, in one run, on loopback.

    /usr/bin/python3 Benchmarks/compare.py [--rounds 3] [--size 256] [--json bench-results.json]
    mount-scripts/bench compare [--rounds 3] [--size 256]      (builds release binaries first)

What it does (as root; stdlib plus Debian's python3-libtorrent, run with /usr/bin/python3):

- Network: it re-executes itself under `unshare --net` (then `ip link set lo up`), so
  every peer, tracker and mount daemon lives in a private network namespace whose only
  interface is loopback. btfs hard-codes the public DHT routers and keeps LSD, UPnP and
  NAT-PMP on; here they reach nothing. Every libtorrent session this script starts has
  DHT, LSD, UPnP, NAT-PMP and uTP off. The seeder listens on 127.0.0.2, the libtorrent
  downloaders on 127.0.0.3/127.0.0.4, memofs on 127.0.0.1, opentracker on 127.0.0.1.
- Content: a SIZE MiB file of random bytes (`bench.bin`) and a real WebM/Opus recording
  made with ffmpeg (`memo.webm`, 10 minutes of tone, about 6 MB), each its own BitTorrent
  v1 torrent (piece length as libtorrent picks: 256 KiB for 256 MiB), both seeded by ONE
  libtorrent seeder process (a second torrent for the WebM), both
  announced to ONE opentracker (whitelist mode). Every system gets the same magnet links,
  with `tr=` (the tracker) and `x.pe=` (the seeder).
- Per round, one system after another, each in a fresh mount and data folder:
  memofs (`memofs mount`, background form, `--listen 127.0.0.1 --port 0 --tracker …`),
  btfs (one mount per torrent, started with the magnet, `-f`), memofs's sequential read,
  and a native libtorrent downloader right after it (the two rates the sequential bar
  compares are taken seconds apart). Figures: add → file listed, add → first byte, 20 random 64 KiB preads
  (median, p95), share of the torrent on disk when they finished, ffprobe on the WebM in a
  fresh torrent, sequential read of the whole file in a fresh torrent (1 MiB reads);
  native: magnet → metadata and add → complete (its rate is the sequential anchor).
  CPU time (user + system) of the memofs daemon during the sequential read and of the
  native downloader from add to complete, since rates swing on a shared machine.
  memofs mounts add through `shared/.add`; btfs's clock starts when btfs is started.
  Right before each system downloads the content, a file of twice its size is written
  and deleted (`warm_page_cache`: on this VM memory freed goes back to the host, and the
  first write into it costs a host fault per page).
- The seeder's floor for the random reads: a bare peer-wire client on a fresh connection
  to the same seeder fetches the same first piece (and 1 MiB after it), then the pieces
  under the same 20 reads, each read's blocks requested at once (`wire_random`). For a
  hybrid torrent (the default; `--torrent-version v1` for v1 only) a second bare client
  does what memofs does for such a read: after the file's piece layer, it asks only for
  the blocks under each read and the piece's block hashes (BEP 52), and waits for those.
- memofs as a seeder: the file (as `upload.bin`, so its info hash differs) is copied into
  a memofs mount's `local/`; a fresh libtorrent session downloads it from the `.magnet`
  sidecar, against a fresh libtorrent session downloading `bench.bin` from the libtorrent
  seeder (that download is also the native anchor above).
- A finished file through the mount against the same file from disk (warm): the
  downloaded `shared/bench.bin` and the recording `local/upload.bin`; best of 5 passes,
  each reading the whole file 8 times (one 256 MiB read takes about 17 ms).
- Hashing: runs `memofs-bench hash` and parses its one-core SHA-1 and
  `openssl speed -evp sha1` rows.
- Scale: 10,000 small recordings (16 KiB each) copied into `local/` (time until all
  sidecars exist), then per round: unmount, mount again, time until status.json lists all
  as seeding; `ls -l local`; VmRSS of the daemon; its CPU over 10 s just after that (it is
  still announcing every recording to the tracker, a few at a time) and over 10 s from
  60 s after mounting (idle).
- Prints one table (min / median / max over the rounds), the ratios of medians against
  the anchors and, for each bar, whether it is met; writes the same as JSON (`--json`).
  Bars: first byte and random-read median and p95 <= 0.2x btfs; sequential >= 5x btfs
  and >= 0.9x the native download rate; libtorrent from memofs >= 1.0x from libtorrent;
  finished file through the mount >= 0.8x disk; hashing >= 0.9x OpenSSL; with 10,000
  recordings `ls -l local` < 1 s, RSS < 150 MB, idle CPU < 1 % of a core ("near 0").
- `--skip PART` (memofs, btfs, native, seeder, hash, scale) leaves a part out; a smaller
  `--size`, `--rounds 1` and `--scale-count` make a quick debugging run.

Every read of a mount happens in a child process with a timeout. Every mount is
unmounted in a cleanup that also runs on failure and Ctrl-C (memofs: `fusermount3 -u`,
then `-uz`; btfs: `umount`, then `umount -l`); only processes this script started are
ended, by PID.

btfs: if no btfs binary is found (`--btfs`, `btfs` on PATH, /opt/btfs/usr/bin/btfs) the
script installs it WITHOUT Debian's `fuse` package (which would remove `fuse3` and
`fusermount3`): it checks with `apt-get -s` that installing btfs's libraries
(libfuse2, libtorrent-rasterbar2.0, libcurl4) removes nothing, installs them with
`apt-get install -y`, then `apt-get download btfs` and `dpkg -x` it into /opt/btfs. As root,
libfuse2 mounts without fusermount; btfs mounts are unmounted with `umount`.

This file is the entry point (the command line, and the child modes `_seed`, `_download`
and `_probe` it runs of itself); the parts are in Benchmarks/bench/ (its __init__.py lists
them). libtorrent's settings for a session confined to loopback come from
Tests/Support/lt_settings.py, shared with the tests' Python peers.
"""
import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile

from bench.common import REPO, log
from bench.mounts import cleanup, find_btfs, install_btfs
from bench.namespace import NETNS_FLAG, enter_netns, in_private_netns
from bench.peers import helper_download, helper_seed
from bench.probes import helper_probe
from bench.report import report
from bench.runner import Bench


def main():
    if len(sys.argv) > 1 and sys.argv[1] in ("_seed", "_download", "_probe"):
        {"_seed": helper_seed, "_download": helper_download, "_probe": helper_probe}[sys.argv[1]](sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description="memofs against btfs and native libtorrent, on loopback, in one run.")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--size", type=int, default=256, help="MiB of the big file (default 256)")
    parser.add_argument("--json", default="bench-results.json", help="where to write the results (default bench-results.json)")
    parser.add_argument("--memofs", default=os.environ.get("MEMOFS", os.path.join(REPO, ".build/release/memofs")))
    parser.add_argument("--memofs-bench", default=os.environ.get("MEMOFS_BENCH", os.path.join(REPO, ".build/release/memofs-bench")))
    parser.add_argument("--btfs", default=os.environ.get("BTFS"))
    parser.add_argument("--work", default=None, help="scratch folder (default: a new one under /tmp, removed at the end)")
    parser.add_argument("--webm-seconds", type=int, default=600)
    parser.add_argument("--torrent-version", choices=["hybrid", "v1"], default="hybrid",
                        help="how the seeder's torrents are made: hybrid (v1+v2, libtorrent's default) or v1 only")
    parser.add_argument("--scale-count", type=int, default=10000)
    parser.add_argument("--scale-kib", type=int, default=16)
    parser.add_argument("--idle-seconds", type=float, default=10.0)
    parser.add_argument("--idle-settle", type=float, default=3.0)
    parser.add_argument("--idle-after-start", type=float, default=60.0,
                        help="idle CPU is measured from this many seconds after mounting (default 60)")
    parser.add_argument("--skip", action="append", default=[],
                        choices=["memofs", "btfs", "native", "seeder", "hash", "scale"], help="leave out a part (repeatable)")
    args = parser.parse_args()
    args.json = os.path.abspath(args.json)
    args.memofs = os.path.abspath(args.memofs)
    args.memofs_bench = os.path.abspath(args.memofs_bench)
    if os.geteuid() != 0:
        raise SystemExit("compare.py runs as root (network namespace, FUSE 2 mounts by btfs)")
    for tool in ("unshare", "ip", "opentracker", "ffmpeg", "ffprobe", "fusermount3", "umount", "openssl"):
        if not shutil.which(tool):
            raise SystemExit("missing %s (see mount-scripts/install-deps)" % tool)
    for binary in (args.memofs, args.memofs_bench):
        if not os.access(binary, os.X_OK):
            raise SystemExit("missing %s (build with swift build -c release, or pass --memofs/--memofs-bench)" % binary)

    if not os.environ.get(NETNS_FLAG):
        # Outside the namespace (network available): make sure btfs is there, then re-exec.
        if "btfs" not in args.skip:
            binary = find_btfs(args.btfs) or install_btfs()
            os.environ["BTFS"] = binary
        enter_netns()
    if not in_private_netns():
        raise SystemExit("not inside a private network namespace")
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True, timeout=30)
    if "btfs" not in args.skip:
        args.btfs = find_btfs(args.btfs or os.environ.get("BTFS"))
        if not args.btfs:
            raise SystemExit("btfs not found")

    work = args.work or tempfile.mkdtemp(prefix="memofs-compare-", dir="/tmp")
    os.makedirs(work, exist_ok=True)
    bench = Bench(args, work)

    def interrupted(number, _frame):
        raise KeyboardInterrupt("signal %d" % number)

    signal.signal(signal.SIGTERM, interrupted)
    try:
        bench.run()
        report(bench, args.json)
    except KeyboardInterrupt:
        log("interrupted: cleaning up")
        raise SystemExit(130)
    finally:
        cleanup()
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
