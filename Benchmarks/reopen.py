#!/usr/bin/python3
"""Whole-file reads through memofs after a close and a reopen, from five seeders (issue 13).

    /usr/bin/python3 Benchmarks/reopen.py --memofs .build/release/memofs [--rounds 3] [--size 64]
        [--pause 2] [--client rtorrent …] [--json reopen-results.json]
    mount-scripts/bench reopen [--rounds 3] …        (builds the release memofs first)

Why: memofs sent `not_interested` as soon as no reader had a file open; a seeder without
the fast extension (rtorrent) then chokes, and unchokes only in its 30 s cycle, so every
reopen of a half-read file stalled about 30 s. This measures that, per seeder.

What it does (as root; stdlib plus Debian's python3-libtorrent, run with /usr/bin/python3):

- Network: it re-executes itself under `unshare --net` (then `ip link set lo up`), so every
  seeder and mount lives in a private network namespace whose only interface is loopback.
  Each seeder listens on its own loopback address (rtorrent 127.0.0.11, Transmission .12,
  qBittorrent .13, aria2 .14, libtorrent .15) on a fresh port; DHT, LSD, PEX, UPnP/NAT-PMP
  and uTP are off wherever the client lets them be turned off.
- Content: a SIZE MiB file of random bytes (`bench.bin`) as a v1-only torrent with 256 KiB
  pieces and no tracker, made with libtorrent's bindings.
- Per client, per round, two tests, each with a fresh seeder (its own folder holding the
  complete file; each client checks the file and then seeds it, see `Seeder` and its
  subclasses), ready when a bare peer-wire handshake (from 127.0.0.9) gets a complete
  bitfield (or have_all) back, and a fresh memofs mount with a fresh data folder:
  `memofs mount MNT --data DATA --listen 127.0.0.1 --port 0 --no-dht --no-lsd`; the
  `.torrent` is copied into `MNT/shared/` (so memofs never needs the metadata from the
  seeder, and every client is measured on the same metainfo), and once `shared/bench.bin`
  is listed a magnet with the same info hash and `x.pe=` the seeder is written to
  `shared/.add`, which gives the torrent its one peer (memofs dials the seeder).
  * whole: read the whole file in 1 MiB reads (open → close), wait --pause seconds,
    reopen and read it all again.
  * part: read the first --head MiB (default 8), close, wait --pause seconds, reopen and
    read the rest (the case that stalled: pieces are still missing when no reader has the
    file open).
  Each pass reports its seconds (open → close) and its longest single read; every pass runs
  in a child process with a timeout (--read-timeout, default 120 s) and its bytes are
  checked against the original's SHA-1. `part` also notes how much of the file was on disk
  in memofs's data folder just before the reopen.
- Report: min / median / max over the rounds for each client and figure, what each seeder's
  handshake said (fast extension, ut_metadata, its client name), the seeder's check time,
  and notes; the same as JSON (--json).

What the seeders needed, and what they do (seen here, 2026-12-07):
- rtorrent 0.9.8: headless with `system.daemon.set = true`; refuses a torrent with no
  tracker, so it gets a copy with a dead `announce`; no fast extension (BEP 6): after
  memofs's `not_interested` it chokes, and unchokes only in its 30 s cycle.
- Transmission 3.00 (transmission-cli; no transmission-daemon here): checks a new
  torrent's files by itself (`-v` checked them again while memofs connected); sends
  nothing for about 10.7 s after a peer connects (it unchokes only in its rechoke, every
  10 s); says `reqq` 512 but rejects the 512th pending request and sends that reject up to
  10 s late (memofs now keeps at most reqq - 1 in flight); takes no connection
  from an address for about 30 s after a peer from there went away (hence the probes'
  own address and a seeder per test).
- qBittorrent 4.5.2: legal notice accepted in its config, everything else through the
  WebUI API; aria2 1.36: `--check-integrity` then seeds; libtorrent: checks, then seeds.
- All five answer ut_metadata (BEP 9); this script does not rely on it.

Cleanup on every exit path (also on failure, Ctrl-C and SIGTERM): each mount is unmounted
(`fusermount3 -u`, then `-uz`; then the daemon is ended by PID if still there), every process
this script started is ended by PID, and the scratch folder is removed.
"""
import argparse
import hashlib
import json
import os
import random
import select
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

SCRIPT = os.path.abspath(__file__)
REPO = os.path.dirname(os.path.dirname(SCRIPT))

# What this script shares with compare.py (Benchmarks/bench): logging, the processes it
# starts and ends by PID, mount checks, the private network namespace, content helpers.
sys.path.insert(0, os.path.dirname(SCRIPT))
from bench import common  # noqa: E402
common.use_entry(SCRIPT, "reopen")
from bench.common import PYTHON, BenchError, log, say  # noqa: E402
from bench.figures import du  # noqa: E402
from bench.mounts import MemofsMount, mounted  # noqa: E402
from bench.mounts import cleanup as unmount_all_and_end_children  # noqa: E402
from bench.namespace import NETNS_FLAG, enter_netns, in_private_netns  # noqa: E402
from bench.peers import write_random  # noqa: E402
from bench.processes import CHILDREN, run  # noqa: E402
CLIENTS = ["rtorrent", "transmission", "qbittorrent", "aria2", "libtorrent"]
CLIENT_IP = {"rtorrent": "127.0.0.11", "transmission": "127.0.0.12", "qbittorrent": "127.0.0.13",
             "aria2": "127.0.0.14", "libtorrent": "127.0.0.15"}
