import Foundation
import PeerHarness
import TestSupport
import Testing
import TorrentModel

/// The product as users touch it: a real FUSE mount served by a `memofs` daemon (a child
/// process), real peers on loopback, every read through the kernel and bounded in time.
@Suite(.serialized) struct MountTests {
    func cat(_ path: String, timeout: TimeInterval = 30) async throws -> CommandResult {
        try await run(["/bin/cat", path], timeout: timeout)
    }

    @Test func aRecordingCopiedInIsSharedAndLibtorrentDownloadsIt() async throws {
        let folder = try TemporaryFolder()
        try await makeWebM(at: folder.path + "/memo.webm")
        let tracker = "http://127.0.0.1:9/announce"
        let mount = try await MountedMemofs(mountpoint: folder.path + "/mnt", dataFolder: folder.path + "/data",
                                            extra: ["--tracker", tracker])
        defer { mount.stop() }

        #expect(try await run(["/bin/cp", folder.path + "/memo.webm", mount.local + "/"], timeout: 30).status == 0)
        var magnet = ""
        try await eventually("the sidecar") {
            let result = try await cat(mount.local + "/memo.webm.magnet", timeout: 10)
            magnet = result.text
            return result.status == 0 && magnet.hasPrefix("magnet:?")
        }
        #expect(magnet.hasSuffix("\n"))
        let link = try MagnetLink(parsing: magnet)
        #expect(link.displayName == "memo.webm")
        #expect(!link.peers.isEmpty)
        #expect(link.trackers == [tracker])
        // The sidecar is read-only.
        #expect(try await run(["/bin/sh", "-c", "echo x > '\(mount.local)/memo.webm.magnet'"], timeout: 10).status != 0)
        // xattrs tell the same.
        let attributes = try await run(["/usr/bin/getfattr", "-d", "-m", "user.memofs", mount.local + "/memo.webm"], timeout: 10).text
        #expect(attributes.contains(link.infoHash.hex))

        let (leecher, _) = try await startLibtorrent("download", magnet: magnet.trimmingCharacters(in: .whitespacesAndNewlines),
                                                     folder: folder.path + "/lt")
        defer { leecher.stop() }
        _ = try await leecher.waitForEvent("done", timeout: 60)
        #expect(try await run(["/usr/bin/cmp", folder.path + "/memo.webm", folder.path + "/lt/memo.webm"], timeout: 30).status == 0)
    }

