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
"""
import argparse
import json
import os
import random
import re
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

SCRIPT = os.path.abspath(__file__)
REPO = os.path.dirname(os.path.dirname(SCRIPT))
PYTHON = "/usr/bin/python3"
NETNS_FLAG = "MEMOFS_COMPARE_IN_NETNS"
SEEDER_IP = "127.0.0.2"
BTFS_PREFIX = "/opt/btfs"


def log(message):
    sys.stderr.write("[compare %s] %s\n" % (time.strftime("%H:%M:%S"), message))
    sys.stderr.flush()


def say(**fields):
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


# ---------------------------------------------------------------------------------------
# Helpers run as child processes: a libtorrent seeder, a libtorrent downloader, and probes
# that touch a mount (so a hung mount never hangs this script).

def lt_session(listen):
    import libtorrent as lt
    return lt.session({
        "listen_interfaces": listen,
        "enable_dht": False,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "enable_outgoing_utp": False,
        "enable_incoming_utp": False,
        "allow_multiple_connections_per_ip": True,
        "user_agent": "compare.py",
        "alert_mask": lt.alert.category_t.error_notification | lt.alert.category_t.status_notification,
        "announce_to_all_trackers": True,
        "announce_to_all_tiers": True,
    })


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


# ---------------------------------------------------------------------------------------
# Process, mount and probe management in the main process.

class BenchError(Exception):
    pass


class Children:
    """Every process this script starts, so cleanup can end exactly those, by PID."""

    def __init__(self):
        self.processes = []

    def start(self, arguments, **kwargs):
        process = subprocess.Popen(arguments, **kwargs)
        self.processes.append(process)
        return process

    def stop(self, process, timeout=10):
        if process.poll() is None:
            try:
                process.terminate()
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                try:
                    process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    log("process %d did not exit after SIGKILL (stuck in the kernel?)" % process.pid)
        for stream in (process.stdin, process.stdout, process.stderr):
            try:
                if stream:
                    stream.close()
            except OSError:
                pass
        if process in self.processes and process.poll() is not None:
            self.processes.remove(process)

    def stop_all(self):
        for process in list(reversed(self.processes)):
            self.stop(process, timeout=5)


CHILDREN = Children()


def run(arguments, timeout, **kwargs):
    """subprocess.run with a timeout that kills (by PID) and reports instead of hanging."""
    started = time.monotonic()
    process = CHILDREN.start(arguments, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, **kwargs)
    try:
        output, errors = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        try:
            process.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        CHILDREN.stop(process, timeout=1)
        raise BenchError("%s did not finish within %s s" % (" ".join(arguments)[:200], timeout))
    CHILDREN.stop(process)
    result = subprocess.CompletedProcess(arguments, process.returncode, output, errors)
    result.seconds = time.monotonic() - started
    return result


def probe(op, timeout):
    """Runs one probe operation in a child process; returns its JSON answer."""
    result = run([PYTHON, SCRIPT, "_probe", json.dumps(op)], timeout=timeout)
    lines = [line for line in result.stdout.decode(errors="replace").splitlines() if line.strip()]
    if result.returncode != 0 or not lines:
        raise BenchError("probe %s failed (%d): %s" % (op["op"], result.returncode, result.stderr.decode(errors="replace")[-800:]))
    answer = json.loads(lines[-1])
    if "error" in answer:
        raise BenchError("probe %s: %s" % (op["op"], answer["error"]))
    return answer


class JsonChild:
    """A helper (seeder, downloader) that prints JSON lines; read with a timeout."""

    def __init__(self, arguments, label):
        self.label = label
        self.process = CHILDREN.start(arguments, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.buffer = b""
        self.events = []

    def wait_for(self, event, timeout):
        deadline = time.monotonic() + timeout
        while True:
            while self.events:
                item = self.events.pop(0)
                if item.get("event") == event:
                    return item
                if item.get("event") == "error":
                    log("%s: %s" % (self.label, item.get("message")))
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise BenchError("%s: no %s event within %s s" % (self.label, event, timeout))
            readable, _, _ = select.select([self.process.stdout], [], [], min(remaining, 1))
            if readable:
                chunk = os.read(self.process.stdout.fileno(), 65536)
                if not chunk:
                    errors = self.process.stderr.read().decode(errors="replace")[-1500:] if self.process.poll() is not None else ""
                    raise BenchError("%s exited before %s: %s" % (self.label, event, errors))
                self.buffer += chunk
                while b"\n" in self.buffer:
                    line, self.buffer = self.buffer.split(b"\n", 1)
                    try:
                        self.events.append(json.loads(line))
                    except ValueError:
                        pass

    def stop(self):
        try:
            self.process.stdin.close()
        except OSError:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        CHILDREN.stop(self.process)


def mounted(mountpoint):
    with open("/proc/self/mounts") as handle:
        for line in handle:
            fields = line.split()
            if len(fields) > 1 and fields[1] == mountpoint:
                return True
    return False


def quiet(arguments, timeout=15):
    try:
        return run(arguments, timeout=timeout).returncode
    except (BenchError, OSError) as error:
        log(str(error))
        return -1


def pid_alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class MemofsMount:
    """`memofs mount MNT --data DIR` in the background form; the daemon's PID is parsed from
    its output. stop(): fusermount3 -u, then -uz; then the daemon is ended by PID if needed."""

    def __init__(self, binary, mountpoint, data, trackers):
        self.binary, self.mountpoint, self.data, self.trackers = binary, mountpoint, data, trackers
        self.pid = None

    def start(self):
        os.makedirs(self.mountpoint, exist_ok=True)
        os.makedirs(self.data, exist_ok=True)
        arguments = [self.binary, "mount", self.mountpoint, "--data", self.data, "--listen", "127.0.0.1", "--port", "0"]
        for tracker in self.trackers:
            arguments += ["--tracker", tracker]
        # Flags that keep discovery on loopback, when this build has them.
        help_text = MemofsMount.help_text(self.binary)
        for flag in ("--no-dht", "--no-lsd"):
            if flag in help_text:
                arguments.append(flag)
        MOUNTS.append(self)
        result = run(arguments, timeout=60)
        text = result.stdout.decode(errors="replace")
        if result.returncode != 0 or not mounted(self.mountpoint):
            raise BenchError("memofs mount failed (%d): %s %s" % (result.returncode, text, result.stderr.decode(errors="replace")))
        marker = text.find("(pid ")
        if marker >= 0:
            self.pid = int(text[marker + 5:].split(",")[0].split(")")[0])
        return self

    _help = {}

    @staticmethod
    def help_text(binary):
        if binary not in MemofsMount._help:
            MemofsMount._help[binary] = run([binary, "mount", "--help"], timeout=30).stdout.decode(errors="replace")
        return MemofsMount._help[binary]

    @property
    def local(self):
        return self.mountpoint + "/local"

    @property
    def shared(self):
        return self.mountpoint + "/shared"

    def stop(self):
        if mounted(self.mountpoint):
            quiet(["fusermount3", "-u", self.mountpoint])
        if mounted(self.mountpoint):
            quiet(["fusermount3", "-uz", self.mountpoint])
        if self.pid:
            deadline = time.monotonic() + 20
            while pid_alive(self.pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            if pid_alive(self.pid):
                log("memofs daemon %d still running 20 s after unmount: SIGTERM" % self.pid)
                os.kill(self.pid, signal.SIGTERM)
                deadline = time.monotonic() + 10
                while pid_alive(self.pid) and time.monotonic() < deadline:
                    time.sleep(0.05)
                if pid_alive(self.pid):
                    os.kill(self.pid, signal.SIGKILL)
        harvest(os.path.join(self.data, "memofs.log"), "memofs", (" warning ", " error ", " critical "), 24)
        if self in MOUNTS:
            MOUNTS.remove(self)


LOG_LINES = {}


def harvest(path, who, markers, skip):
    """Keeps distinct warning/error lines of a daemon's log (timestamps cut off) for the report."""
    try:
        with open(path, errors="replace") as handle:
            for line in handle:
                if markers and not any(marker in line for marker in markers):
                    continue
                text = line.strip()[skip:].strip()
                key = who + ": " + re.sub(r"[0-9a-f]{8,}|\d+", "#", text)[:120]
                if key not in LOG_LINES and len(LOG_LINES) < 40:
                    LOG_LINES[key] = who + ": " + text[:300]
    except OSError:
        pass


