"""The mounts under test (memofs, btfs), their cleanup, the warnings in their logs, and
btfs's installation without Debian's `fuse` package."""
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

from .common import BenchError, log
from .processes import CHILDREN, pid_alive, quiet, run

BTFS_PREFIX = "/opt/btfs"


def mounted(mountpoint):
    with open("/proc/self/mounts") as handle:
        for line in handle:
            fields = line.split()
            if len(fields) > 1 and fields[1] == mountpoint:
                return True
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
