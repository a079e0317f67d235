import Foundation
@testable import MemoFS
import Engine
import PeerHarness
import TestSupport
import Testing
import TorrentModel

/// `memofs status` as users read it: whether memofs runs, why a torrent does not move,
/// which `.add` lines were bad; and `shared/` dates that stay put across mounts.
@Suite(.serialized) struct StatusTests {
    func status(_ mount: MountedMemofs, _ extra: [String] = []) async throws -> CommandResult {
        try await run([memofsExecutable, "status", "--data", mount.dataFolder] + extra, timeout: 10)
    }

    func add(_ text: String, to mount: MountedMemofs) async throws -> CommandResult {
        try await run(["/bin/sh", "-c", "printf '%s\\n' \"$1\" > \"$2\"", "sh", text, mount.shared + "/.add"], timeout: 10)
    }

    /// Every clean stop (the user's `umount`, SIGTERM, Ctrl-C's SIGINT) unmounts, ends the
    /// daemon with status 0 and leaves the report marked stopped.
    @Test func afterUnmountSIGTERMOrSIGINTStatusSaysNotRunning() async throws {
        let folder = try TemporaryFolder()
        let mount = try await MountedMemofs(mountpoint: folder.path + "/mnt", dataFolder: folder.path + "/data")
        defer { mount.stop() }
        let pid = mount.daemon!.process.processIdentifier
        try await eventually("the running report") { try await status(mount).text.contains("memofs is running (pid \(pid))") }

        #expect(try await run(["/bin/umount", mount.mountpoint], timeout: 10).status == 0)
        try await eventually("the daemon's exit", timeout: 15) { mount.daemon?.process.isRunning == false }
        #expect(mount.daemon?.process.terminationStatus == 0, "\(mount.daemonLog.suffix(2000))")
        #expect(mount.daemonLog.contains("unmounted \(mount.mountpoint)"))
        let afterUmount = try await status(mount)
        #expect(afterUmount.status == 3)
        #expect(afterUmount.text.contains("memofs is not running (stopped at "), "\(afterUmount.text)")
        #expect(!afterUmount.text.contains("peers on port"), "the stale report is printed as live: \(afterUmount.text)")

        for signalNumber in [SIGTERM, SIGINT] {
            try await mount.start()
            try await eventually("the new daemon's report") { try await status(mount).status == 0 }
            #expect(mount.stop(signal: signalNumber) == 0, "signal \(signalNumber): \(mount.daemonLog.suffix(2000))")
            // The daemon unmounted by itself (stop() would clean up after it otherwise).
            #expect(mount.daemonLog.contains("unmounting \(mount.mountpoint)") && mount.daemonLog.contains("unmounted \(mount.mountpoint)"),
                    "signal \(signalNumber): \(mount.daemonLog.suffix(2000))")
            let afterSignal = try await status(mount)
            #expect(afterSignal.status == 3)
            #expect(afterSignal.text.contains("memofs is not running (stopped at "), "signal \(signalNumber): \(afterSignal.text)")
        }
    }

    @Test func afterACrashStatusSaysNotRunning() async throws {
        let folder = try TemporaryFolder()
        let mount = try await MountedMemofs(mountpoint: folder.path + "/mnt", dataFolder: folder.path + "/data")
        defer { mount.stop() }
        try await eventually("the running report") { try await status(mount).text.contains("memofs is running") }
        mount.crash()
        let result = try await status(mount)
        #expect(result.status == 3)
        #expect(result.text.contains("memofs is not running: it ended without a clean stop"), "\(result.text)")
        #expect(!result.text.contains("is running"))
    }

    @Test func aMagnetWithNoWayToFindPeersSaysSo() async throws {
        let folder = try TemporaryFolder()
        let mount = try await MountedMemofs(mountpoint: folder.path + "/mnt", dataFolder: folder.path + "/data", extra: ["--no-dht"])
        defer { mount.stop() }
        let hash = String(repeating: "cd", count: 20)
        #expect(try await add("magnet:?xt=urn:btih:\(hash)&dn=lonely.webm", to: mount).status == 0)
        var text = ""
        try await eventually("no way to find peers") {
            text = try await status(mount).text
            return text.contains("lonely.webm") && text.contains("no way to find peers")
        }
        #expect(text.contains("x.pe="), "the way out is named: \(text)")
        #expect(text.contains("--no-dht"), "\(text)")
        #expect(text.contains("DHT: off"))
    }

    /// A torrent with a seeder that nobody reads is idle, not "downloading" at 0 kB/s; the
    /// seeder is listed by `--peers`; reading the file makes it download.
    @Test func aTorrentNobodyReadsIsIdleAndPeersListsItsSeeder() async throws {
        let folder = try TemporaryFolder()
        let seeded = try await seedWithLibtorrent(folder, name: "talk.bin", count: 4 << 20, seed: 31, pieceLength: 256 << 10)
        defer { seeded.seeder.stop() }
        let mount = try await MountedMemofs(mountpoint: folder.path + "/mnt", dataFolder: folder.path + "/data")
        defer { mount.stop() }
        #expect(try await add(seeded.magnet.uri, to: mount).status == 0)
        try await eventually("talk.bin in shared/") { try await run(["/bin/ls", mount.shared], timeout: 10).text.contains("talk.bin") }
        var text = ""
        try await eventually("idle with the seeder connected") {
            text = try await status(mount).text
            return text.contains("talk.bin (4.0 MiB) idle, 1 peer ")
        }
        #expect(text.contains("nobody reads it"), "\(text)")
        #expect(!text.contains("downloading"), "\(text)")

        let seeder = seeded.magnet.peers[0].description
        let peers = try await status(mount, ["--peers"]).text
        #expect(peers.contains("peer \(seeder) from magnet"), "\(peers)")
        #expect(peers.contains("has 100.0%"), "\(peers)")
        let json = try await status(mount, ["--json"]).text
        #expect(json.contains("\"connected_peers\""), "\(json)")
        #expect(json.contains("\"peer_choking\""), "\(json)")

        // Reading it: the bytes come, and the torrent is no longer idle while they do.
        let read = try await run(["/usr/bin/cmp", folder.path + "/seed/talk.bin", mount.shared + "/talk.bin"], timeout: 60)
        #expect(read.status == 0, "\(read.text) \(read.errors)")
        try await eventually("complete") { try await status(mount).text.contains("talk.bin (4.0 MiB) complete") }
    }

    /// The share is wanted and the only peer that has it chokes us for good: the state says
    /// so instead of "downloading".
    @Test func aTorrentEveryPeerChokesSaysChoked() async throws {
        let folder = try TemporaryFolder()
        try folder.write("seed/held.bin", count: 1 << 20, seed: 33)
        let metainfo = try TorrentCreator.createBlocking(from: folder.path + "/seed/held.bin", options: .init(pieceLength: 64 << 10))
        let torrentPath = folder.path + "/held.torrent"
        try Data(metainfo.encoded()).write(to: URL(fileURLWithPath: torrentPath))
        let peer = try ChildProcess("/usr/bin/python3", [supportFolder + "/hostile_peer.py", "--torrent", torrentPath,
                                                        "--mode", "never-unchoke", "--listen", "127.0.0.3:0"], label: "choking peer")
        defer { peer.stop() }
        let port = try await peer.waitForEvent("ready", timeout: 30)["port"] as? Int ?? 0
        let mount = try await MountedMemofs(mountpoint: folder.path + "/mnt", dataFolder: folder.path + "/data", extra: ["--no-dht"])
        defer { mount.stop() }
        #expect(try await run(["/bin/cp", torrentPath, mount.shared + "/held.torrent"], timeout: 10).status == 0)
        var magnet = MagnetLink(infoHash: metainfo.infoHash)
        magnet.peers = [PeerAddress("127.0.0.3:\(port)")!]
        #expect(try await add(magnet.uri, to: mount).status == 0)
        try await eventually("held.bin in shared/") { FileManager.default.fileExists(atPath: mount.shared + "/held.bin") }
        // Wanted whole (pinned), not read: no read is left waiting on a peer that never sends.
        #expect(try await run([memofsExecutable, "pin", mount.shared + "/held.bin"], timeout: 10).status == 0)
        var text = ""
        try await eventually("choked", timeout: 10) {
            text = try await status(mount).text
            return text.contains("held.bin (1.0 MiB) choked")
        }
        #expect(text.contains("is choking us"), "\(text)")
    }

    @Test func aFailingTrackerShowsItsErrorWithItsURL() async throws {
        let folder = try TemporaryFolder()
        let mount = try await MountedMemofs(mountpoint: folder.path + "/mnt", dataFolder: folder.path + "/data", extra: ["--no-dht"])
        defer { mount.stop() }
        let tracker = "http://127.0.0.1:1/announce"
        let hash = String(repeating: "ef", count: 20)
        let magnet = "magnet:?xt=urn:btih:\(hash)&dn=tracked.ogg&tr=" + tracker.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        #expect(try await add(magnet, to: mount).status == 0)
        var text = ""
        try await eventually("the tracker's error") {
            text = try await status(mount).text
            return text.contains("tracker error: \(tracker): ")
        }
        #expect(text.contains("could not connect: Connection refused"), "\(text)")
        // A tracker is a way to find peers, even while it fails.
        #expect(text.contains("tracked.ogg (0 KiB) waiting for metadata"), "\(text)")
        #expect(text.contains("trying the tracker"), "\(text)")
    }

    /// Each bad line of `.add` is named by its own number, whether the lines come in one
    /// write or one write each; good lines are added all the same.
    @Test func addErrorsNameTheirOwnLines() async throws {
        let folder = try TemporaryFolder()
        let mount = try await MountedMemofs(mountpoint: folder.path + "/mnt", dataFolder: folder.path + "/data")
        defer { mount.stop() }
        let good = "magnet:?xt=urn:btih:" + String(repeating: "12", count: 20)
        let writer = """
            import os, sys
            fd = os.open(sys.argv[1], os.O_WRONLY)
            lines = [sys.argv[2] + "\\n", "magnet:?xt=urn:btih:first-bad\\n", "magnet:?xt=urn:btih:second-bad\\n"]
            chunks = lines if sys.argv[3] == "each" else ["".join(lines)]
            for chunk in chunks:
                try:
                    os.write(fd, chunk.encode())
                    print("ok")
                except OSError as e:
                    print(e.errno)
            os.close(fd)
            """
        let once = try await run(["/usr/bin/python3", "-c", writer, mount.shared + "/.add", good, "once"], timeout: 10)
        #expect(once.text.split(separator: "\n") == ["\(EINVAL)"])
        var text = ""
        // The report is written within a second.
        try await eventually("the errors in the status") { text = try await status(mount).text; return text.contains("-bad") }
        #expect(text.contains("line 2: ") && text.contains("first-bad"), "\(text)")
        #expect(text.contains("line 3: ") && text.contains("second-bad"), "\(text)")

        let each = try await run(["/usr/bin/python3", "-c", writer, mount.shared + "/.add", good, "each"], timeout: 10)
        #expect(each.text.split(separator: "\n") == ["ok", "\(EINVAL)", "\(EINVAL)"])
        try await eventually("four errors in the status") {
            text = try await status(mount).text
            return text.split(separator: "\n").filter { $0.contains("-bad") }.count == 4
        }
        let errors = text.split(separator: "\n").filter { $0.contains("-bad") }
        #expect(errors.count == 4, "two writes, two bad lines each: \(text)")
        #expect(errors.suffix(2).first?.contains("line 2: ") == true && errors.last?.contains("line 3: ") == true, "\(text)")
        #expect(!text.contains("line 1:"), "\(text)")
        // The good first line was added both times.
        #expect(try await status(mount, ["--json"]).text.contains(String(repeating: "12", count: 20)))
    }

    @Test func sharedDatesStayTheSameAcrossMounts() async throws {
        let folder = try TemporaryFolder()
        try folder.write("seed/undated.ogg", count: 30_000, seed: 5)
        try folder.write("seed/dated/a.ogg", count: 30_000, seed: 6)
        var undated = try TorrentCreator.createBlocking(from: folder.path + "/seed/undated.ogg")
        undated.creationDate = nil
        let dated = try TorrentCreator.createBlocking(from: folder.path + "/seed/dated", options: .init(creationDate: 1_700_000_000))
        try Data(undated.encoded()).write(to: URL(fileURLWithPath: folder.path + "/undated.torrent"))
        try Data(dated.encoded()).write(to: URL(fileURLWithPath: folder.path + "/dated.torrent"))

        let mount = try await MountedMemofs(mountpoint: folder.path + "/mnt", dataFolder: folder.path + "/data")
        defer { mount.stop() }
        for name in ["undated.torrent", "dated.torrent"] {
            #expect(try await run(["/bin/cp", folder.path + "/" + name, mount.shared + "/"], timeout: 10).status == 0)
        }
        let paths = ["undated.ogg", "dated", "dated/a.ogg"].map { mount.shared + "/" + $0 }
        func mtimes() async throws -> [String] {
            try await run(["/usr/bin/stat", "-c", "%Y"] + paths, timeout: 10).text.split(separator: "\n").map(String.init)
        }
        var before: [String] = []
        try await eventually("both torrents in shared/") { before = try await mtimes(); return before.count == 3 }
        #expect(before[1] == "1700000000" && before[2] == "1700000000", "\(before)")
        #expect(mount.stop() == 0)
        try await Task.sleep(for: .milliseconds(1100))  // a later mount has a later second
        try await mount.start()
        #expect(try await mtimes() == before)
    }
}