class BtfsMount:
    """btfs in the foreground (-f) as our child, started with the magnet; stop(): umount,
    then umount -l, then the process is ended by PID if needed."""

    def __init__(self, binary, mountpoint, data):
        self.binary, self.mountpoint, self.data = binary, mountpoint, data
        self.process = None
        self.started = None

    def start(self, magnet):
        os.makedirs(self.mountpoint, exist_ok=True)
        os.makedirs(self.data, exist_ok=True)
        MOUNTS.append(self)
        self.log = open(self.data + ".log", "wb")
        self.started = time.monotonic()
        self.process = CHILDREN.start([self.binary, "-f", "--data-directory=" + self.data, magnet, self.mountpoint],
                                      stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT)
        return self

    def wait_mounted(self, timeout=60):
        deadline = time.monotonic() + timeout
        while not mounted(self.mountpoint):
            if self.process.poll() is not None:
                raise BenchError("btfs exited (%d): %s" % (self.process.returncode, self.log_tail()))
            if time.monotonic() > deadline:
                raise BenchError("btfs did not mount within %s s" % timeout)
            time.sleep(0.005)

    def log_tail(self):
        try:
            with open(self.data + ".log", "rb") as handle:
                return handle.read()[-1500:].decode(errors="replace")
        except OSError:
            return ""

    def stop(self):
        if mounted(self.mountpoint):
            quiet(["umount", self.mountpoint])
        if mounted(self.mountpoint):
            quiet(["umount", "-l", self.mountpoint])
        if self.process is not None:
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                log("btfs %d still running 20 s after unmount: ending it" % self.process.pid)
            CHILDREN.stop(self.process)
        try:
            self.log.close()
        except (OSError, AttributeError):
            pass
        logs = [self.data + ".log"]  # btfs's output, and its log.txt in each btfs-XXXX folder
        if os.path.isdir(self.data):
            logs += [os.path.join(self.data, name, "log.txt") for name in os.listdir(self.data)]
        for log_path in logs:
            harvest(log_path, "btfs", ("rror", "ail", "arn", "xception"), 0)
        if self in MOUNTS:
            MOUNTS.remove(self)


MOUNTS = []


def cleanup():
    for mount in list(reversed(MOUNTS)):
        try:
            mount.stop()
        except Exception as error:  # keep cleaning up
            log("cleanup of %s: %s" % (mount.mountpoint, error))
    CHILDREN.stop_all()


# ---------------------------------------------------------------------------------------
# Setup: binaries, btfs, the namespace, content, tracker, seeder.

def apt_installs_cleanly(packages):
    result = subprocess.run(["apt-get", "-s", "install", "-y"] + packages, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, timeout=300)
    removals = [line for line in result.stdout.decode(errors="replace").splitlines() if line.startswith("Remv ")]
    return result.returncode == 0 and not removals, removals


def find_btfs(explicit):
    candidates = [explicit] if explicit else [shutil.which("btfs"), BTFS_PREFIX + "/usr/bin/btfs"]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    if explicit:
        raise BenchError("btfs binary %s not found" % explicit)
    return None


