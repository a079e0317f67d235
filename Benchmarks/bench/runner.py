"""The benchmark itself: content, tracker and seeder, then each system's rounds."""
import os
import shutil
import statistics
import time

from .common import ENTRY, PYTHON, SEEDER_IP, BenchError, log
from .figures import Figures, du, percentile, status_items
from .mounts import BtfsMount, MemofsMount
from .peers import Tracker, make_torrent, warm_page_cache, write_random
from .processes import JsonChild, proc_cpu_ticks, proc_rss_kib, probe, run


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

        self.seeder = JsonChild([PYTHON, ENTRY, "_seed", "--torrent", self.bench_torrent, "--torrent", self.webm_torrent,
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
        child = JsonChild([PYTHON, ENTRY, "_download", "--magnet", magnet, "--dir", folder, "--listen", listen,
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
