"""libtorrent and opentracker: the seeder and downloader helpers (child modes `_seed` and
`_download` of compare.py), the torrents they serve, and the tracker."""
import argparse
import os
import random
import select
import signal
import subprocess
import sys
import time

from .common import REPO, SEEDER_IP, BenchError, say
from .processes import CHILDREN

# lt_settings.py, shared with the Swift tests' Python peers.
SUPPORT = os.path.join(REPO, "Tests", "Support")


def lt_session(listen):
    import libtorrent as lt
    if SUPPORT not in sys.path:
        sys.path.append(SUPPORT)
    from lt_settings import confined_settings
    return lt.session(confined_settings(listen, "compare.py"))


def process_cpu_seconds():
    """User plus system CPU time of this process, all its threads, in seconds."""
    times = os.times()
    return times.user + times.system


def stdin_closed(timeout):
    readable, _, _ = select.select([sys.stdin], [], [], timeout)
    return bool(readable) and not sys.stdin.readline()


def helper_seed(argv):
    """Seeds the given .torrent files from --dir until stdin closes or --lifetime passes."""
    import libtorrent as lt
    parser = argparse.ArgumentParser(prog="compare.py _seed")
    parser.add_argument("--torrent", action="append", required=True)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--listen", default=SEEDER_IP + ":0")
    parser.add_argument("--lifetime", type=float, default=7200)
    args = parser.parse_args(argv)
    session = lt_session(args.listen)
    handles = []
    for path in args.torrent:
        params = lt.add_torrent_params()
        params.ti = lt.torrent_info(path)
        params.save_path = args.dir
        # No seed_mode: in it libtorrent hashes each piece on its first request, so whichever
        # system downloads first would pay for that. The files are checked here, once.
        params.flags &= ~lt.torrent_flags.auto_managed
        params.flags &= ~lt.torrent_flags.paused
        handles.append(session.add_torrent(params))
    deadline = time.monotonic() + 600
    while not all(handle.status().is_seeding for handle in handles):
        if time.monotonic() > deadline:
            say(event="error", message="the seeder's files did not check out as complete")
            return
        time.sleep(0.05)
    say(event="ready", port=session.listen_port(), pid=os.getpid())
    started = time.monotonic()
    while time.monotonic() - started < args.lifetime:
        if stdin_closed(0.2):
            break
        for alert in session.pop_alerts():
            if isinstance(alert, (lt.torrent_error_alert, lt.file_error_alert)):
                say(event="error", message=alert.message())
    say(event="exit")


def warm_page_cache(folder, mib):
    """Writes and deletes a MIB MiB file in FOLDER, so the next writes get memory the
    guest has just used.

    On this kind of VM, memory the guest freed goes back to the host within a second or
    two (free page reporting), and the first write into it costs a host fault per page:
    writing a 256 MiB file took 0.7 s of system time into such memory, 0.06 s right after
    another file was deleted. Without this, whichever system ran right after another's
    data was deleted wrote into warm memory and the other into cold (the native download
    ran right after memofs's folder was dropped). Every system that writes the content
    is warmed the same way right before its clock starts."""
    path = os.path.join(folder, ".warm-%d" % os.getpid())
    chunk = b"\0" * (1 << 20)
    with open(path, "wb") as handle:
        for _ in range(mib):
            handle.write(chunk)
    os.remove(path)


def helper_download(argv):
    """Downloads a magnet into --dir; prints metadata and done events (seconds since add)."""
    import libtorrent as lt
    parser = argparse.ArgumentParser(prog="compare.py _download")
    parser.add_argument("--magnet", required=True)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--listen", default="127.0.0.3:0")
    parser.add_argument("--lifetime", type=float, default=900)
    parser.add_argument("--warm-mib", type=int, default=0)
    args = parser.parse_args(argv)
    session = lt_session(args.listen)
    os.makedirs(args.dir, exist_ok=True)
    if args.warm_mib:
        warm_page_cache(args.dir, args.warm_mib)
    params = lt.parse_magnet_uri(args.magnet)
    params.save_path = args.dir
    params.flags &= ~lt.torrent_flags.auto_managed
    params.flags &= ~lt.torrent_flags.paused
    started = time.monotonic()
    cpu_started = process_cpu_seconds()
    handle = session.add_torrent(params)
    say(event="ready", pid=os.getpid())
    metadata = False
    while time.monotonic() - started < args.lifetime:
        for alert in session.pop_alerts():
            if isinstance(alert, (lt.torrent_error_alert, lt.file_error_alert, lt.metadata_failed_alert)):
                say(event="error", message=alert.message())
        status = handle.status()
        if status.has_metadata and not metadata:
            metadata = True
            say(event="metadata", seconds=time.monotonic() - started)
        if status.is_seeding:
            say(event="done", seconds=time.monotonic() - started, downloaded=status.total_payload_download,
                cpu=process_cpu_seconds() - cpu_started)
            break
        if stdin_closed(0.005):
            break
    say(event="exit")


def make_torrent(path, tracker, version):
    """A torrent of `path`: "hybrid" is libtorrent's default (v1 and v2 hashes, BEP 52), as
    libtorrent 2, qBittorrent 4.4 and later create; "v1" has v1 hashes only."""
    import libtorrent as lt
    storage = lt.file_storage()
    lt.add_files(storage, path)
    creator = lt.create_torrent(storage, 0, lt.create_torrent.v1_only if version == "v1" else 0)
    creator.add_tracker(tracker)
    lt.set_piece_hashes(creator, os.path.dirname(path))
    data = lt.bencode(creator.generate())
    torrent_path = path + ".torrent"
    with open(torrent_path, "wb") as handle:
        handle.write(data)
    info = lt.torrent_info(torrent_path)
    hashes = info.info_hashes()
    v2 = None
    if hashes.has_v2():
        v2 = {"info_hash": str(hashes.v2), "root": info.files().root(0).to_bytes().hex()}
    return torrent_path, str(hashes.v1), info.piece_length(), info.num_pieces(), v2


def write_random(path, size, seed):
    rng = random.Random(seed)
    with open(path, "wb") as handle:
        remaining = size
        while remaining:
            count = min(remaining, 4 << 20)
            handle.write(rng.randbytes(count))
            remaining -= count


class Tracker:
    """Debian's opentracker (whitelist mode) on 127.0.0.1; more info hashes via SIGHUP."""

    def __init__(self, folder, hashes):
        self.folder = folder
        os.makedirs(folder, exist_ok=True)
        os.chmod(folder, 0o755)
        self.hashes = list(hashes)
        self.write_whitelist()
        for _ in range(5):
            self.port = random.randint(20000, 40000)
            self.process = CHILDREN.start(["opentracker", "-i", "127.0.0.1", "-p", str(self.port), "-P", str(self.port),
                                           "-d", folder, "-w", "whitelist"],
                                          stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            if self.answers():
                return
            CHILDREN.stop(self.process)
        raise BenchError("opentracker did not start")

    @property
    def url(self):
        return "http://127.0.0.1:%d/announce" % self.port

    def write_whitelist(self):
        with open(self.folder + "/whitelist", "w") as handle:
            handle.write("".join(value + "\n" for value in self.hashes))
        os.chmod(self.folder + "/whitelist", 0o644)

    def allow(self, hashes):
        self.hashes += [value for value in hashes if value not in self.hashes]
        self.write_whitelist()
        os.kill(self.process.pid, signal.SIGHUP)

    def answers(self):
        import socket
        for _ in range(50):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return True
            except OSError:
                time.sleep(0.1)
        return False
