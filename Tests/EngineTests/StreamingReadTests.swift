import Engine
import Foundation
import PeerHarness
import TestSupport
import Testing
import TorrentModel

@Suite(.serialized) struct StreamingReadTests {
    /// A read in the middle of a large torrent being downloaded whole from a throttled
    /// seeder jumps the queue: it returns long before the torrent is complete.
    @Test func aReadInTheMiddleIsServedFirst() async throws {
        let folder = try TemporaryFolder()
        let size = 48 << 20
        // 4 MB/s: the whole torrent needs about 12 s.
        let (original, metainfo, seeder, magnet) = try await seedWithLibtorrent(folder, name: "big.bin", count: size, seed: 77,
                                                                                 pieceLength: 256 << 10, extra: ["--upload-limit", "4000000"])
        defer { seeder.stop() }

        try await withSession(testConfiguration(folder.path + "/memofs")) { session in
            let torrent = try await session.add(metainfo: metainfo, downloadWhole: true, peers: magnet.peers)
            let offset: Int64 = 30 << 20 + 12345
            let bytes = try await withTimeout(30, "the read") { try await torrent.read(file: 0, offset: offset, length: 1 << 20) }
            let status = await torrent.status
            #expect(bytes == Array(original[Int(offset)..<(Int(offset) + (1 << 20))]))
            #expect(status.progress < 0.6, "read returned only after \(status.progress * 100)% was downloaded")
            // The last byte, read at once, is correct too.
            let tail = try await withTimeout(30, "the tail read") { try await torrent.read(file: 0, offset: Int64(size - 10), length: 100) }
            #expect(tail == Array(original[(size - 10)...]))
        }
    }

    /// Without `downloadWhole`, only what is read is fetched.
    @Test func onlyWhatIsReadIsFetched() async throws {
        let folder = try TemporaryFolder()
        let size = 16 << 20
        let (original, _, seeder, magnet) = try await seedWithLibtorrent(folder, name: "rec.ogg", count: size, seed: 5,
                                                                                 pieceLength: 64 << 10)
        defer { seeder.stop() }

        try await withSession(testConfiguration(folder.path + "/memofs")) { session in
            let torrent = try await session.add(magnet: magnet)
            var generator = SystemRandomNumberGenerator()
            for _ in 0..<10 {
                let offset = Int64.random(in: 0..<Int64(size - 65536), using: &generator)
                let bytes = try await withTimeout(20, "a random read") { try await torrent.read(file: 0, offset: offset, length: 65536) }
                #expect(bytes == Array(original[Int(offset)..<(Int(offset) + 65536)]))
            }
            // Give any stray requests a moment, then check how much was fetched.
            try await Task.sleep(for: .milliseconds(500))
            let status = await torrent.status
            #expect(status.verifiedPieces <= 20, "\(status.verifiedPieces) of \(status.pieceCount) pieces fetched for 10 reads")
            #expect(status.verifiedPieces >= 10)
            // The magnet had no name; the one read outside the actor has it now, from the metadata.
            #expect(torrent.magnetLink.displayName == "rec.ogg")
        }
    }

    /// A removed torrent is freed once its connections closed: a connection handed to its
    /// torrent directly on the loop must not keep the two alive (it once did, for good).
    @Test func aRemovedTorrentAndItsConnectionsAreFreed() async throws {
        let folder = try TemporaryFolder()
        let (original, metainfo, seeder, magnet) = try await seedWithLibtorrent(folder, name: "note.ogg", count: 300_000, seed: 8,
                                                                                 pieceLength: 64 << 10)
        defer { seeder.stop() }

        try await withSession(testConfiguration(folder.path + "/memofs")) { session in
            weak var weakTorrent: Torrent?
            do {
                let torrent = try await session.add(magnet: magnet)
                weakTorrent = torrent
                let bytes = try await withTimeout(20, "a read") { try await torrent.read(file: 0, offset: 0, length: 1000) }
                #expect(bytes == Array(original[0..<1000]))
                #expect(await torrent.status.peers == 1)
            }
            try await session.remove(metainfo.infoHash, deleteFiles: true)
            try await eventually("the removed torrent to be freed", timeout: 10) { weakTorrent == nil }
        }
    }

    /// Reads served from pieces on disk (adjacent pieces as one span), from pieces just
    /// fetched and from a mix of both give the original bytes.
    @Test func readsOfPiecesOnDiskFetchedAndMixedAreExact() async throws {
        let folder = try TemporaryFolder()
        let size = 4 << 20 + 12345
        let (original, _, seeder, magnet) = try await seedWithLibtorrent(folder, name: "talk.webm", count: size, seed: 12,
                                                                                 pieceLength: 64 << 10)
        defer { seeder.stop() }

        try await withSession(testConfiguration(folder.path + "/memofs")) { session in
            let torrent = try await session.add(magnet: magnet)
            func check(_ offset: Int, _ length: Int, _ what: String) async throws {
                let bytes = try await withTimeout(20, what) { try await torrent.read(file: 0, offset: Int64(offset), length: length) }
                #expect(bytes == Array(original[offset..<min(offset + length, size)]), "\(what) at \(offset)+\(length)")
            }
            // Pieces 10 and 12 first, then a read over 9...13: on disk, fetched, on disk, fetched.
            try await check(10 * 65536 + 100, 1000, "a read in piece 10")
            try await check(12 * 65536 + 100, 1000, "a read in piece 12")
            try await check(9 * 65536 + 5, 4 * 65536 + 77, "a read over pieces 9 to 13")
            // Everything under it is verified now: the same read again, and one clipped at the end.
            try await check(9 * 65536 + 5, 4 * 65536 + 77, "the same read again")
            try await check(size - 1000, 4000, "a read past the end")
            try await check(size - 1000, 4000, "the same read past the end again")
        }
    }
}

@Suite struct CancellationTests {
    /// A read waiting on a torrent with no peers ends at once when its task is cancelled.
    @Test func aBlockedReadEndsWhenCancelled() async throws {
        let folder = try TemporaryFolder()
        try folder.write("src/lonely.webm", count: 100_000)
        let metainfo = try TorrentCreator.createBlocking(from: folder.path + "/src/lonely.webm")
        let session = try await Session.start(configuration: testConfiguration(folder.path + "/memofs"))
        let torrent = try await session.add(metainfo: metainfo)
        let magnetOnly = try await session.add(magnet: MagnetLink(infoHash: InfoHash(bytes: [UInt8](repeating: 7, count: 20))!))

        let read = Task { try await torrent.read(file: 0, offset: 50_000, length: 1000) }
        let metadata = Task { try await magnetOnly.waitForMetadata() }
        try await Task.sleep(for: .milliseconds(300))
        read.cancel()
        metadata.cancel()
        // No peer will ever come: without the cancel both would wait for good. The bound is
        // loose because this test starts alongside CPU-bound suites that can hold Swift's two
        // cooperative threads for seconds (in CI once 3.0 s against a 2 s bound).
        try await withTimeout(10, "the cancelled waits to end") {
            await #expect(throws: CancellationError.self) { try await read.value }
            await #expect(throws: CancellationError.self) { try await metadata.value }
        }

        // Removing the torrent ends a waiting read too.
        let another = Task { try await torrent.read(file: 0, offset: 0, length: 10) }
        try await Task.sleep(for: .milliseconds(100))
        try await session.remove(torrent.infoHash, deleteFiles: true)
        try await withTimeout(10, "the read of a removed torrent to end") {
            await #expect(throws: TorrentError.self) { try await another.value }
        }
        await session.shutdown()
    }
}
