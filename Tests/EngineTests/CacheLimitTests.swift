import Engine
import Foundation
import PeerHarness
import TestSupport
import Testing
import TorrentModel

/// The cache's limit against a real seeder and real files: a share larger than the limit is
/// read whole, byte-exact, while its bytes on disk stay under the limit and a bounded slack;
/// a pinned share and a recording are never touched; a restart does not think it has
/// what was evicted, and reads it again from the peer.
@Suite(.serialized) struct CacheLimitTests {
    /// Bytes the file system holds for the file (its blocks, not its length: evicted
    /// pieces are holes).
    static func diskBytes(_ path: String) -> Int64 {
        var status = stat()
        guard stat(path, &status) == 0 else { return 0 }
        return Int64(status.st_blocks) * 512
    }

    @Test func aShareLargerThanTheLimitIsReadWholeWithinIt() async throws {
        let folder = try TemporaryFolder()
        let size = 32 << 20, limit: Int64 = 6 << 20, pieceLength = 256 << 10
        let (original, metainfo, seeder, magnet) = try await seedWithLibtorrent(folder, name: "long.ogg", count: size, seed: 31,
                                                                                 pieceLength: pieceLength)
        defer { seeder.stop() }
        let (pinnedBytes, pinnedInfo, pinnedSeeder, pinnedMagnet) = try await seedWithLibtorrent(
            folder, name: "album.bin", count: 4 << 20, seed: 32, pieceLength: pieceLength)
        defer { pinnedSeeder.stop() }
        let recording = try folder.write("local/memo.ogg", count: 3 << 20, seed: 33)

        var configuration = testConfiguration(folder.path + "/memofs")
        configuration.cacheLimit = limit
        let data = folder.path + "/memofs/torrents/"
        let file = data + metainfo.infoHash.hex + "/long.ogg"
        let pinnedFile = data + pinnedInfo.infoHash.hex + "/album.bin"
        var evictedBeforeRestart = 0
        var keptBeforeRestart = 0
        try await withSession(configuration) { session in
            // A pinned share, larger than what is left under the limit, downloaded whole.
            let pinned = try await session.add(metainfo: pinnedInfo, peers: pinnedMagnet.peers)
            try await session.setPinned(pinnedInfo.infoHash, true)
            try await withTimeout(30, "the pinned share") { try await pinned.waitUntilComplete() }
            // A recording, seeded where it is.
            let local = try await session.seed(path: folder.path + "/local/memo.ogg")

            let torrent = try await session.add(metainfo: metainfo, peers: magnet.peers)
            let reader = await torrent.openReader(file: 0)
            let step = 1 << 20, ahead: Int64 = 2 << 20
            var read: [UInt8] = []
            var mostOnDisk: Int64 = 0, mostCounted: Int64 = 0
            for offset in stride(from: 0, to: size, by: step) {
                let start = Int64(offset), end = Int64(min(offset + step, size))
                let bytes = try await withTimeout(30, "the read at \(offset)") {
                    try await torrent.read(at: start, length: Int(end - start), readahead: end..<min(end + ahead, Int64(size)),
                                           reader: reader)
                }
                read += bytes
                mostOnDisk = max(mostOnDisk, Self.diskBytes(file))
                mostCounted = max(mostCounted, session.cacheUsage.used)
            }
            await torrent.closeReader(reader)
            #expect(read == original, "the share read back differs")
            // Slack: the reader's read and readahead, which it holds, and the pieces verified
            // or let go of while an eviction was under way (its database write, its holes).
            let slack = Int64(step) + ahead + 8 * Int64(pieceLength)
            print("cache limit \(limit >> 10) KiB: at most \(mostOnDisk >> 10) KiB on disk, \(mostCounted >> 10) KiB counted, "
                  + "of a \(size >> 10) KiB share; \(await torrent.evictedPieces) pieces evicted")
            #expect(mostOnDisk <= limit + slack, "\(mostOnDisk) bytes on disk against a limit of \(limit)")
            #expect(mostCounted <= limit + slack)
            #expect(await torrent.evictedPieces > 0)
            try await eventually("evicted down to the limit", timeout: 10) {
                session.cacheUsage.used <= limit && Self.diskBytes(file) <= limit
            }

            // The pinned share and the recording are untouched, and counted apart.
            #expect(await pinned.isComplete)
            #expect(await pinned.evictedPieces == 0)
            #expect(Self.diskBytes(pinnedFile) >= Int64(pinnedBytes.count))
            #expect(session.cacheUsage.pinned == Int64(pinnedBytes.count))
            #expect(await local.isComplete)
            #expect(Array(try Data(contentsOf: URL(fileURLWithPath: folder.path + "/local/memo.ogg"))) == recording)
            #expect(try await withTimeout(10, "the pinned share's read") {
                try await pinned.read(at: 0, length: pinnedBytes.count)
            } == pinnedBytes)