PROBE_IP = "127.0.0.9"  # where the readiness handshakes come from (memofs is on 127.0.0.1)
PIECE_LENGTH = 256 * 1024
READ_SIZE = 1 << 20
FILE_NAME = "bench.bin"


# ---------------------------------------------------------------------------------------
# Helpers that run as child processes: the libtorrent seeder, and the passes that touch a
# mount (so a hung mount never hangs this script).

def helper_lt_seed(argv):
    """Seeds one .torrent from --dir with libtorrent until stdin closes. The file is checked
    first (no seed_mode: in it libtorrent hashes each piece on its first request, which the
    other seeders do not; this way every seeder has checked its file before memofs comes)."""
    import libtorrent as lt
    parser = argparse.ArgumentParser(prog="reopen.py _lt_seed")
    parser.add_argument("--torrent", required=True)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--listen", required=True)
    args = parser.parse_args(argv)
    sys.path.append(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "Tests", "Support"))
    from lt_settings import confined_settings
    settings = confined_settings(args.listen, "reopen.py")
    settings["alert_mask"] = lt.alert.category_t.error_notification  # every alert below is reported as an error
    session = lt.session(settings)
    params = lt.add_torrent_params()
    params.ti = lt.torrent_info(args.torrent)
    params.save_path = args.dir
    params.flags &= ~lt.torrent_flags.auto_managed
    params.flags &= ~lt.torrent_flags.paused
    session.add_torrent(params)
    while True:
        readable, _, _ = select.select([sys.stdin], [], [], 0.5)
        if readable and not sys.stdin.readline():
            break
        for alert in session.pop_alerts():
            say(event="error", message=alert.message())


def helper_add(argv):
    """Copies the .torrent into shared/, waits until the file is listed, then writes the
    magnet naming the seeder (x.pe) to shared/.add."""
    op = json.loads(argv[0])
    shared = op["shared"]
    started = time.monotonic()
    shutil.copyfile(op["torrent"], os.path.join(shared, os.path.basename(op["torrent"])))
    deadline = started + op["timeout"]
    while op["name"] not in os.listdir(shared):
        if time.monotonic() > deadline:
            say(error="%s not listed in shared/ within %s s of copying the .torrent" % (op["name"], op["timeout"]))
            return
        time.sleep(0.005)
    listed = time.monotonic() - started
    with open(os.path.join(shared, ".add"), "w") as handle:
        handle.write(op["magnet"] + "\n")
    say(listed=listed)


def helper_pass(argv):
    """One pass over a file of the mount: open, seek to `offset`, read `length` bytes (or to
    the end) in 1 MiB reads, close. Reports seconds (open → close), the longest and the
    first read, and the SHA-1 of the bytes (hashed after the clock stopped)."""
    op = json.loads(argv[0])
    chunks, durations = [], []
    started = time.monotonic()
    fd = os.open(op["path"], os.O_RDONLY)
    try:
        if op["offset"]:
            os.lseek(fd, op["offset"], os.SEEK_SET)
        remaining = op.get("length")
        while remaining is None or remaining > 0:
            want = READ_SIZE if remaining is None else min(READ_SIZE, remaining)
            began = time.monotonic()
            chunk = os.read(fd, want)
            durations.append(time.monotonic() - began)
            if not chunk:
                break
            chunks.append(chunk)
            if remaining is not None:
                remaining -= len(chunk)
    finally:
        os.close(fd)
    seconds = time.monotonic() - started
    digest = hashlib.sha1()
    for chunk in chunks:
        digest.update(chunk)
    say(seconds=seconds, longest=max(durations) if durations else 0.0, first=durations[0] if durations else 0.0,
        reads=len(durations), bytes=sum(len(chunk) for chunk in chunks), sha1=digest.hexdigest())


# ---------------------------------------------------------------------------------------
# Processes and mounts this script started.

def probe(kind, op, timeout):
    """Runs one helper (`_add`, `_pass`) in a child process; returns its JSON answer."""
    result = run([PYTHON, SCRIPT, kind, json.dumps(op)], timeout=timeout)
    lines = [line for line in result.stdout.decode(errors="replace").splitlines() if line.strip()]
    if result.returncode != 0 or not lines:
        raise BenchError("%s failed (%d): %s" % (kind, result.returncode, result.stderr.decode(errors="replace")[-800:]))
    answer = json.loads(lines[-1])
    if "error" in answer:
        raise BenchError("%s: %s" % (kind, answer["error"]))
    return answer


