import Foundation
import PeerHarness
import TestSupport
import Testing
import TorrentModel

/// Streams that must not stall: a file closed and opened again while a choke-and-wait
/// client (rtorrent) seeds it, and a magnet whose seeder comes up after it was added.
@Suite(.serialized) struct StallTests {
    struct SequentialRead: Decodable {
        let seconds: Double
        let bytes: Int
        let longest: Double
        let sha1: String
    }

    func readSequentially(_ path: String, offset: Int = 0, limit: Int? = nil) async throws -> SequentialRead {
        var arguments = ["/usr/bin/python3", supportFolder + "/read_timer.py", path, "--sequential", "--offset", "\(offset)"]
        if let limit { arguments += ["--limit", "\(limit)"] }
        let result = try await run(arguments, timeout: 90)
        guard result.status == 0 else { throw ChildProcess.Timeout(description: "read of \(path) failed: \(result.errors)") }
        return try JSONDecoder().decode(SequentialRead.self, from: result.output)
    }

    /// rtorrent chokes a peer that says `not_interested` and unchokes only in its next
    /// round, 30 s later: when memofs dropped interest at each close, the read after a
    /// reopen waited that long (25 to 30 s here).
    @Test func aFileReopenedWhileRtorrentSeedsItReadsWithoutAStall() async throws {
        let folder = try TemporaryFolder()
        let count = 48 << 20
        let bytes = try folder.write("seed/reopen.bin", count: count, seed: 13)
        let metainfo = try TorrentCreator.createBlocking(
            from: folder.path + "/seed/reopen.bin",
            options: .init(pieceLength: 256 << 10, trackers: [["http://127.0.0.1:9/announce"]]))
        let torrentPath = folder.path + "/reopen.torrent"
        try Data(metainfo.encoded()).write(to: URL(fileURLWithPath: torrentPath))
        let (seeder, port) = try await startRtorrent(torrent: torrentPath, folder: folder.path + "/seed", work: folder.path)
        // Ended at once: rtorrent reads no stdin and inherits the test runner's blocked SIGTERM,
        // so a polite stop() would hold one of Swift's two cooperative threads for 6 s.
        defer { seeder.kill9() }
        let mount = try await MountedMemofs(mountpoint: folder.path + "/mnt", dataFolder: folder.path + "/data",
                                            extra: ["--no-dht", "--no-lsd", "-v"])
        defer { mount.stop() }
        var magnet = MagnetLink(infoHash: metainfo.infoHash)
        magnet.peers = [PeerAddress("127.0.0.3:\(port)")!]
        try await run(["/bin/sh", "-c", "cat > '\(mount.shared)/.add'"], timeout: 10, input: Data((magnet.uri + "\n").utf8))
        let file = mount.shared + "/reopen.bin"
        try await eventually("the file listed", timeout: 20) { FileManager.default.fileExists(atPath: file) }

        // The head of the file, then a close.
        let head = try await readSequentially(file, limit: 4 << 20)
        #expect(head.bytes == 4 << 20)
        #expect(head.sha1 == SHA1.hash(Array(bytes[..<(4 << 20)])).hex)
        // Long enough for a not_interested to reach rtorrent and its choke to come back.
        try await Task.sleep(for: .seconds(2))
        let logBeforeReopen = mount.daemonLog
        // Opened again: the rest comes at once, with no read waiting for rtorrent's next round.
        let rest = try await readSequentially(file, offset: 4 << 20)
        #expect(rest.bytes == count - (4 << 20))
        #expect(rest.sha1 == SHA1.hash(Array(bytes[(4 << 20)...])).hex)
        #expect(rest.longest < 2, "the longest read after the reopen took \(rest.longest) s (\(rest.seconds) s in all)")
        // (Once the file is complete, not being interested is right.)
        #expect(logBeforeReopen.contains("interested in 127.0.0.3"), "-v logs interest")
        #expect(!logBeforeReopen.contains("not interested in 127.0.0.3"),
                "memofs dropped interest in rtorrent while the file was incomplete:\n\(logBeforeReopen.suffix(3000))")
    }

    /// A magnet whose `x.pe` seeder starts after the magnet was added: it used to be dialled
    /// again only 30 s after the first refusal.
    @Test func aSeederThatStartsLateIsFoundWithinSeconds() async throws {
        let folder = try TemporaryFolder()
        try folder.write("seed/late.bin", count: 300_000, seed: 14)
        let metainfo = try TorrentCreator.createBlocking(from: folder.path + "/seed/late.bin", options: .init(pieceLength: 32768))
        let torrentPath = folder.path + "/late.torrent"
        try Data(metainfo.encoded()).write(to: URL(fileURLWithPath: torrentPath))
        let port = try freePort(host: "127.0.0.2")
        let mount = try await MountedMemofs(mountpoint: folder.path + "/mnt", dataFolder: folder.path + "/data",
                                            extra: ["--no-dht", "--no-lsd", "-v"])
        defer { mount.stop() }
        var magnet = MagnetLink(infoHash: metainfo.infoHash)
        magnet.peers = [PeerAddress("127.0.0.2:\(port)")!]
        try await run(["/bin/sh", "-c", "cat > '\(mount.shared)/.add'"], timeout: 10, input: Data((magnet.uri + "\n").utf8))
        try await Task.sleep(for: .seconds(3))
        #expect(!FileManager.default.fileExists(atPath: mount.shared + "/late.bin"))
        let (seeder, _) = try await startLibtorrent("seed", torrent: torrentPath, folder: folder.path + "/seed",
                                                    listen: "127.0.0.2:\(port)")
        defer { seeder.stop() }
        let started = Date()
        try await eventually("the metadata from the late seeder", timeout: 5) {
            FileManager.default.fileExists(atPath: mount.shared + "/late.bin")
        }
        let waited = Date().timeIntervalSince(started)
        #expect(waited < 5, "metadata \(waited) s after the seeder was up")
        #expect(mount.daemonLog.contains("could not connect to 127.0.0.2:\(port)"), "refusals are in the -v log")
    }
}