/// The pure parts: what a shared torrent's facts say it is doing, ETAs, whether the daemon
/// runs, and how `.add` text is cut into numbered lines.
struct StatusLogicTests {
    func facts(_ change: (inout ShareFacts) -> Void) -> ShareFacts {
        var facts = ShareFacts()
        facts.dhtEnabled = true
        facts.missingWantedBytes = 1 << 20
        facts.peers = 2
        facts.interestingPeers = 2
        change(&facts)
        return facts
    }

    @Test func whyNothingMoves() {
        #expect(ShareActivity.assess(facts { _ in }).state == "downloading")
        let full = StorageFault(reason: "x: No space left on device", diskFull: true, availableBytes: 0)
        #expect(ShareActivity.assess(facts { $0.complete = true; $0.storageFault = full }).state == "complete")
        #expect(ShareActivity.assess(facts { $0.storageFault = full }).state == "disk full")
        let broken = StorageFault(reason: "x: Input/output error", diskFull: false, availableBytes: nil)
        #expect(ShareActivity.assess(facts { $0.storageFault = broken }).state == "storage error")
        let lonely = ShareActivity.assess(facts { $0.peers = 0; $0.dhtEnabled = false; $0.hasMetadata = false })
        #expect(lonely.state == "no way to find peers")
        #expect(lonely.reason?.contains("x.pe=") == true)
        // Any way at all (a tracker, LSD, a known address) is not "no way".
        #expect(ShareActivity.assess(facts { $0.peers = 0; $0.dhtEnabled = false; $0.trackers = 1 }).state == "looking for peers")
        #expect(ShareActivity.assess(facts { $0.peers = 0; $0.dhtEnabled = false; $0.knownAddresses = 1 }).reason
                == "no peer connected; trying 1 known address")
        #expect(ShareActivity.assess(facts { $0.peers = 0; $0.hasMetadata = false }).state == "waiting for metadata")
        // Refused metadata wins over everything, a way to find peers or not.
        let failed = ShareActivity.assess(facts { $0.peers = 0; $0.dhtEnabled = false; $0.hasMetadata = false; $0.failure = "unsafe" })
        #expect(failed.state == "failed" && failed.reason?.contains("rm") == true)
        // Nothing wanted: idle, with or without peers; open but not read is idle too.
        #expect(ShareActivity.assess(facts { $0.missingWantedBytes = 0 }).state == "idle")
        #expect(ShareActivity.assess(facts { $0.missingWantedBytes = 0; $0.peers = 0 }).state == "idle")
        #expect(ShareActivity.assess(facts { $0.missingWantedBytes = 0; $0.openReaders = 1 }).reason?.hasPrefix("open") == true)
        // A read waiting makes it want data even before its pieces are counted.
        #expect(ShareActivity.assess(facts { $0.missingWantedBytes = 0; $0.waitingReads = 1 }).state == "downloading")
        #expect(ShareActivity.assess(facts { $0.interestingPeers = 0 }).state == "waiting for peers")
        #expect(ShareActivity.assess(facts { $0.peersChokingUs = 2 }).state == "choked")
        #expect(ShareActivity.assess(facts { $0.peersChokingUs = 1 }).state == "downloading")
    }

    @Test func etas() {
        #expect(StatusText.eta(remaining: 0, rate: 1e6) == nil)
        #expect(StatusText.eta(remaining: 1 << 20, rate: 0) == nil)
        #expect(StatusText.eta(remaining: 1 << 20, rate: 0.5) == nil)
        #expect(StatusText.eta(remaining: 1_000_000, rate: 1e6) == "1 s")
        #expect(StatusText.eta(remaining: 1_000_001, rate: 1e6) == "2 s")
        #expect(StatusText.eta(remaining: 200_000_000, rate: 1e6) == "3 min 20 s")
        #expect(StatusText.duration(2 * 3600 + 5 * 60 + 9) == "2 h 5 min")
        #expect(StatusText.duration(3 * 86400 + 4 * 3600) == "3 d 4 h")
    }

    func report(_ json: String) throws -> StatusReport {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(StatusReport.self, from: Data(json.utf8))
    }

    @Test func whetherTheDaemonRuns() throws {
        let running = try report(#"{"updated": 1000, "peer_port": 1, "items": [], "pid": 42, "process_start": 7}"#)
        #expect(DaemonState.of(running, touched: 1005, now: 1006) { _, _ in true } == .running(pid: 42))
        #expect(DaemonState.of(running, touched: 1005, now: 1030) { _, _ in true } == .silent(pid: 42, seconds: 25))
        #expect(DaemonState.of(running, touched: 1005, now: 1006) { pid, start in pid == 42 && start == 8 } == .ended(lastReport: 1005))
        let stopped = try report(#"{"updated": 1000, "peer_port": 1, "items": [], "pid": 42, "stopped_at": 1001}"#)
        #expect(DaemonState.of(stopped, touched: 1001, now: 1002) { _, _ in true } == .stopped(at: 1001))
        let lines = StatusText.lines(stopped, daemon: .stopped(at: 1001), now: 1002)
        #expect(lines.first?.hasPrefix("memofs is not running (stopped at ") == true)
        // A report of an older memofs names no process: only its age tells.
        let old = try report(#"{"updated": 1000, "peer_port": 1, "items": []}"#)
        #expect(DaemonState.of(old, touched: 1000, now: 1005) { _, _ in false } == .running(pid: nil))
        // This process is there; a made-up start time is not it.
        #expect(DaemonProcess.exists(getpid(), start: DaemonProcess.ownStartTicks))
        #expect(!DaemonProcess.exists(getpid(), start: (DaemonProcess.ownStartTicks ?? 0) + 1))
    }

    /// A daemon that ended but was not reaped yet (a zombie) is not running; once reaped,
    /// its pid is gone (ESRCH).
    @Test func anEndedProcessIsNotRunning() async throws {
        var pid: pid_t = 0
        let arguments = [strdup("/bin/true"), nil]
        defer { arguments.forEach { free($0) } }
        #expect(posix_spawn(&pid, "/bin/true", nil, nil, arguments, environ) == 0)
        let start = DaemonProcess.startTicks(of: pid)
        // Another part of the test process may reap it first (a waitpid(-1) of a process
        // monitor), and the pid may then be taken by a new process: both are "ended" too.
        try await eventually("the child has ended", timeout: 10) {
            guard let stat = DaemonProcess.procStat(pid) else { return true }
            return stat.state == "Z" || DaemonProcess.startTicks(of: pid) != start
        }
        #expect(!DaemonProcess.exists(pid, start: start))
        var status: Int32 = 0
        let reaped = waitpid(pid, &status, 0)
        #expect(reaped == pid || (reaped == -1 && errno == ECHILD))
        #expect(!DaemonProcess.exists(pid, start: start))
    }

    @Test func addLinesAreNumberedAcrossWrites() {
        var input = AddInput()
        #expect(input.take(Array("magnet:a\nmag".utf8)) == [AddLine(number: 1, text: "magnet:a")])
        #expect(input.take(Array("net:b\n".utf8)) == [AddLine(number: 2, text: "magnet:b")])
        #expect(input.take(Array("\nmagnet:c".utf8)) == [AddLine(number: 3, text: "")])
        #expect(input.finish() == [AddLine(number: 4, text: "magnet:c")])
        let request = AddRequest(lines: [AddLine(number: 1, text: "# note"), AddLine(number: 2, text: "magnet:?xt=urn:btih:bad"),
                                         AddLine(number: 3, text: " magnet:?xt=urn:btih:\(String(repeating: "ab", count: 20)) ")])
        #expect(request.magnets.map(\.line) == [3])
        #expect(request.problems.count == 1 && request.problems[0].hasPrefix("line 2: "))
    }
}