def install_btfs():
    """libfuse2 and btfs's other libraries from apt (checked to remove nothing), btfs itself
    unpacked with dpkg -x into /opt/btfs: never the `fuse` package, which removes fuse3."""
    log("btfs not found: installing it into %s (libfuse2 from apt, btfs unpacked, fuse3 kept)" % BTFS_PREFIX)
    packages = ["libfuse2", "libtorrent-rasterbar2.0", "libcurl4"]
    clean, removals = apt_installs_cleanly(packages)
    if not clean:
        subprocess.run(["apt-get", "update"], timeout=600, check=False)
        clean, removals = apt_installs_cleanly(packages)
    if not clean:
        raise BenchError("installing %s would remove packages or fails: %s" % (" ".join(packages), removals))
    subprocess.run(["apt-get", "install", "-y"] + packages, timeout=900, check=True)
    folder = tempfile.mkdtemp(prefix="btfs-deb-")
    os.chmod(folder, 0o777)  # apt's _apt user downloads into it
    try:
        subprocess.run(["apt-get", "download", "btfs"], cwd=folder, timeout=600, check=True)
        debs = [name for name in os.listdir(folder) if name.endswith(".deb")]
        if not debs:
            raise BenchError("apt-get download btfs gave no .deb")
        os.makedirs(BTFS_PREFIX, exist_ok=True)
        subprocess.run(["dpkg", "-x", os.path.join(folder, debs[0]), BTFS_PREFIX], timeout=120, check=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    binary = BTFS_PREFIX + "/usr/bin/btfs"
    missing = subprocess.run(["ldd", binary], stdout=subprocess.PIPE, timeout=30).stdout.decode()
    if "not found" in missing:
        raise BenchError("btfs misses libraries:\n" + missing)
    if not os.path.exists("/usr/bin/fusermount3"):
        raise BenchError("fusermount3 is gone: something removed fuse3")
    return binary


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
    os.execve("/usr/bin/unshare", ["unshare", "--net", "--", PYTHON, SCRIPT] + sys.argv[1:], env)


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


# ---------------------------------------------------------------------------------------
# Figures.

class Figures:
    def __init__(self):
        self.values = {}
        self.meta = {}

    def add(self, key, value, label, unit, system):
        self.meta.setdefault(key, {"label": label, "unit": unit, "system": system})
        self.values.setdefault(key, []).append(value)

    def median(self, key):
        values = self.values.get(key) or []
        return statistics.median(values) if values else None

    def summary(self, key):
        values = self.values.get(key) or []
        if not values:
            return None
        return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def du(path):
    """Bytes allocated on disk under a path (what a client has written)."""
    total = 0
    for root, _, names in os.walk(path):
        for name in names:
            try:
                total += os.lstat(os.path.join(root, name)).st_blocks * 512
            except OSError:
                pass
    return total


def proc_cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime, stime


def proc_rss_kib(pid):
    with open("/proc/%d/status" % pid) as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return None


def status_items(data):
    try:
        with open(os.path.join(data, "status.json")) as handle:
            return json.load(handle).get("items", [])
    except (OSError, ValueError):
        return []


def median_of(values):
    return statistics.median(values) if values else None


# ---------------------------------------------------------------------------------------
# The benchmark.

class Bench:
    def __init__(self, args, work):
        self.args = args
        self.work = work
        self.figures = Figures()
        self.size = args.size << 20
        self.notes = []

    def note(self, text):
        log(text)
        self.notes.append(text)

    def setup(self):
        args, work = self.args, self.work
        self.content = work + "/content"
        os.makedirs(self.content)
        log("writing a %d MiB file and a WebM recording" % args.size)
        write_random(self.content + "/bench.bin", self.size, 2026)
        result = run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                      "sine=frequency=440:duration=%d" % args.webm_seconds, "-c:a", "libopus", "-b:a", "64k",
                      self.content + "/memo.webm"], timeout=300)
        if result.returncode != 0:
            raise BenchError("ffmpeg failed: " + result.stderr.decode(errors="replace"))
        self.webm_size = os.path.getsize(self.content + "/memo.webm")
        # Same bytes as bench.bin under another name, for memofs as a seeder.
        self.upload_source = work + "/upload/upload.bin"
        os.makedirs(os.path.dirname(self.upload_source))
        os.link(self.content + "/bench.bin", self.upload_source)

        # The tracker needs the hashes first; the torrents need the tracker's URL; so pick
        # the port, then hash, then start it. memofs's own torrent of upload.bin is predicted
        # with `memofs create` and checked against the sidecar later.
        self.tracker = Tracker(work + "/tracker", [])
        bench = make_torrent(self.content + "/bench.bin", self.tracker.url, args.torrent_version)
        webm = make_torrent(self.content + "/memo.webm", self.tracker.url, args.torrent_version)
        self.bench_torrent, self.bench_hash, piece_length, pieces, bench_v2 = bench
        self.bench_root = bench_v2["root"] if bench_v2 else None
        self.webm_torrent, self.webm_hash, _, webm_pieces, webm_v2 = webm
        created = run([args.memofs, "create", self.upload_source, "-o", work + "/upload.torrent"], timeout=300)
        text = created.stdout.decode(errors="replace")
        predicted = [part[len("xt=urn:btih:"):] for part in text.replace("?", "&").split("&") if part.startswith("xt=urn:btih:")]
        self.tracker.allow([self.bench_hash, self.webm_hash] + [value.strip().lower() for value in predicted[:1]])
        log("bench.bin: %d pieces of %d KiB, info hash %s; memo.webm: %d bytes, %d pieces" %
            (pieces, piece_length // 1024, self.bench_hash, self.webm_size, webm_pieces))
        self.piece_length = piece_length

        self.seeder = JsonChild([PYTHON, SCRIPT, "_seed", "--torrent", self.bench_torrent, "--torrent", self.webm_torrent,
                                 "--dir", self.content, "--listen", SEEDER_IP + ":0"], "seeder")
        ready = self.seeder.wait_for("ready", 60)
        peer = "%s:%d" % (SEEDER_IP, ready["port"])
        self.seeder_port = ready["port"]
        tr = self.tracker.url.replace(":", "%3A").replace("/", "%2F")
        # As libtorrent writes them: a hybrid torrent's link names both hashes.
        def magnet(v1, v2, name):
            v2_part = "&xt=urn:btmh:1220%s" % v2["info_hash"] if v2 else ""
            return "magnet:?xt=urn:btih:%s%s&dn=%s&tr=%s&x.pe=%s" % (v1, v2_part, name, tr, peer)
        self.bench_magnet = magnet(self.bench_hash, bench_v2, "bench.bin")
        self.webm_magnet = magnet(self.webm_hash, webm_v2, "memo.webm")
        log("seeder on %s, tracker %s" % (peer, self.tracker.url))
        self.meta = {"size_mib": args.size, "torrent_version": args.torrent_version, "piece_length": piece_length, "pieces": pieces, "webm_bytes": self.webm_size,
                     "webm_seconds": args.webm_seconds, "rounds": args.rounds, "seeder": peer, "tracker": self.tracker.url,
                     "magnet_bench": self.bench_magnet, "magnet_webm": self.webm_magnet}

    # -- one system's phase -------------------------------------------------------------

    @property
    def warm_mib(self):
        """How much to write and delete before a system downloads the content (see
        `warm_page_cache`): twice the content, for a mount's own cache of the file."""
        return 2 * self.size // (1 << 20)

    def fresh(self, name):
        path = os.path.join(self.work, name)
        shutil.rmtree(path, ignore_errors=True)
        return path

    def drop(self, *paths):
        for path in paths:
            shutil.rmtree(path, ignore_errors=True)
            try:
                os.remove(path + ".log")
            except OSError:
                pass

    def record_reads(self, system, round_, listed, first, random_answer, on_disk):
        fig = self.figures
        latencies = [value * 1000 for value in random_answer["latencies"]]
        fig.add(system + ".listed_s", listed, "add → file listed (s)", "s", system)
        fig.add(system + ".first_byte_s", first, "add → first byte (s)", "s", system)
        fig.add(system + ".random_median_ms", statistics.median(latencies), "random 64 KiB read, median (ms)", "ms", system)
        fig.add(system + ".random_p95_ms", percentile(latencies, 0.95), "random 64 KiB read, p95 (ms)", "ms", system)
        fig.add(system + ".fetched_pct", on_disk * 100.0 / self.size, "on disk after first byte + 20 reads (%)", "%", system)
        log("%s round %d: listed %.3f s, first byte %.3f s, random median %.1f ms p95 %.1f ms, on disk %.1f %%" %
            (system, round_, listed, first, statistics.median(latencies), percentile(latencies, 0.95), on_disk * 100.0 / self.size))

    def memofs_round(self, round_):
        """Fresh torrent: listing, first byte, random reads, what is on disk; ffprobe. The
        seeder's floor for the same reads is measured just before (see `wire_random`)."""
        args = self.args
        floor = probe({"op": "wire_random", "host": SEEDER_IP, "port": self.seeder_port, "info_hash": self.bench_hash,
                       "size": self.size, "piece_length": self.piece_length, "count": 20, "read_size": 65536,
                       "seed": round_}, 120)
        latencies = [value * 1000 for value in floor["latencies"]]
        self.figures.add("wire.random_median_ms", statistics.median(latencies),
                         "same reads, bare client on a fresh connection, median (ms)", "ms", "wire")
        self.figures.add("wire.random_p95_ms", percentile(latencies, 0.95),
                         "same reads, bare client on a fresh connection, p95 (ms)", "ms", "wire")
        if self.bench_root:
            floor = probe({"op": "wire_random", "host": SEEDER_IP, "port": self.seeder_port, "info_hash": self.bench_hash,
                           "size": self.size, "piece_length": self.piece_length, "count": 20, "read_size": 65536,
                           "seed": round_, "root": self.bench_root}, 120)
            latencies = [value * 1000 for value in floor["latencies"]]
            self.figures.add("wire2.random_median_ms", statistics.median(latencies),
                             "same reads, bare client asking for blocks and hashes (BEP 52), median (ms)", "ms", "wire2")
            self.figures.add("wire2.random_p95_ms", percentile(latencies, 0.95),
                             "same reads, bare client asking for blocks and hashes (BEP 52), p95 (ms)", "ms", "wire2")
        mnt, data = self.fresh("memofs-mnt-%d" % round_), self.fresh("memofs-data-%d" % round_)
        mount = MemofsMount(args.memofs, mnt, data, [self.tracker.url]).start()
        try:
            opened = probe({"op": "open", "dir": mount.shared, "magnet": self.bench_magnet, "name": "bench.bin",
                            "first_byte": True, "timeout": 120}, 130)
            answer = probe({"op": "random", "path": mount.shared + "/bench.bin", "count": 20, "size": 65536, "seed": round_}, 300)
            on_disk = du(os.path.join(data, "torrents"))
            self.record_reads("memofs", round_, opened["listed"], opened["first_byte"], answer, on_disk)
            # ffprobe on the WebM, a fresh torrent in the same mount.
            opened = probe({"op": "open", "dir": mount.shared, "magnet": self.webm_magnet, "name": "memo.webm", "timeout": 120}, 130)
            answer = probe({"op": "ffprobe", "path": mount.shared + "/memo.webm", "timeout": 120}, 130)
            self.record_ffprobe("memofs", round_, answer, opened["listed"])
        finally:
            mount.stop()
            self.drop(mnt, data)

    def memofs_sequential_round(self, round_):
        """Fresh torrent: sequential read of the whole file; then the finished file through
        the mount against the same file on disk. Run just before the native download, so the
        two rates the sequential bar compares are taken seconds apart, not a minute."""
        args, fig = self.args, self.figures
        mnt, data = self.fresh("memofs-mnt-%d" % round_), self.fresh("memofs-data-%d" % round_)
        mount = MemofsMount(args.memofs, mnt, data, [self.tracker.url]).start()
        try:
            warm_page_cache(self.work, self.warm_mib)
            added = probe({"op": "open", "dir": mount.shared, "magnet": self.bench_magnet, "name": "bench.bin",
                           "timeout": 120}, 130)["started"]
            ticks = proc_cpu_ticks(mount.pid) if mount.pid else None
            answer = probe({"op": "sequential", "path": mount.shared + "/bench.bin"}, 900)
            if answer["bytes"] != self.size:
                raise BenchError("memofs sequential read gave %d bytes" % answer["bytes"])
            if ticks is not None:
                # The daemon's CPU for the whole download and serving the reads: what the
                # rate costs, steadier than the rate on a shared two-core machine.
                used = (proc_cpu_ticks(mount.pid) - ticks) / os.sysconf("SC_CLK_TCK")
                fig.add("memofs.sequential_cpu_s", used, "CPU of the daemon during the sequential read (s)", "s", "memofs")
            fig.add("memofs.sequential_mbs", self.size / answer["seconds"] / 1e6, "sequential read, fresh torrent (MB/s)", "MB/s", "memofs")
            fig.add("memofs.add_to_read_mbs", self.size / (answer["at"] - added) / 1e6,
                    "add → whole file read (MB/s)", "MB/s", "memofs")
            log("memofs round %d: sequential %.0f MB/s" % (round_, self.size / answer["seconds"] / 1e6))
            disk_file = os.path.join(data, "torrents", self.bench_hash, "bench.bin")
            self.finished_pair("shared", mount.shared + "/bench.bin", disk_file)
        finally:
            mount.stop()
            self.drop(mnt, data)

    def finished_pair(self, which, through_mount, on_disk):
        """A complete file through the mount and from disk, both warm: the best of 5 passes each,
        one after the other, after a first pass of each that is dropped; a pass reads the
        whole file 8 times, opening and closing it each time."""
        if not os.path.exists(on_disk):
            self.note("finished-file figure skipped: %s not found on disk" % on_disk)
            return
        mount_rates, disk_rates = [], []
        for index in range(6):
            for path, rates in ((through_mount, mount_rates), (on_disk, disk_rates)):
                answer = probe({"op": "sequential", "path": path, "repeat": 8}, 300)
                if index > 0:
                    rates.append(answer["bytes"] / answer["seconds"] / 1e6)
        self.figures.add("memofs.finished_%s_mount_mbs" % which, max(mount_rates),
                         "finished %s/ file through the mount, warm (MB/s)" % which, "MB/s", "memofs")
        self.figures.add("memofs.finished_%s_disk_mbs" % which, max(disk_rates),
                         "the same file from disk, warm (MB/s)", "MB/s", "disk")

    def record_ffprobe(self, system, round_, answer, listed):
        if answer.get("status") != 0 or not answer.get("duration"):
            self.note("%s round %d: ffprobe failed (%s): %s" % (system, round_, answer.get("status"), answer.get("errors")))
        self.figures.add(system + ".ffprobe_s", answer["seconds"], "ffprobe on the WebM, fresh torrent (s)", "s", system)
        self.figures.add(system + ".webm_listed_s", listed, "add WebM → listed (s)", "s", system)
        self.figures.add(system + ".webm_to_ffprobe_s", listed + answer["seconds"], "add WebM → listed + ffprobe done (s)", "s", system)

    def btfs_round(self, round_):
        args, fig = self.args, self.figures
        mnt, data = self.fresh("btfs-mnt-%d" % round_), self.fresh("btfs-data-%d" % round_)
        mount = BtfsMount(args.btfs, mnt, data).start(self.bench_magnet)
        try:
            opened = probe({"op": "open", "dir": mnt, "started": mount.started, "name": "bench.bin", "first_byte": True,
                            "timeout": 180}, 190)
            answer = probe({"op": "random", "path": mnt + "/bench.bin", "count": 20, "size": 65536, "seed": round_}, 600)
            on_disk = du(data)
            self.record_reads("btfs", round_, opened["listed"], opened["first_byte"], answer, on_disk)
        finally:
            mount.stop()
            self.drop(mnt, data)
        mnt, data = self.fresh("btfs-mnt-%d" % round_), self.fresh("btfs-data-%d" % round_)
        mount = BtfsMount(args.btfs, mnt, data).start(self.webm_magnet)
        try:
            opened = probe({"op": "open", "dir": mnt, "started": mount.started, "name": "memo.webm", "timeout": 180}, 190)
            answer = probe({"op": "ffprobe", "path": mnt + "/memo.webm", "timeout": 180}, 190)
            self.record_ffprobe("btfs", round_, answer, opened["listed"])
        finally:
            mount.stop()
            self.drop(mnt, data)
        mnt, data = self.fresh("btfs-mnt-%d" % round_), self.fresh("btfs-data-%d" % round_)
        warm_page_cache(self.work, self.warm_mib)
        mount = BtfsMount(args.btfs, mnt, data).start(self.bench_magnet)
        try:
            added = mount.started
            probe({"op": "open", "dir": mnt, "started": added, "name": "bench.bin", "timeout": 180}, 190)
            answer = probe({"op": "sequential", "path": mnt + "/bench.bin"}, 1200)
            if answer["bytes"] != self.size:
                raise BenchError("btfs sequential read gave %d bytes" % answer["bytes"])
            fig.add("btfs.sequential_mbs", self.size / answer["seconds"] / 1e6, "sequential read, fresh torrent (MB/s)", "MB/s", "btfs")
            fig.add("btfs.add_to_read_mbs", self.size / (answer["at"] - added) / 1e6, "add → whole file read (MB/s)", "MB/s", "btfs")
            log("btfs round %d: sequential %.0f MB/s" % (round_, self.size / answer["seconds"] / 1e6))
        finally:
            mount.stop()
            self.drop(mnt, data)

    def lt_download(self, magnet, listen, label):
        folder = self.fresh("lt-download")
        child = JsonChild([PYTHON, SCRIPT, "_download", "--magnet", magnet, "--dir", folder, "--listen", listen,
                           "--warm-mib", str(self.warm_mib)], label)
        try:
            metadata = child.wait_for("metadata", 120)
            done = child.wait_for("done", 900)
        finally:
            child.stop()
            self.drop(folder)
        return metadata["seconds"], done["seconds"], done.get("cpu")

    def native_round(self, round_):
        answer = probe({"op": "ffprobe", "path": self.content + "/memo.webm", "timeout": 60}, 70)
        self.figures.add("disk.ffprobe_s", answer["seconds"], "ffprobe on the WebM from disk (s)", "s", "disk")
        metadata, done, cpu = self.lt_download(self.bench_magnet, "127.0.0.3:0", "libtorrent downloader")
        if cpu is not None:
            self.figures.add("native.download_cpu_s", cpu, "CPU of the downloader, add → complete (s)", "s", "native")
        self.figures.add("native.metadata_s", metadata, "magnet → metadata (s)", "s", "native")
        self.figures.add("native.download_mbs", self.size / done / 1e6, "add → complete (MB/s)", "MB/s", "native")
        log("native round %d: metadata %.3f s, %.0f MB/s" % (round_, metadata, self.size / done / 1e6))

    def start_seeding_mount(self):
        args = self.args
        mnt, data = self.fresh("memofs-seed-mnt"), self.fresh("memofs-seed-data")
        mount = MemofsMount(args.memofs, mnt, data, [self.tracker.url]).start()
        run(["cp", self.upload_source, mount.local + "/upload.bin"], timeout=600)
        deadline = time.monotonic() + 300
        while True:
            count = probe({"op": "count", "dir": mount.local, "suffix": ".magnet"}, 30)["count"]
            if count:
                break
            if time.monotonic() > deadline:
                raise BenchError("no upload.bin.magnet within 300 s")
            time.sleep(0.1)
        magnet = probe({"op": "read_text", "path": mount.local + "/upload.bin.magnet"}, 30)["text"].strip()
        sidecar_hash = magnet.split("xt=urn:btih:", 1)[1].split("&", 1)[0].lower()
        if sidecar_hash not in self.tracker.hashes:
            self.note("memofs's upload.bin info hash %s differs from `memofs create`'s: whitelisting it now" % sidecar_hash)
            self.tracker.allow([sidecar_hash])
        self.meta["magnet_from_memofs"] = magnet
        return mount, magnet

    def seeder_round(self, round_, mount, magnet):
        _, done, _ = self.lt_download(magnet, "127.0.0.4:0", "libtorrent downloader from memofs")
        self.figures.add("seed.memofs_to_lt_mbs", self.size / done / 1e6, "libtorrent downloading from memofs (MB/s)", "MB/s", "memofs")
        log("seeding round %d: memofs → libtorrent %.0f MB/s" % (round_, self.size / done / 1e6))
        self.finished_pair("local", mount.local + "/upload.bin", os.path.join(mount.data, "local", "upload.bin"))

    def hashing(self):
        result = run([self.args.memofs_bench, "hash"], timeout=900)
        text = result.stdout.decode(errors="replace")
        found = 0
        for line in text.splitlines():
            parts = line.rsplit(None, 5)
            if len(parts) < 6 or parts[2] != "/" or parts[4] != "/":
                continue
            try:
                values = [float(parts[1]), float(parts[3]), float(parts[5])]
            except ValueError:
                continue
            name = parts[0].strip()
            if name.startswith("memofs SHA1.hash"):
                key, label, system = "hash.memofs_mbs", "SHA-1 piece hashing, one core (MB/s)", "memofs"
            elif name.startswith("openssl speed"):
                key, label, system = "hash.openssl_mbs", "openssl speed -evp sha1 (MB/s)", "openssl"
            elif name.startswith("memofs PieceHasher"):
                key, label, system = "hash.memofs_all_cores_mbs", "piece hashing, all cores (MB/s)", "memofs"
            else:
                continue
            found += 1
            for value in values:  # memofs-bench prints min / median / max of its 3 rounds
                self.figures.add(key, value, label, "MB/s", system)
        if found < 2:
            self.note("could not parse memofs-bench hash output: " + text[-500:] + result.stderr.decode(errors="replace")[-500:])

    def scale(self):
        args, fig = self.args, self.figures
        count = args.scale_count
        source = self.fresh("scale-source")
        os.makedirs(source)
        log("writing %d recordings of %d KiB" % (count, args.scale_kib))
        for index in range(count):
            with open(os.path.join(source, "memo-%05d.webm" % index), "wb") as handle:
                handle.write(os.urandom(args.scale_kib << 10))
        mnt, data = self.fresh("scale-mnt"), self.fresh("scale-data")
        mount = MemofsMount(args.memofs, mnt, data, [self.tracker.url]).start()
        try:
            rss, idle = self.idle(mount)
            fig.add("scale.empty_rss_mb", rss, "daemon VmRSS, empty mount (MB)", "MB", "memofs")
            fig.add("scale.empty_idle_cpu_pct", idle, "daemon CPU while idle, empty mount, % of a core", "%", "memofs")
            started = time.monotonic()
            run(["cp", "-r", source + "/.", mount.local + "/"], timeout=3600)
            copied = time.monotonic() - started
            deadline = time.monotonic() + 3600
            while True:
                seen = probe({"op": "count", "dir": mount.local, "suffix": ".magnet"}, 120)["count"]
                if seen >= count:
                    break
                if time.monotonic() > deadline:
                    raise BenchError("only %d of %d sidecars after an hour" % (seen, count))
                time.sleep(0.2)
            sidecars = time.monotonic() - started
            fig.add("scale.copy_s", copied, "cp of %d recordings into local/ (s)" % count, "s", "memofs")
            fig.add("scale.sidecars_s", sidecars, "cp start → all %d sidecars exist (s)" % count, "s", "memofs")
            log("scale: cp %.1f s, all sidecars after %.1f s" % (copied, sidecars))
            # The tracker learns the new info hashes, so announces are answered as for the rest.
            self.tracker.allow([item["info_hash"] for item in status_items(data) if item.get("info_hash")])
            for round_ in range(1, args.rounds + 1):
                mount.stop()
                mount = MemofsMount(args.memofs, mnt, data, [self.tracker.url])
                started = time.monotonic()
                mount.start()
                deadline = time.monotonic() + 1800
                while True:
                    seeding = sum(1 for item in status_items(data) if item.get("kind") == "recording" and item.get("state") == "seeding")
                    if seeding >= count:
                        break
                    if time.monotonic() > deadline:
                        raise BenchError("only %d of %d seeding 30 min after mounting again" % (seeding, count))
                    time.sleep(0.1)
                fig.add("scale.restart_s", time.monotonic() - started,
                        "mount again → status.json: all %d seeding (s)" % count, "s", "memofs")
                times = []
                for _ in range(3):
                    result = run(["ls", "-l", mount.local], timeout=120)
                    if result.returncode != 0:
                        raise BenchError("ls -l local failed: " + result.stderr.decode(errors="replace")[-300:])
                    lines = result.stdout.count(b"\n")
                    times.append(result.seconds)
                fig.add("scale.ls_s", statistics.median(times), "ls -l local, %d recordings + sidecars (s)" % count, "s", "memofs")
                if lines < 2 * count:
                    self.note("ls -l local listed %d lines, expected %d+" % (lines, 2 * count))
                # Just after the start the daemon still announces every recording to the
                # tracker (a few at a time); idle is what is left once that is done.
                _, busy = self.idle(mount)
                fig.add("scale.startup_cpu_pct", busy, "daemon CPU %.0f–%.0f s after all seeding, %% of a core"
                        % (args.idle_settle, args.idle_settle + args.idle_seconds), "%", "memofs")
                rss, idle = self.idle(mount, since=started, settle=args.idle_after_start)
                fig.add("scale.rss_mb", rss, "daemon VmRSS with %d recordings (MB)" % count, "MB", "memofs")
                fig.add("scale.idle_cpu_pct", idle, "daemon CPU while idle (%.0f s after mounting), %% of a core"
                        % args.idle_after_start, "%", "memofs")
                log("scale round %d: seeding all after %.2f s, ls -l %.3f s, RSS %.0f MB, CPU %.2f %% at start, %.2f %% idle" %
                    (round_, fig.values["scale.restart_s"][-1], statistics.median(times), rss, busy, idle))
        finally:
            mount.stop()
            self.drop(mnt, data, source)

    def idle(self, mount, since=None, settle=None):
        """VmRSS (MB) after --idle-settle seconds (or once `settle` seconds have passed since
        `since`), then CPU (utime+stime) over --idle-seconds as a percentage of one core, with
        nothing asked of the daemon."""
        if not mount.pid:
            raise BenchError("no daemon PID from memofs mount")
        if since is None:
            time.sleep(self.args.idle_settle)
        else:
            time.sleep(max(0.0, since + settle - time.monotonic()))
        rss = (proc_rss_kib(mount.pid) or 0) * 1024 / 1e6
        ticks = proc_cpu_ticks(mount.pid)
        began = time.monotonic()
        time.sleep(self.args.idle_seconds)
        used = (proc_cpu_ticks(mount.pid) - ticks) / os.sysconf("SC_CLK_TCK")
        return rss, used / (time.monotonic() - began) * 100

    # -- the whole run ------------------------------------------------------------------

    def run(self):
        self.setup()
        seeding_mount, memofs_magnet = None, None
        for round_ in range(1, self.args.rounds + 1):
            log("=== round %d of %d ===" % (round_, self.args.rounds))
            steps = (("memofs", self.memofs_round), ("btfs", self.btfs_round),
                     ("memofs", self.memofs_sequential_round), ("native", self.native_round))
            for system, step in steps:
                if system in self.args.skip:
                    continue
                try:
                    step(round_)
                except BenchError as error:
                    self.note("%s round %d failed: %s" % (system, round_, error))
            if "seeder" not in self.args.skip:
                try:
                    if seeding_mount is None:
                        seeding_mount, memofs_magnet = self.start_seeding_mount()
                    self.seeder_round(round_, seeding_mount, memofs_magnet)
                except BenchError as error:
                    self.note("seeder round %d failed: %s" % (round_, error))
        if seeding_mount is not None:
            seeding_mount.stop()
            self.drop(seeding_mount.mountpoint, seeding_mount.data)
        self.seeder.stop()
        if "hash" not in self.args.skip:
            try:
                log("hashing: memofs-bench hash")
                self.hashing()
            except BenchError as error:
                self.note("hashing failed: %s" % error)
        if "scale" not in self.args.skip:
            try:
                self.scale()
            except BenchError as error:
                self.note("scale failed: %s" % error)


# ---------------------------------------------------------------------------------------
# The report.

ROWS = [
    # (key, format)
    ("memofs.listed_s", "%.3f"), ("btfs.listed_s", "%.3f"),
    ("memofs.first_byte_s", "%.3f"), ("btfs.first_byte_s", "%.3f"),
    ("memofs.random_median_ms", "%.1f"), ("btfs.random_median_ms", "%.1f"),
    ("memofs.random_p95_ms", "%.1f"), ("btfs.random_p95_ms", "%.1f"),
    ("wire.random_median_ms", "%.2f"), ("wire.random_p95_ms", "%.2f"),
    ("wire2.random_median_ms", "%.2f"), ("wire2.random_p95_ms", "%.2f"),
    ("memofs.fetched_pct", "%.1f"), ("btfs.fetched_pct", "%.1f"),
    ("memofs.webm_listed_s", "%.3f"), ("btfs.webm_listed_s", "%.3f"),
    ("memofs.ffprobe_s", "%.3f"), ("btfs.ffprobe_s", "%.3f"), ("disk.ffprobe_s", "%.3f"),
    ("memofs.webm_to_ffprobe_s", "%.3f"), ("btfs.webm_to_ffprobe_s", "%.3f"),
    ("memofs.sequential_mbs", "%.0f"), ("btfs.sequential_mbs", "%.0f"),
    ("memofs.add_to_read_mbs", "%.0f"), ("btfs.add_to_read_mbs", "%.0f"),
    ("native.metadata_s", "%.3f"), ("native.download_mbs", "%.0f"),
    ("memofs.sequential_cpu_s", "%.2f"), ("native.download_cpu_s", "%.2f"),
    ("seed.memofs_to_lt_mbs", "%.0f"), ("native.download_mbs", "%.0f"),
    ("memofs.finished_shared_mount_mbs", "%.0f"), ("memofs.finished_shared_disk_mbs", "%.0f"),
    ("memofs.finished_local_mount_mbs", "%.0f"), ("memofs.finished_local_disk_mbs", "%.0f"),
    ("hash.memofs_mbs", "%.0f"), ("hash.openssl_mbs", "%.0f"), ("hash.memofs_all_cores_mbs", "%.0f"),
    ("scale.copy_s", "%.1f"), ("scale.sidecars_s", "%.1f"), ("scale.restart_s", "%.2f"),
    ("scale.ls_s", "%.3f"), ("scale.rss_mb", "%.0f"), ("scale.startup_cpu_pct", "%.2f"), ("scale.idle_cpu_pct", "%.2f"),
    ("scale.empty_rss_mb", "%.0f"), ("scale.empty_idle_cpu_pct", "%.2f"),
]

# (name, numerator, denominator, relation, goal); relation "<=" or ">=" on the ratio of medians.
RATIOS = [
    ("add → first byte, memofs / btfs", "memofs.first_byte_s", "btfs.first_byte_s", "<=", 0.2),
    ("random read median, memofs / btfs", "memofs.random_median_ms", "btfs.random_median_ms", "<=", 0.2),
    ("random read p95, memofs / btfs", "memofs.random_p95_ms", "btfs.random_p95_ms", "<=", 0.2),
    ("sequential read, memofs / btfs", "memofs.sequential_mbs", "btfs.sequential_mbs", ">=", 5.0),
    ("sequential read memofs / native libtorrent download", "memofs.sequential_mbs", "native.download_mbs", ">=", 0.9),
    ("libtorrent from memofs / from libtorrent", "seed.memofs_to_lt_mbs", "native.download_mbs", ">=", 1.0),
    ("finished shared/ file, mount / disk", "memofs.finished_shared_mount_mbs", "memofs.finished_shared_disk_mbs", ">=", 0.8),
    ("finished local/ file, mount / disk", "memofs.finished_local_mount_mbs", "memofs.finished_local_disk_mbs", ">=", 0.8),
    ("hashing one core, memofs / openssl", "hash.memofs_mbs", "hash.openssl_mbs", ">=", 0.9),
    ("add → listed, memofs / btfs", "memofs.listed_s", "btfs.listed_s", None, None),
    ("ffprobe, memofs / btfs", "memofs.ffprobe_s", "btfs.ffprobe_s", None, None),
    ("add WebM → ffprobe done, memofs / btfs", "memofs.webm_to_ffprobe_s", "btfs.webm_to_ffprobe_s", None, None),
    ("sequential read, memofs / native, add → whole file", "memofs.add_to_read_mbs", "native.download_mbs", None, None),
    ("CPU for the whole file, memofs read / native download", "memofs.sequential_cpu_s", "native.download_cpu_s", None, None),
    ("on disk after reads, memofs / btfs", "memofs.fetched_pct", "btfs.fetched_pct", None, None),
    ("random read median, memofs / bare client (seeder's floor)", "memofs.random_median_ms", "wire.random_median_ms", None, None),
    ("random read median, floor / btfs", "wire.random_median_ms", "btfs.random_median_ms", None, None),
    ("random read median, memofs / bare client asking for blocks", "memofs.random_median_ms", "wire2.random_median_ms", None, None),
]

# Absolute bars: (name, key, relation, limit).
ABSOLUTE = [
    ("ls -l local with {count} recordings < 1 s", "scale.ls_s", "<", 1.0),
    ("daemon RSS with {count} recordings < 150 MB", "scale.rss_mb", "<", 150.0),
    ("idle CPU near 0 (< 1 % of a core), {count} recordings", "scale.idle_cpu_pct", "<", 1.0),
]


def report(bench, path):
    fig = bench.figures
    lines = []
    lines.append("memofs vs btfs vs native libtorrent, %d MiB file (%d pieces of %d KiB) + %d-byte WebM, %d rounds, loopback"
                 % (bench.args.size, bench.meta.get("pieces", 0), bench.meta.get("piece_length", 0) // 1024,
                    bench.meta.get("webm_bytes", 0), bench.args.rounds))
    lines.append("%-8s %-56s %30s" % ("system", "figure", "min / median / max"))
    seen = set()
    for key, fmt in ROWS:
        if key in seen or key not in fig.values:
            continue
        seen.add(key)
        meta, summary = fig.meta[key], fig.summary(key)
        text = " / ".join(fmt % summary[part] for part in ("min", "median", "max"))
        lines.append("%-8s %-56s %30s" % (meta["system"], meta["label"][:56], text))
    lines.append("clocks: memofs from the write to shared/.add (mount already up); btfs from starting btfs with the magnet;")
    lines.append("native from add_torrent. sequential MB/s: open → EOF in a fresh torrent (after it is listed).")
    lines.append("scale rows (except the copy): per round after unmounting and mounting again; idle after %.0f s, over %.0f s."
                 % (bench.args.idle_settle, bench.args.idle_seconds))
    lines.append("")
    lines.append("ratios of medians (same run) and bars:")
    ratios, bars = [], []
    for name, top, bottom, relation, goal in RATIOS:
        a, b = fig.median(top), fig.median(bottom)
        ratio = a / b if a is not None and b else None
        met = None if ratio is None or relation is None else (ratio <= goal if relation == "<=" else ratio >= goal)
        ratios.append({"name": name, "numerator": top, "denominator": bottom, "ratio": ratio,
                       "goal": None if goal is None else "%s %s" % (relation, goal), "met": met})
        goal_text = "" if goal is None else "goal %s %.1fx" % (relation, goal)
        verdict = "" if goal is None else ("MET" if met else "n/a" if met is None else "MISSED")
        lines.append("  %-52s %8s  %-14s %s" % (name, "n/a" if ratio is None else "%.3fx" % ratio, goal_text, verdict))
        if goal is not None:
            bars.append(ratios[-1])
    for name, key, relation, limit in ABSOLUTE:
        name = name.format(count="{:,}".format(bench.args.scale_count))
        value = fig.median(key)
        met = None if value is None else value < limit
        bars.append({"name": name, "key": key, "value": value, "goal": "%s %s" % (relation, limit), "met": met})
        lines.append("  %-52s %8s  %-14s %s" % (name, "n/a" if value is None else "%.3f" % value, "goal %s %g" % (relation, limit),
                                                 "MET" if met else "n/a" if met is None else "MISSED"))
    met_count = sum(1 for bar in bars if bar["met"])
    lines.append("bars met: %d of %d" % (met_count, len(bars)))
    if bench.notes:
        lines.append("notes:")
        lines.extend("  - " + note for note in bench.notes)
    if LOG_LINES:
        lines.append("distinct warnings and errors in the daemons' logs (first of each kind):")
        lines.extend("  " + text for text in LOG_LINES.values())
    print("\n".join(lines))
    sys.stdout.flush()
    document = {
        "meta": bench.meta,
        "figures": {key: dict(fig.meta[key], values=values, **fig.summary(key)) for key, values in fig.values.items()},
        "ratios": ratios,
        "bars": bars,
        "notes": bench.notes,
        "log_lines": list(LOG_LINES.values()),
        "table": lines,
    }
    with open(path, "w") as handle:
        json.dump(document, handle, indent=2, ensure_ascii=False)
        handle.write("\n")
    log("wrote " + path)


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