    @Test func sharedFilesStreamSeekAndNeverServeUnverifiedBytes() async throws {
        let folder = try TemporaryFolder()
        try await makeWebM(at: folder.path + "/seed/talk.webm", seconds: 20)
        let random = try folder.write("seed/random.bin", count: 64 << 20, seed: 123)
        var magnets: [String] = []
        for name in ["talk.webm", "random.bin"] {
            let metainfo = try TorrentCreator.createBlocking(from: folder.path + "/seed/" + name,
                                                             options: .init(pieceLength: name == "random.bin" ? 256 << 10 : nil))
            try Data(metainfo.encoded()).write(to: URL(fileURLWithPath: folder.path + "/\(name).torrent"))
            magnets.append(metainfo.infoHash.hex)
        }
        var seeders: [ChildProcess] = []
        defer { seeders.forEach { $0.stop() } }
        var lines: [String] = []
        for (index, name) in ["talk.webm", "random.bin"].enumerated() {
            let (seeder, port) = try await startLibtorrent("seed", torrent: folder.path + "/\(name).torrent",
                                                           folder: folder.path + "/seed", listen: "127.0.0.\(2 + index):0")
            seeders.append(seeder)
            lines.append("magnet:?xt=urn:btih:\(magnets[index])&dn=\(name)&x.pe=127.0.0.\(2 + index):\(port)")
        }
        let mount = try await MountedMemofs(mountpoint: folder.path + "/mnt", dataFolder: folder.path + "/data")
        defer { mount.stop() }
        let add = try await run(["/bin/sh", "-c", "cat > '\(mount.shared)/.add'"], timeout: 10,
                          input: Data((lines.joined(separator: "\n") + "\n").utf8))
        #expect(add.status == 0, "\(add.errors)")

        try await eventually("both files listed with their sizes") {
            let listing = try await run(["/bin/ls", "-l", mount.shared], timeout: 10).text
            return listing.contains("talk.webm") && listing.contains(" \(64 << 20) ")
        }
        // ffprobe reads the WebM through the mount.
        let probe = try await run(["/usr/bin/ffprobe", "-v", "error", "-show_entries", "format=format_name,duration",
                             mount.shared + "/talk.webm"], timeout: 60)
        #expect(probe.status == 0, "\(probe.errors)")
        #expect(probe.text.contains("matroska,webm"))

        // 64 KiB reads at random offsets, the last block first, each checked byte for byte.
        var offsets = [(64 << 20) - 65536]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<12 { offsets.append(Int.random(in: 0..<((64 << 20) / 65536), using: &generator) * 65536) }
        for offset in offsets {
            let read = try await run(["/bin/dd", "if=\(mount.shared)/random.bin", "bs=65536", "skip=\(offset / 65536)", "count=1",
                                "status=none"], timeout: 30)
            #expect(read.status == 0)
            #expect(Array(read.output) == Array(random[offset..<(offset + 65536)]), "at offset \(offset)")
        }
        // Random reads alone did not pull the whole file: st_blocks tells how much is there.
        let blocks = try await run(["/usr/bin/stat", "-c", "%b", mount.shared + "/random.bin"], timeout: 10).text
        let present = (Int(blocks.trimmingCharacters(in: .whitespacesAndNewlines)) ?? .max) * 512
        #expect(present < (64 << 20) / 2, "\(present) bytes present after 13 random reads")

        // Whole files through the mount match the originals.
        for name in ["talk.webm", "random.bin"] {
            let compare = try await run(["/usr/bin/cmp", folder.path + "/seed/" + name, mount.shared + "/" + name], timeout: 120)
            #expect(compare.status == 0, "\(name): \(compare.text) \(compare.errors)")
        }
    }

