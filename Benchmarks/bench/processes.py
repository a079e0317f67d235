"""Processes this benchmark starts: every one recorded so cleanup ends exactly those (by
PID), runs with timeouts, JSON-speaking helpers, probes of a mount in a child process,
and /proc readings of a daemon's CPU and memory."""
import json
import os
import select
import subprocess
import time

from . import common
from .common import PYTHON, BenchError, log


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
    result = run([PYTHON, common.ENTRY, "_probe", json.dumps(op)], timeout=timeout)
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