            evictedBeforeRestart = await torrent.evictedPieces
            keptBeforeRestart = await torrent.verifiedPieceCount
        }
        #expect(evictedBeforeRestart > 0 && keptBeforeRestart < metainfo.info.pieceCount)

        // A restart has exactly what was kept: nothing evicted comes back as verified, and
        // nothing kept is hashed again (the punched files' new mtimes are ours).
        try await withSession(configuration) { session in
            let torrent = try #require(await session.torrent(metainfo.infoHash))
            #expect(await torrent.verifiedPieceCount == keptBeforeRestart)
            #expect(await torrent.recheckedPieces == 0)
            #expect(await session.torrent(pinnedInfo.infoHash)?.isComplete == true)
            await torrent.addPeers(magnet.peers)
            // The first MiB was evicted long ago: read again from the seeder, byte-exact.
            #expect(!(await torrent.hasPiece(0)))
            let again = try await withTimeout(30, "the read after the restart") { try await torrent.read(at: 0, length: 1 << 20) }
            #expect(again == Array(original[0..<(1 << 20)]))
        }
    }

    /// A complete file open for reading may be read by the kernel straight from disk (FUSE
    /// passthrough), past any window of ours: none of it goes while it is open, however far
    /// over the limit; an unpinned share counts again, and goes once the file is closed.
    @Test func anOpenCompleteFileIsKeptAndGoesOnceClosed() async throws {
        let folder = try TemporaryFolder()
        let size = 4 << 20, limit: Int64 = 1 << 20, pieceLength = 256 << 10
        let (original, metainfo, seeder, magnet) = try await seedWithLibtorrent(folder, name: "album.bin", count: size, seed: 34,
                                                                                 pieceLength: pieceLength)
        defer { seeder.stop() }
        var configuration = testConfiguration(folder.path + "/memofs")
        configuration.cacheLimit = limit
        let file = folder.path + "/memofs/torrents/" + metainfo.infoHash.hex + "/album.bin"
        try await withSession(configuration) { session in
            let torrent = try await session.add(metainfo: metainfo, peers: magnet.peers)
            try await session.setPinned(metainfo.infoHash, true)
            try await withTimeout(30, "the pinned share") { try await torrent.waitUntilComplete() }
            #expect(session.cacheUsage == CachePolicy.Usage(used: 0, limit: limit, pinned: Int64(size)))

            let reader = await torrent.openReader(file: 0)
            try await session.setPinned(metainfo.infoHash, false)
            #expect(session.cacheUsage.used == Int64(size))
            // Over the limit, but every piece is held by the open file.
            try await Task.sleep(for: .milliseconds(300))
            #expect(await torrent.evictedPieces == 0)
            #expect(await torrent.isComplete)
            #expect(await torrent.verifiedFilePath(0) == file)
            #expect(Self.diskBytes(file) >= Int64(size))

            await torrent.closeReader(reader)
            // Counted as gone at once, off the disk once the holes are punched.
            try await eventually("evicted once closed", timeout: 10) {
                session.cacheUsage.used <= limit && Self.diskBytes(file) <= limit
            }
            #expect(await torrent.evictedPieces >= (size - Int(limit)) / pieceLength)
            #expect(await torrent.verifiedFilePath(0) == nil)
            // Read whole again: the evicted pieces come back from the seeder, byte-exact.
            let again = try await withTimeout(30, "the read again") { try await torrent.read(at: 0, length: size) }
            #expect(again == original)
        }
    }

    /// Peers are told nothing wrong: a connected peer that speaks libtorrent's lt_donthave
    /// hears of an evicted piece; a request for it is rejected, never answered from the hole;
    /// a new peer's bitfield leaves it out; a piece still had is served byte-exact.
    @Test func peersAreToldNothingWrongAboutEvictedPieces() async throws {
        let folder = try TemporaryFolder()
        let size = 32 << 20, limit: Int64 = 4 << 20, pieceLength = 256 << 10
        let (original, metainfo, seeder, magnet) = try await seedWithLibtorrent(folder, name: "talk.ogg", count: size, seed: 35,
                                                                                 pieceLength: pieceLength)
        defer { seeder.stop() }
        var configuration = testConfiguration(folder.path + "/memofs")
        configuration.cacheLimit = limit
        try await withSession(configuration) { session in
            let torrent = try await session.add(metainfo: metainfo, peers: magnet.peers)
            let reader = await torrent.openReader(file: 0)
            func read(upTo end: Int) async throws {
                for offset in stride(from: 0, to: end, by: 1 << 20) {
                    let bytes = try await withTimeout(30, "the read at \(offset)") {
                        try await torrent.read(at: Int64(offset), length: 1 << 20,
                                               readahead: Int64(offset + (1 << 20))..<Int64(offset + (2 << 20)), reader: reader)
                    }
                    #expect(bytes == Array(original[offset..<(offset + (1 << 20))]))
                }
            }
            func probe(request: [Int] = [], linger: Double) throws -> ChildProcess {
                try ChildProcess("/usr/bin/python3", [supportFolder + "/wire_probe.py", "--connect", "127.0.0.1:\(session.listenPort)",
                                                      "--info-hash", metainfo.infoHash.hex, "--pieces", "\(metainfo.info.pieceCount)",
                                                      "--request", request.map(String.init).joined(separator: ","),
                                                      "--linger", "\(linger)"], label: "wire probe")
            }
            try await read(upTo: 2 << 20)
            #expect(await torrent.hasPiece(0))
            let early = try probe(linger: 20)
            defer { early.stop() }
            let before = try await early.waitForEvent("pieces", timeout: 10)["pieces"] as? [Int] ?? []
            #expect(before.contains(0))

            // Reading on past the limit evicts the start; the connected peer hears of it.
            try await read(upTo: 16 << 20)
            try await eventually("piece 0 evicted", timeout: 10) {
                let evicted = await torrent.evictedPieces
                return await !torrent.hasPiece(0) && evicted > 0
            }
            _ = try await early.waitForJSON(timeout: 10) { $0["event"] as? String == "donthave" && $0["piece"] as? Int == 0 }

            // A new peer: piece 0 left out; asked for anyway, rejected; a piece still had, served.
            let kept = (16 << 20) / pieceLength - 1
            #expect(await torrent.hasPiece(kept))
            let late = try probe(request: [0, kept], linger: 5)
            defer { late.stop() }
            let after = try await late.waitForEvent("pieces", timeout: 10)["pieces"] as? [Int] ?? []
            #expect(!after.contains(0))
            #expect(after.contains(kept))
            _ = try await late.waitForJSON(timeout: 10) { $0["event"] as? String == "rejected" && $0["piece"] as? Int == 0 }
            let block = try await late.waitForJSON(timeout: 10) { $0["event"] as? String == "block" }
            #expect(block["piece"] as? Int == kept)
            let start = kept * pieceLength
            #expect(block["sha1"] as? String == SHA1.hash(Array(original[start..<(start + 16384)])).hex)
            #expect(late.allLines.allSatisfy { !$0.contains("\"block\", \"piece\": 0") })
            await torrent.closeReader(reader)
        }
    }
}