    /// A multi-file hybrid torrent (v1+v2, libtorrent's default, with BEP 47 padding
    /// files between its files): its files are listed without the padding, and seeks
    /// through the mount, served from blocks checked against the v2 merkle trees, give
    /// the original bytes.
    @Test func aHybridTorrentsFilesSeekThroughTheMount() async throws {
        let folder = try TemporaryFolder()
        let sizes = [("album/a.webm", 3_000_001), ("album/b.bin", 1_500_000), ("album/c.txt", 5000)]
        var contents: [String: [UInt8]] = [:]
        for (index, (path, size)) in sizes.enumerated() {
            contents[path] = try folder.write("seed/" + path, count: size, seed: UInt64(40 + index))
        }
        let torrentPath = folder.path + "/album.torrent"
        let (seeder, port) = try await startLibtorrent("seed", torrent: torrentPath, folder: folder.path + "/seed",
                                                       extra: ["--make-hybrid", "album", "--piece-length", "\(64 << 10)"])
        defer { seeder.stop() }
        let metainfo = try Metainfo(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: torrentPath))))
        #expect(metainfo.info.files.contains { $0.isPadding })
        var magnet = MagnetLink(metainfo: metainfo)
        magnet.peers = [PeerAddress("127.0.0.2:\(port)")!]

        let mount = try await MountedMemofs(mountpoint: folder.path + "/mnt", dataFolder: folder.path + "/data")
        defer { mount.stop() }
        let add = try await run(["/bin/sh", "-c", "cat > '\(mount.shared)/.add'"], timeout: 10, input: Data((magnet.uri + "\n").utf8))
        #expect(add.status == 0, "\(add.errors)")
        try await eventually("the album listed") {
            try await run(["/bin/ls", "-l", mount.shared + "/album"], timeout: 10).text.contains("c.txt")
        }
        let names = try await run(["/bin/ls", "-A", mount.shared + "/album"], timeout: 10).text
        #expect(names.split(separator: "\n") == ["a.webm", "b.bin", "c.txt"])

        // Seeks in each file, aligned and not, each checked byte for byte.
        let reads: [(String, Int, Int)] = [("album/a.webm", 65536, 17), ("album/a.webm", 40000, 61), ("album/b.bin", 65536, 20),
                                           ("album/b.bin", 40000, 37), ("album/c.txt", 1000, 3), ("album/a.webm", 65536, 45)]
        for (path, size, skip) in reads {
            let read = try await run(["/bin/dd", "if=\(mount.shared)/\(path)", "bs=\(size)", "skip=\(skip)", "count=1", "status=none"],
                                     timeout: 30)
            #expect(read.status == 0, "\(read.errors)")
            let expected = contents[path]![(size * skip)..<min(size * (skip + 1), contents[path]!.count)]
            #expect(Array(read.output) == Array(expected), "\(path) at \(size * skip)")
        }
        for (path, _) in sizes {
            let compare = try await run(["/usr/bin/cmp", folder.path + "/seed/" + path, mount.shared + "/" + path], timeout: 60)
            #expect(compare.status == 0, "\(path): \(compare.text) \(compare.errors)")
        }
    }

    /// A read on a torrent nobody seeds blocks; Ctrl-C ends it at once, and with
    /// --read-timeout it fails with EIO.
    @Test func aBlockedReadEndsOnInterruptAndTimesOut() async throws {
        let folder = try TemporaryFolder()
        try folder.write("nobody/lonely.ogg", count: 2 << 20)
        let metainfo = try TorrentCreator.createBlocking(from: folder.path + "/nobody/lonely.ogg")
        let torrentFile = folder.path + "/lonely.torrent"
        try Data(metainfo.encoded()).write(to: URL(fileURLWithPath: torrentFile))

        let mount = try await MountedMemofs(mountpoint: folder.path + "/mnt", dataFolder: folder.path + "/data")
        defer { mount.stop() }
        // Dropping a .torrent into shared/ adds it.
        #expect(try await run(["/bin/cp", torrentFile, mount.shared + "/"], timeout: 10).status == 0)
        try await eventually("the dropped torrent's file") {
            try await run(["/bin/ls", mount.shared], timeout: 10).text.contains("lonely.ogg")
        }
        // cat as a terminal runs it: SIGINT at its default action and not blocked (the test
        // runner's children inherit its signal mask).
        let reader = try ChildProcess("/usr/bin/python3", ["-c", """
            import os, signal, sys
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGINT])
            os.execv("/bin/cat", ["cat", sys.argv[1]])
            """, mount.shared + "/lonely.ogg"], label: "cat")
        defer { reader.kill9() }
        // Interrupt only once cat waits inside its read (a slow start under load is not the
        // interrupt's fault): the kernel shows that wait as request_wait_answer.
        let pid = reader.process.processIdentifier
        try await eventually("cat blocked in its read", timeout: 20) {
            let wchan = (try? String(contentsOfFile: "/proc/\(pid)/wchan", encoding: .utf8)) ?? ""
            let command = (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8)) ?? ""
            return command.hasPrefix("cat") && wchan.contains("request_wait_answer")
        }
        #expect(reader.process.isRunning)
        let interrupted = Date()
        kill(reader.process.processIdentifier, SIGINT)
        let deadline = Date().addingTimeInterval(5)
        while reader.process.isRunning && Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(!reader.process.isRunning, "cat still blocked after SIGINT")
        #expect(Date().timeIntervalSince(interrupted) < 2)
        #expect(mount.stop() == 0)

        let timed = try await MountedMemofs(mountpoint: folder.path + "/mnt2", dataFolder: folder.path + "/data",
                                            extra: ["--read-timeout", "1.5"])
        defer { timed.stop() }
        let failed = try await run(["/bin/cat", timed.shared + "/lonely.ogg"], timeout: 20)
        #expect(failed.status != 0)
        #expect(failed.errors.contains("Input/output error"), "\(failed.errors)")
        #expect(failed.seconds >= 1.4 && failed.seconds < 10)
    }

    @Test func aBadMagnetFailsWithEINVALAndAGoodOneInTheSameWriteIsAdded() async throws {
        let folder = try TemporaryFolder()
        let mount = try await MountedMemofs(mountpoint: folder.path + "/mnt", dataFolder: folder.path + "/data")
        defer { mount.stop() }
        let good = String(repeating: "ab", count: 20)
        let text = "magnet:?xt=urn:btih:not-a-hash\nmagnet:?xt=urn:btih:\(good)&dn=later\n"
            + "magnet:?xt=urn:btih:\(String(repeating: "cd", count: 20))&tr=file:///etc/passwd\n"
        let write = try await run(["/usr/bin/python3", "-c", """
            import os, sys
            fd = os.open(sys.argv[1], os.O_WRONLY)
            try:
                os.write(fd, sys.stdin.buffer.read())
                print("ok")
            except OSError as e:
                print(e.errno)
            """, mount.shared + "/.add"], timeout: 10, input: Data(text.utf8))
        #expect(write.text.trimmingCharacters(in: .whitespacesAndNewlines) == "\(EINVAL)")
        try await eventually("the good magnet in memofs status") {
            let status = try await run([memofsExecutable, "status", "--data", mount.dataFolder], timeout: 10).text
            return status.contains("waiting for metadata") && status.contains("not-a-hash")
                && status.contains("tracker 'file:///etc/passwd' is not an http://")
        }
        let json = try await run([memofsExecutable, "status", "--data", mount.dataFolder, "--json"], timeout: 10).text
        #expect(json.contains(good))
        #expect(!json.contains(String(repeating: "cd", count: 20)), "the magnet with a file:// tracker is not added")
    }

    /// Restarted, the daemon brings back local/ and shared/ as they were without
    /// downloading or hashing anything again.
    @Test func aRestartBringsEverythingBack() async throws {
        let folder = try TemporaryFolder()
        try await makeWebM(at: folder.path + "/memo.webm")
        try folder.write("seed/song.opus", count: 3 << 20, seed: 8)
        let metainfo = try TorrentCreator.createBlocking(from: folder.path + "/seed/song.opus")
        try Data(metainfo.encoded()).write(to: URL(fileURLWithPath: folder.path + "/song.torrent"))
        let (seeder, port) = try await startLibtorrent("seed", torrent: folder.path + "/song.torrent", folder: folder.path + "/seed")

        let mount = try await MountedMemofs(mountpoint: folder.path + "/mnt", dataFolder: folder.path + "/data")
        defer { mount.stop() }
        #expect(try await run(["/bin/cp", folder.path + "/memo.webm", mount.local + "/"], timeout: 30).status == 0)
        try await run(["/bin/sh", "-c", "cat > '\(mount.shared)/.add'"], timeout: 10,
                input: Data("magnet:?xt=urn:btih:\(metainfo.infoHash.hex)&x.pe=127.0.0.2:\(port)\n".utf8))
        var sidecar = ""
        try await eventually("the sidecar") {
            sidecar = try await cat(mount.local + "/memo.webm.magnet", timeout: 10).text
            return sidecar.hasPrefix("magnet:")
        }
        try await eventually("the shared file") { try await run(["/bin/ls", mount.shared], timeout: 10).text.contains("song.opus") }
        #expect(try await run(["/usr/bin/cmp", folder.path + "/seed/song.opus", mount.shared + "/song.opus"], timeout: 60).status == 0)
        #expect(mount.stop(signal: SIGINT) == 0)  // Ctrl-C on a foreground daemon unmounts cleanly too
        seeder.stop()  // nobody to download from after the restart

        try await mount.start()
        // The sidecar names the same torrent (x.pe carries the new port).
        let again = try await cat(mount.local + "/memo.webm.magnet", timeout: 10).text
        #expect(try MagnetLink(parsing: again).infoHash == MagnetLink(parsing: sidecar).infoHash)
        // The downloaded file is whole, with no peer to fetch from.
        #expect(try await run(["/usr/bin/cmp", folder.path + "/seed/song.opus", mount.shared + "/song.opus"], timeout: 30).status == 0)
        let status = try await run([memofsExecutable, "status", "--data", mount.dataFolder, "--json"], timeout: 10).text
        #expect(!status.contains("hashing"))
        #expect(!mount.daemonLog.contains("sharing memo.webm"), "the recording was hashed again")
    }

    /// Unmounting while a file is open: a lazy `umount` detaches at once and the daemon
    /// ends when the file is closed; SIGTERM with a reader still blocked ends within seconds.
    @Test func unmountingWithAnOpenFileEndsCleanly() async throws {
        let folder = try TemporaryFolder()
        try folder.write("memo.ogg", count: 100_000)
        let mount = try await MountedMemofs(mountpoint: folder.path + "/mnt", dataFolder: folder.path + "/data")
        defer { mount.stop() }
        #expect(try await run(["/bin/cp", folder.path + "/memo.ogg", mount.local + "/"], timeout: 30).status == 0)
        let holder = try ChildProcess("/bin/sh", ["-c", "exec 3<'\(mount.local)/memo.ogg'; read line"], label: "holder")
        try await Task.sleep(for: .milliseconds(300))
        let umount = try await run(["/bin/umount", "-l", mount.mountpoint], timeout: 10)
        #expect(umount.status == 0, "\(umount.errors)")
        #expect(!MountedMemofs.isMounted(mount.mountpoint))
        holder.stop()  // closes the file
        let deadline = Date().addingTimeInterval(10)
        while mount.daemon?.process.isRunning == true && Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(mount.daemon?.process.isRunning == false)
        #expect(mount.daemon?.process.terminationStatus == 0)

        // SIGTERM with a blocked reader still inside the mount.
        try folder.write("nobody/x.ogg", count: 1 << 20)
        let metainfo = try TorrentCreator.createBlocking(from: folder.path + "/nobody/x.ogg")
        try Data(metainfo.encoded()).write(to: URL(fileURLWithPath: folder.path + "/x.torrent"))
        try await mount.start()
        #expect(try await run(["/bin/cp", folder.path + "/x.torrent", mount.shared + "/"], timeout: 10).status == 0)
        try await eventually("x.ogg") { try await run(["/bin/ls", mount.shared], timeout: 10).text.contains("x.ogg") }
        let reader = try ChildProcess("/bin/cat", [mount.shared + "/x.ogg"], label: "blocked cat")
        defer { reader.kill9() }
        try await Task.sleep(for: .milliseconds(300))
        let stopped = Date()
        #expect(mount.stop(timeout: 15) == 0)
        #expect(Date().timeIntervalSince(stopped) < 10)
        #expect(!MountedMemofs.isMounted(mount.mountpoint))
    }

    /// Complete files are handed to the kernel as the files on disk (FUSE passthrough): an
    /// open recording and an open finished download read right while the daemon is stopped
    /// (SIGSTOP), with the page cache dropped first, so no read reached the daemon. A write
    /// to a recording open that way still re-shares it.
    @Test func completeFilesAreReadStraightFromDisk() async throws {
        let folder = try TemporaryFolder()
        let recording = try folder.write("memo.ogg", count: 4 << 20, seed: 31)
        try folder.write("seed/song.opus", count: 3 << 20, seed: 32)
        let metainfo = try TorrentCreator.createBlocking(from: folder.path + "/seed/song.opus")
        try Data(metainfo.encoded()).write(to: URL(fileURLWithPath: folder.path + "/song.torrent"))
        let (seeder, port) = try await startLibtorrent("seed", torrent: folder.path + "/song.torrent", folder: folder.path + "/seed")
        defer { seeder.stop() }
        let mount = try await MountedMemofs(mountpoint: folder.path + "/mnt", dataFolder: folder.path + "/data")
        defer { mount.stop() }
        #expect(try await run(["/bin/cp", folder.path + "/memo.ogg", mount.local + "/"], timeout: 30).status == 0)
        try await run(["/bin/sh", "-c", "cat > '\(mount.shared)/.add'"], timeout: 10,
                input: Data("magnet:?xt=urn:btih:\(metainfo.infoHash.hex)&x.pe=127.0.0.2:\(port)\n".utf8))
        try await eventually("the shared file") { try await run(["/bin/ls", mount.shared], timeout: 10).text.contains("song.opus") }
        #expect(try await run(["/usr/bin/cmp", folder.path + "/seed/song.opus", mount.shared + "/song.opus"], timeout: 60).status == 0)

        var name = utsname()
        uname(&name)
        let release = withUnsafeBytes(of: &name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let version = release.split(separator: ".").prefix(2).compactMap { Int($0.prefix { $0.isNumber }) }
        let kernelHasPassthrough = version.count == 2 && (version[0], version[1]) >= (6, 9)
        var reported: Bool?
        try await eventually("status.json says whether passthrough is on") {
            let status = try await run([memofsExecutable, "status", "--data", mount.dataFolder, "--json"], timeout: 10)
            let json = try JSONSerialization.jsonObject(with: status.output) as? [String: Any]
            reported = json?["passthrough"] as? Bool
            return reported != nil
        }
        guard kernelHasPassthrough else {
            #expect(reported == false, "kernel \(release) has no FUSE passthrough")
            return
        }
        #expect(reported == true, "kernel \(release) offers FUSE passthrough")

        let pid = try #require(mount.daemon?.process.processIdentifier)
        defer { kill(pid, SIGCONT) }  // never leave the daemon stopped, whatever happens below
        // Reads the open descriptors only: no stat, which would ask the daemon for attributes.
        let compare = """
            import os, sys
            for fd, path in zip(sys.argv[1::2], sys.argv[2::2]):
                chunks = []
                while chunk := os.read(int(fd), 1 << 20):
                    chunks.append(chunk)
                if b"".join(chunks) != open(path, "rb").read():
                    sys.exit("fd %s differs from %s" % (fd, path))
            """
        let script = """
            compare='\(compare)'
            exec 7<'\(mount.local)/memo.ogg'; exec 8<'\(mount.shared)/song.opus'
            sync; echo 1 > /proc/sys/vm/drop_caches
            kill -STOP \(pid)
            (exec 7<&- 8<&- >/dev/null 2>&1; sleep 8; kill -CONT \(pid)) &
            waker=$!
            /usr/bin/python3 -c "$compare" 7 '\(folder.path)/memo.ogg' 8 '\(folder.path)/seed/song.opus'; rc=$?
            state=$(awk '{print $3}' /proc/\(pid)/stat)
            kill -CONT \(pid)
            kill $waker
            echo "rc=$rc daemon=$state"
            """
        let stopped = try await run(["/bin/sh", "-c", script], timeout: 30)
        #expect(stopped.text.contains("rc=0 daemon=T"), "\(stopped.text) \(stopped.errors)")

        // Writing to a recording while a passthrough reader has it open: allowed, and shared anew.
        let before = try await cat(mount.local + "/memo.ogg.magnet", timeout: 10).text
        let write = try await run(["/bin/sh", "-c", """
            exec 7<'\(mount.local)/memo.ogg'
            printf XYZ | dd of='\(mount.local)/memo.ogg' bs=1 seek=1000 conv=notrunc status=none
            """], timeout: 30)
        #expect(write.status == 0, "\(write.errors)")
        var edited = recording
        edited.replaceSubrange(1000..<1003, with: Array("XYZ".utf8))
        #expect(try await run(["/bin/cat", mount.local + "/memo.ogg"], timeout: 30).output == Data(edited))
        try await eventually("a new magnet for the edited recording") {
            let after = try await cat(mount.local + "/memo.ogg.magnet", timeout: 10).text
            return after.hasPrefix("magnet:") && (try? MagnetLink(parsing: after).infoHash) != (try? MagnetLink(parsing: before).infoHash)
        }
    }
}