def cleanup():
    """The mounts and every process this script started (bench.mounts.cleanup), the seeders first."""
    for seeder in list(SEEDERS):
        try:
            seeder.stop()
        except Exception as error:  # keep cleaning up
            log("cleanup of the %s seeder: %s" % (seeder.name, error))
    unmount_all_and_end_children()


# ---------------------------------------------------------------------------------------
# Peer wire: is a seeder ready, and what does its handshake say.

def wire_look(host, port, info_hash, pieces, timeout=3.0):
    """A bare peer-wire handshake (extension protocol and fast extension bits set). Returns
    what the seeder announced: how many pieces it has (None if it closed or said nothing in
    time), whether it set the fast bit, whether its extension handshake names ut_metadata,
    and its client name (`v`)."""
    found = {"pieces": None, "fast": None, "ut_metadata": None, "client": None}
    try:
        # From an address of its own: Transmission 3.00 would not take memofs's connection
        # from 127.0.0.1 for about 30 s after a probe from 127.0.0.1 had come and gone.
        sock = socket.create_connection((host, port), timeout=timeout, source_address=(PROBE_IP, 0))
    except OSError:
        return found
    try:
        sock.settimeout(timeout)
        reserved = bytearray(8)
        reserved[5] |= 0x10  # BEP 10 extension protocol
        reserved[7] |= 0x04  # BEP 6 fast extension
        sock.sendall(b"\x13BitTorrent protocol" + bytes(reserved) + bytes.fromhex(info_hash) + b"-RO0001-" + os.urandom(12))
        buffered = bytearray()
        deadline = time.monotonic() + timeout

        def take(count):
            while len(buffered) < count:
                if time.monotonic() > deadline:
                    raise socket.timeout()
                data = sock.recv(65536)
                if not data:
                    raise ConnectionError("closed")
                buffered.extend(data)
            out = bytes(buffered[:count])
            del buffered[:count]
            return out

        handshake = take(68)
        found["fast"] = bool(handshake[27] & 0x04)
        extensions = bool(handshake[25] & 0x10)
        if extensions:
            sock.sendall(struct.pack(">IBB", 2 + len(b"d1:md11:ut_metadatai3eee"), 20, 0) + b"d1:md11:ut_metadatai3eee")
        while found["pieces"] is None or (extensions and found["client"] is None and time.monotonic() < deadline):
            length = struct.unpack(">I", take(4))[0]
            body = take(length) if length else b""
            if not body:
                continue
            kind, payload = body[0], body[1:]
            if kind == 5:  # bitfield
                found["pieces"] = min(pieces, sum(bin(byte).count("1") for byte in payload))
            elif kind == 14:  # have_all
                found["pieces"] = pieces
            elif kind == 15:  # have_none
                found["pieces"] = 0
            elif kind == 20 and payload[:1] == b"\0":  # extension handshake
                found["ut_metadata"] = b"11:ut_metadata" in payload
                marker = payload.find(b"1:v")
                if marker >= 0:
                    rest = payload[marker + 3:]
                    colon = rest.find(b":")
                    if colon > 0 and rest[:colon].isdigit():
                        found["client"] = rest[colon + 1:colon + 1 + int(rest[:colon])].decode(errors="replace")
                if found["client"] is None:
                    found["client"] = "?"
    except (OSError, ValueError, struct.error):
        pass
    finally:
        sock.close()
    return found


# ---------------------------------------------------------------------------------------
# Seeders: each client seeds the complete file from a folder of its own, headless.

SEEDERS = []


def free_port():
    return random.randint(20000, 45000)


class Seeder:
    """A seeding client: start() launches it on ADDRESS:PORT with the complete file in
    `folder`, ready() waits until a handshake shows the whole bitfield, stop() ends it by PID."""

    name = None

    def __init__(self, work, content_file, torrent, info_hash, pieces):
        self.work = work
        self.folder = os.path.join(work, "data")
        os.makedirs(self.folder)
        os.link(content_file, os.path.join(self.folder, FILE_NAME))
        self.torrent, self.info_hash, self.pieces = torrent, info_hash, pieces
        self.host = CLIENT_IP[self.name]
        self.port = free_port()
        self.process = None
        self.log_path = os.path.join(work, "client.log")
        self.log_file = None
        self.handshake = {}

    def launch(self, arguments, env=None):
        self.log_file = open(self.log_path, "ab")
        full_env = dict(os.environ, HOME=self.work)
        full_env.update(env or {})
        self.process = CHILDREN.start(arguments, stdin=subprocess.PIPE, stdout=self.log_file, stderr=subprocess.STDOUT,
                                      env=full_env, cwd=self.work)
        SEEDERS.append(self)

    def start(self):
        raise NotImplementedError

    def ready(self, timeout):
        """Seconds from start until a handshake shows every piece."""
        started = time.monotonic()
        while True:
            if self.process is not None and self.process.poll() is not None:
                raise BenchError("%s exited (%d) before seeding: %s" % (self.name, self.process.returncode, self.log_tail()))
            look = wire_look(self.host, self.port, self.info_hash, self.pieces)
            if look["pieces"] == self.pieces:
                self.handshake = look
                return time.monotonic() - started
            if time.monotonic() - started > timeout:
                raise BenchError("%s does not seed all %d pieces within %s s (last look: %s): %s"
                                 % (self.name, self.pieces, timeout, look, self.log_tail()))
            time.sleep(0.25)

    def log_tail(self):
        try:
            with open(self.log_path, "rb") as handle:
                return handle.read()[-1200:].decode(errors="replace")
        except OSError:
            return ""

    def stop(self):
        if self.process is not None:
            try:
                self.process.stdin.close()
            except OSError:
                pass
            CHILDREN.stop(self.process, timeout=15)
        if self.log_file:
            self.log_file.close()
            self.log_file = None
        if self in SEEDERS:
            SEEDERS.remove(self)


class RtorrentSeeder(Seeder):
    """rtorrent 0.9.8 headless: `-n` (no ~/.rtorrent.rc) and `-o import=FILE`, a config with
    `system.daemon.set = true` (no curses, no terminal), its bind address and one port, DHT,
    PEX and UDP trackers off, the folder as default directory, its events logged to a file;
    the torrent is given on the command line (started at once): it hashes the existing file,
    then seeds. rtorrent refuses a torrent without trackers ("Could not create download:
    Could not find any trackers"), so it gets a copy with an `announce` URL where nothing
    listens (outside the info dictionary: the info hash is the same)."""

    name = "rtorrent"

    def start(self):
        import libtorrent as lt
        with open(self.torrent, "rb") as handle:
            metainfo = lt.bdecode(handle.read())
        metainfo[b"announce"] = b"http://127.0.0.1:9/announce"
        self.torrent = os.path.join(self.work, FILE_NAME + ".torrent")
        with open(self.torrent, "wb") as handle:
            handle.write(lt.bencode(metainfo))
        if str(lt.torrent_info(self.torrent).info_hashes().v1) != self.info_hash:
            raise BenchError("rtorrent's copy of the torrent has another info hash")
        session = os.path.join(self.work, "session")
        os.makedirs(session)
        config = os.path.join(self.work, "rtorrent.rc")
        with open(config, "w") as handle:
            handle.write("\n".join([
                "directory.default.set = " + self.folder,
                "session.path.set = " + session,
                "network.bind_address.set = " + self.host,
                "network.port_range.set = %d-%d" % (self.port, self.port),
                "network.port_random.set = no",
                "dht.mode.set = disable",
                "protocol.pex.set = no",
                "trackers.use_udp.set = no",
                "system.daemon.set = true",
                'log.open_file = "rtorrent", "%s"' % os.path.join(self.work, "rtorrent-events.log"),
                'log.add_output = "info", "rtorrent"',
                "trackers.numwant.set = 0",
                ""]))
        self.launch(["rtorrent", "-n", "-o", "import=" + config, self.torrent])


class TransmissionSeeder(Seeder):
    """transmission-cli 3.00 (Debian has no transmission-daemon installed here): `-g` a config
    folder whose settings.json binds it to its address and turns DHT, LPD, PEX, uTP, port
    mapping, the ratio limit and RPC off; `-w` the folder with the file, `-v` to verify it
    first; it seeds until ended."""

    name = "transmission"

    def start(self):
        config = os.path.join(self.work, "config")
        os.makedirs(config)
        settings = {
            "bind-address-ipv4": self.host, "peer-port": self.port, "peer-port-random-on-start": False,
            "dht-enabled": False, "lpd-enabled": False, "pex-enabled": False, "utp-enabled": False,
            "port-forwarding-enabled": False, "ratio-limit-enabled": False, "idle-seeding-limit-enabled": False,
            "speed-limit-up-enabled": False, "speed-limit-down-enabled": False, "rpc-enabled": False,
            "encryption": 0, "blocklist-enabled": False, "download-dir": self.folder, "message-level": 2,
        }
        with open(os.path.join(config, "settings.json"), "w") as handle:
            json.dump(settings, handle, indent=1)
        self.launch(["transmission-cli", "-g", config, "-w", self.folder, "-p", str(self.port), "-M", "-U", "-D",
                     "-et", self.torrent])


class QbittorrentSeeder(Seeder):
    """qbittorrent-nox 4.5.2: a profile folder whose qBittorrent.conf accepts the legal
    notice (`[LegalNotice] Accepted=true`; 4.5 has no --confirm-legal-notice) and opens the
    WebUI on 127.0.0.1:WEBPORT without login for localhost; then, through the WebUI API,
    app/setPreferences (DHT, LSD, PEX, UPnP/NAT-PMP, uTP, queueing and ratio limits off; its
    address and port) and torrents/add with the folder as save path (checked, not skipped)."""

    name = "qbittorrent"

    def start(self):
        self.webui_port = free_port()
        while self.webui_port == self.port:
            self.webui_port = free_port()
        profile = os.path.join(self.work, "profile")
        config = os.path.join(profile, "qBittorrent", "config")
        os.makedirs(config)
        with open(os.path.join(config, "qBittorrent.conf"), "w") as handle:
            handle.write("\n".join([
                "[LegalNotice]", "Accepted=true", "",
                "[BitTorrent]",
                "Session\\DHTEnabled=false", "Session\\LSDEnabled=false", "Session\\PeXEnabled=false",
                "Session\\Port=%d" % self.port, "Session\\InterfaceAddress=" + self.host,
                "Session\\BTProtocol=TCP", "Session\\QueueingSystemEnabled=false", "Session\\GlobalMaxRatio=-1",
                "Session\\AnonymousModeEnabled=false", "",
                "[Network]", "PortForwardingEnabled=false", "",
                "[Preferences]",
                "WebUI\\Enabled=true", "WebUI\\Address=127.0.0.1", "WebUI\\Port=%d" % self.webui_port,
                "WebUI\\LocalHostAuth=false", "WebUI\\HostHeaderValidation=false", "WebUI\\CSRFProtection=false",
                "WebUI\\UseUPnP=false", "General\\Locale=en", ""]))
        self.launch(["qbittorrent-nox", "--profile=" + profile, "--webui-port=%d" % self.webui_port])
        self.api_wait()
        preferences = {
            "dht": False, "lsd": False, "pex": False, "upnp": False, "listen_port": self.port,
            "current_interface_address": self.host, "bittorrent_protocol": 1, "queueing_enabled": False,
            "max_ratio_enabled": False, "max_seeding_time_enabled": False, "anonymous_mode": False,
            "random_port": False, "up_limit": 0, "dl_limit": 0,
        }
        self.api("app/setPreferences", fields={"json": json.dumps(preferences)})
        with open(self.torrent, "rb") as handle:
            torrent = handle.read()
        answer = self.api("torrents/add", fields={"savepath": self.folder, "skip_checking": "false", "paused": "false",
                                                  "root_folder": "false", "contentLayout": "NoSubfolder"},
                          files={"torrents": (os.path.basename(self.torrent), torrent)})
        if "Ok" not in answer:
            raise BenchError("qBittorrent refused the torrent: %r" % answer)

    def api(self, path, fields=None, files=None, timeout=10):
        url = "http://127.0.0.1:%d/api/v2/%s" % (self.webui_port, path)
        headers = {"Referer": "http://127.0.0.1:%d" % self.webui_port}
        body = None
        if files:
            boundary = "reopen%016x" % random.getrandbits(64)
            parts = []
            for key, value in (fields or {}).items():
                parts.append(("--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n"
                              % (boundary, key, value)).encode())
            for key, (filename, data) in files.items():
                parts.append(("--%s\r\nContent-Disposition: form-data; name=\"%s\"; filename=\"%s\"\r\n"
                              "Content-Type: application/x-bittorrent\r\n\r\n" % (boundary, key, filename)).encode() + data + b"\r\n")
            parts.append(("--%s--\r\n" % boundary).encode())
            body = b"".join(parts)
            headers["Content-Type"] = "multipart/form-data; boundary=" + boundary
        elif fields is not None:
            body = urllib.parse.urlencode(fields).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        request = urllib.request.Request(url, data=body, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.read().decode(errors="replace")
        except urllib.error.HTTPError as error:
            raise BenchError("qBittorrent WebUI %s: HTTP %d %s" % (path, error.code, error.read()[:300]))

    def api_wait(self, timeout=60):
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise BenchError("qbittorrent-nox exited (%d): %s" % (self.process.returncode, self.log_tail()))
            try:
                self.version = self.api("app/version", timeout=2)
                return
            except (OSError, BenchError):
                if time.monotonic() > deadline:
                    raise BenchError("qBittorrent's WebUI did not answer within %s s: %s" % (timeout, self.log_tail()))
                time.sleep(0.2)


class Aria2Seeder(Seeder):
    """aria2c 1.36: `--check-integrity` hashes the existing file, `--bt-hash-check-seed` (its
    default) seeds it when complete, `--seed-ratio=0.0` seeds without end; DHT, LPD, PEX off,
    bound to its address (`--interface`) and port, no RPC, no console output."""

    name = "aria2"

    def start(self):
        self.launch(["aria2c", "--dir=" + self.folder, "--check-integrity=true", "--bt-hash-check-seed=true",
                     "--seed-ratio=0.0", "--enable-dht=false", "--enable-dht6=false", "--bt-enable-lpd=false",
                     "--enable-peer-exchange=false", "--listen-port=%d" % self.port, "--interface=" + self.host,
                     "--disable-ipv6=true", "--enable-rpc=false", "--summary-interval=0", "--console-log-level=warn",
                     "--file-allocation=none", "--auto-save-interval=0", "--bt-max-open-files=10",
                     "--follow-torrent=false", "--bt-tracker-connect-timeout=1", self.torrent])


class LibtorrentSeeder(Seeder):
    """libtorrent 2.0.8 through its Python bindings, in a child process of this script
    (`_lt_seed`): DHT, LSD, UPnP, NAT-PMP and uTP off; it checks the file, then seeds."""

    name = "libtorrent"

    def start(self):
        self.launch([PYTHON, SCRIPT, "_lt_seed", "--torrent", self.torrent, "--dir", self.folder,
                     "--listen", "%s:%d" % (self.host, self.port)])


SEEDER_CLASSES = {cls.name: cls for cls in (RtorrentSeeder, TransmissionSeeder, QbittorrentSeeder, Aria2Seeder,
                                            LibtorrentSeeder)}


# ---------------------------------------------------------------------------------------
# Content.

def make_torrent(path):
    """A v1-only torrent of `path` with 256 KiB pieces and no tracker."""
    import libtorrent as lt
    storage = lt.file_storage()
    lt.add_files(storage, path)
    creator = lt.create_torrent(storage, PIECE_LENGTH, lt.create_torrent.v1_only)
    creator.set_creator("memofs Benchmarks/reopen.py")
    lt.set_piece_hashes(creator, os.path.dirname(path))
    torrent_path = os.path.join(os.path.dirname(os.path.dirname(path)), FILE_NAME + ".torrent")
    with open(torrent_path, "wb") as handle:
        handle.write(lt.bencode(creator.generate()))
    info = lt.torrent_info(torrent_path)
    return torrent_path, str(info.info_hashes().v1), info.num_pieces()


def range_sha1(path, offset, length):
    digest = hashlib.sha1()
    with open(path, "rb") as handle:
        handle.seek(offset)
        remaining = length
        while remaining:
            chunk = handle.read(min(remaining, 4 << 20))
            if not chunk:
                break
            digest.update(chunk)
            remaining -= len(chunk)
    return digest.hexdigest()


FIGURES = [
    # (key, label, format)
    ("seeder.ready_s", "seeder start → seeding (its check) (s)", "%.2f"),
    ("whole.first_s", "whole file, first read (s)", "%.2f"),
    ("whole.first_longest_s", "  longest 1 MiB read (s)", "%.3f"),
    ("whole.reopen_s", "whole file, after close + reopen (s)", "%.2f"),
    ("whole.reopen_longest_s", "  longest 1 MiB read (s)", "%.3f"),
    ("part.head_s", "first {head} MiB, then close (s)", "%.2f"),
    ("part.on_disk_mib", "  on disk at the reopen (MiB)", "%.1f"),
    ("part.rest_s", "reopen, rest of the file (s)", "%.2f"),
    ("part.rest_first_s", "  its first 1 MiB read (s)", "%.3f"),
    ("part.rest_longest_s", "  longest 1 MiB read (s)", "%.3f"),
]


class Bench:
    def __init__(self, args, work):
        self.args, self.work = args, work
        self.size = args.size << 20
        self.head = min(args.head << 20, self.size)
        self.values = {}  # client -> key -> [values]
        self.handshakes = {}
        self.notes = []

    def note(self, text):
        log(text)
        self.notes.append(text)

    def add(self, client, key, value):
        self.values.setdefault(client, {}).setdefault(key, []).append(value)

    def setup(self):
        content = os.path.join(self.work, "content")
        os.makedirs(content)
        self.content_file = os.path.join(content, FILE_NAME)
        log("writing a %d MiB file and its torrent" % self.args.size)
        write_random(self.content_file, self.size, 2026)
        self.torrent, self.info_hash, self.pieces = make_torrent(self.content_file)
        self.sha_whole = range_sha1(self.content_file, 0, self.size)
        self.sha_head = range_sha1(self.content_file, 0, self.head)
        self.sha_rest = range_sha1(self.content_file, self.head, self.size - self.head)
        log("%s: %d pieces of %d KiB, info hash %s" % (FILE_NAME, self.pieces, PIECE_LENGTH // 1024, self.info_hash))

    def fresh(self, name):
        path = os.path.join(self.work, name)
        shutil.rmtree(path, ignore_errors=True)
        return path

    def read_pass(self, path, offset, length, expected, label):
        answer = probe("_pass", {"path": path, "offset": offset, "length": length}, timeout=self.args.read_timeout)
        want = (self.size - offset) if length is None else length
        if answer["bytes"] != want:
            raise BenchError("%s: read %d bytes, expected %d" % (label, answer["bytes"], want))
        if answer["sha1"] != expected:
            raise BenchError("%s: the bytes read differ from the original (SHA-1 %s, expected %s)"
                             % (label, answer["sha1"], expected))
        return answer

    def mount_with_torrent(self, client, seeder, tag):
        mnt, data = self.fresh("mnt-" + tag), self.fresh("memofs-" + tag)
        mount = MemofsMount(self.args.memofs, mnt, data, trackers=[]).start()
        magnet = "magnet:?xt=urn:btih:%s&dn=%s&x.pe=%s:%d" % (self.info_hash, FILE_NAME, seeder.host, seeder.port)
        probe("_add", {"shared": mount.shared, "torrent": self.torrent, "name": FILE_NAME, "magnet": magnet,
                       "timeout": 30}, timeout=60)
        return mount

    def drop(self, mount):
        mount.stop()
        shutil.rmtree(mount.mountpoint, ignore_errors=True)
        if self.args.keep_logs:
            log_file = os.path.join(mount.data, "memofs.log")
            if os.path.exists(log_file):
                shutil.copy(log_file, os.path.join(self.args.keep_logs, os.path.basename(mount.data) + ".log"))
        shutil.rmtree(mount.data, ignore_errors=True)

    def whole(self, client, seeder, round_):
        mount = self.mount_with_torrent(client, seeder, "%s-%d-whole" % (client, round_))
        try:
            path = os.path.join(mount.shared, FILE_NAME)
            first = self.read_pass(path, 0, None, self.sha_whole, "whole, first read")
            time.sleep(self.args.pause)
            again = self.read_pass(path, 0, None, self.sha_whole, "whole, reopen")
        finally:
            self.drop(mount)
        self.add(client, "whole.first_s", first["seconds"])
        self.add(client, "whole.first_longest_s", first["longest"])
        self.add(client, "whole.reopen_s", again["seconds"])
        self.add(client, "whole.reopen_longest_s", again["longest"])
        log("%s round %d whole: first %.2f s (longest read %.3f s), reopen %.2f s (longest %.3f s)"
            % (client, round_, first["seconds"], first["longest"], again["seconds"], again["longest"]))

    def part(self, client, seeder, round_):
        mount = self.mount_with_torrent(client, seeder, "%s-%d-part" % (client, round_))
        try:
            path = os.path.join(mount.shared, FILE_NAME)
            head = self.read_pass(path, 0, self.head, self.sha_head, "part, first %d MiB" % self.args.head)
            time.sleep(self.args.pause)
            on_disk = du(mount.data + "/torrents") / float(1 << 20) if os.path.isdir(mount.data + "/torrents") else du(mount.data) / float(1 << 20)
            rest = self.read_pass(path, self.head, None, self.sha_rest, "part, rest after reopen")
        finally:
            self.drop(mount)
        if on_disk * (1 << 20) >= self.size:
            self.note("%s round %d part: the whole file was on disk before the reopen (readahead after the first "
                      "%d MiB): nothing was left to stall on; use a larger --size" % (client, round_, self.args.head))
        self.add(client, "part.head_s", head["seconds"])
        self.add(client, "part.on_disk_mib", on_disk)
        self.add(client, "part.rest_s", rest["seconds"])
        self.add(client, "part.rest_first_s", rest["first"])
        self.add(client, "part.rest_longest_s", rest["longest"])
        log("%s round %d part: head %.2f s, %.1f MiB on disk at reopen, rest %.2f s (first read %.3f s, longest %.3f s)"
            % (client, round_, head["seconds"], on_disk, rest["seconds"], rest["first"], rest["longest"]))

    def round(self, client, round_):
        """Each test against a seeder of its own: Transmission 3.00 takes no new connection
        from an address for about 30 s after a peer from there went away (as when the
        previous test's mount was unmounted), which is not what this measures."""
        for test in (self.whole, self.part):
            try:
                self.with_seeder(client, round_, test)
            except BenchError as error:
                self.note("%s round %d %s failed: %s" % (client, round_, test.__name__, error))

    def with_seeder(self, client, round_, test):
        folder = self.fresh("seeder-%s-%d-%s" % (client, round_, test.__name__))
        os.makedirs(folder)
        seeder = SEEDER_CLASSES[client](folder, self.content_file, self.torrent, self.info_hash, self.pieces)
        try:
            seeder.start()
            ready = seeder.ready(self.args.seed_timeout)
            self.add(client, "seeder.ready_s", ready)
            self.handshakes[client] = seeder.handshake
            log("%s round %d %s: seeding on %s:%d after %.2f s (%s)"
                % (client, round_, test.__name__, seeder.host, seeder.port, ready, seeder.handshake))
            test(client, seeder, round_)
            if seeder.process.poll() is not None:
                raise BenchError("the %s seeder exited (%d) during the test: %s"
                                 % (client, seeder.process.returncode, seeder.log_tail()))
        finally:
            seeder.stop()
            shutil.rmtree(folder, ignore_errors=True)

    def run(self):
        self.setup()
        for round_ in range(1, self.args.rounds + 1):
            for client in self.args.client:
                log("=== %s, round %d of %d ===" % (client, round_, self.args.rounds))
                try:
                    self.round(client, round_)
                except BenchError as error:
                    self.note("%s round %d failed: %s" % (client, round_, error))


def summary(values):
    return {"min": min(values), "median": statistics.median(values), "max": max(values), "values": values}


def report(bench, path):
    args = bench.args
    lines = ["memofs reads after close + reopen, %d MiB v1 file (%d pieces of 256 KiB), %d rounds, pause %g s, loopback"
             % (args.size, bench.pieces, args.rounds, args.pause),
             "memofs: %s" % args.memofs,
             "%-13s %-40s %26s" % ("seeder", "figure", "min / median / max")]
    for client in args.client:
        figures = bench.values.get(client, {})
        for key, label, fmt in FIGURES:
            values = figures.get(key)
            if not values:
                continue
            s = summary(values)
            text = " / ".join(fmt % s[part] for part in ("min", "median", "max"))
            lines.append("%-13s %-40s %26s" % (client, label.format(head=args.head), text))
    lines.append("seeders' handshakes (fast extension, ut_metadata, client):")
    for client in args.client:
        look = bench.handshakes.get(client)
        if look:
            lines.append("  %-12s fast=%s ut_metadata=%s client=%s" % (client, look["fast"], look["ut_metadata"], look["client"]))
    if bench.notes:
        lines.append("notes:")
        lines.extend("  - " + note for note in bench.notes)
    print("\n".join(lines))
    sys.stdout.flush()
    if path:
        document = {
            "meta": {"size_mib": args.size, "head_mib": args.head, "pause_s": args.pause, "rounds": args.rounds,
                     "piece_length": PIECE_LENGTH, "pieces": bench.pieces, "info_hash": bench.info_hash,
                     "memofs": args.memofs, "clients": args.client},
            "figures": {client: {key: summary(values) for key, values in figures.items()}
                        for client, figures in bench.values.items()},
            "handshakes": bench.handshakes,
            "notes": bench.notes,
            "table": lines,
        }
        with open(path, "w") as handle:
            json.dump(document, handle, indent=2, ensure_ascii=False)
            handle.write("\n")
        log("wrote " + path)


# ---------------------------------------------------------------------------------------
# The namespace and main.

TOOLS = {"rtorrent": "rtorrent", "transmission": "transmission-cli", "qbittorrent": "qbittorrent-nox", "aria2": "aria2c"}


def main():
    helpers = {"_lt_seed": helper_lt_seed, "_add": helper_add, "_pass": helper_pass}
    if len(sys.argv) > 1 and sys.argv[1] in helpers:
        helpers[sys.argv[1]](sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description="memofs whole-file reads after close + reopen, from five seeders, on loopback.")
    parser.add_argument("--memofs", required=True, help="the memofs binary to measure (a release build)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--size", type=int, default=64, help="MiB of the file (default 64)")
    parser.add_argument("--head", type=int, default=8, help="MiB the partial first pass reads (default 8)")
    parser.add_argument("--pause", type=float, default=2.0, help="seconds between close and reopen (default 2)")
    parser.add_argument("--client", action="append", choices=CLIENTS,
                        help="a seeder to measure (repeatable; default: all five)")
    parser.add_argument("--read-timeout", type=float, default=120.0, help="seconds one pass may take (default 120)")
    parser.add_argument("--seed-timeout", type=float, default=120.0, help="seconds a seeder may take to check and seed")
    parser.add_argument("--json", default=None, help="also write the results as JSON to this file")
    parser.add_argument("--keep-logs", default=None, help="copy each mount's memofs.log into this folder")
    parser.add_argument("--work", default=None, help="scratch folder (default: a new one under /tmp, removed at the end)")
    args = parser.parse_args()
    args.client = args.client or list(CLIENTS)
    args.memofs = os.path.abspath(args.memofs)
    args.json = os.path.abspath(args.json) if args.json else None
    if args.keep_logs:
        args.keep_logs = os.path.abspath(args.keep_logs)
        os.makedirs(args.keep_logs, exist_ok=True)
    if os.geteuid() != 0:
        raise SystemExit("reopen.py runs as root (network namespace, FUSE mounts)")
    if not os.access(args.memofs, os.X_OK):
        raise SystemExit("missing %s (build it: swift build -c release --product memofs, or pass --memofs)" % args.memofs)
    for tool in ["unshare", "ip", "fusermount3"] + [TOOLS[c] for c in args.client if c in TOOLS]:
        if not shutil.which(tool):
            raise SystemExit("missing %s (apt-get install -y --no-install-recommends rtorrent transmission-cli "
                             "qbittorrent-nox aria2 python3-libtorrent)" % tool)
    if args.head >= args.size:
        raise SystemExit("--head (%d MiB) must be less than --size (%d MiB)" % (args.head, args.size))
    help_text = subprocess.run([args.memofs, "mount", "--help"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               timeout=30).stdout.decode(errors="replace")
    for flag in ("--no-dht", "--no-lsd"):
        if flag not in help_text:
            raise SystemExit("%s mount has no %s: this benchmark keeps discovery off" % (args.memofs, flag))

    if not os.environ.get(NETNS_FLAG):
        enter_netns()
    if not in_private_netns():
        raise SystemExit("not inside a private network namespace")
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True, timeout=30)

    work = args.work or tempfile.mkdtemp(prefix="memofs-reopen-", dir="/tmp")
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
