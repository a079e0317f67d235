@testable import Engine
import Foundation
import PeerHarness
import Testing
import TestSupport
import TorrentModel

/// A piece whose write fails (a full disk, a file that cannot be written) fails the reads
/// waiting for that piece, and no other: it used to fail every waiting read of the torrent.
@Suite struct PieceWriteFailureTests {
    @Test func oneFailedWriteFailsOnlyThatPiecesReaders() async throws {
        let folder = try TemporaryFolder()
        let pieceLength = 16384
        try folder.write("memo.ogg", count: 8 * pieceLength, seed: 9)
        let metainfo = try TorrentCreator.createBlocking(from: folder.path + "/memo.ogg", options: .init(pieceLength: pieceLength))
        try await withSession(testConfiguration(folder.path + "/data")) { session in
            // No peer: both reads wait until something ends them.
            let torrent = try await session.add(metainfo: metainfo)
            let failing = Task { try await torrent.read(at: 0, length: 100) }
            let waiting = Task { try await torrent.read(at: Int64(5 * pieceLength), length: 100) }
            try await eventually("both reads waiting", timeout: 10) { await torrent.piecesReadsWaitFor == [0, 5] }

            await torrent.checked(0, .storageFailed("No space left on device", diskFull: true), files: [0])
            await #expect(throws: TorrentError.self) { try await failing.value }
            try await Task.sleep(for: .milliseconds(200))
            #expect(await torrent.piecesReadsWaitFor == [5])

            waiting.cancel()
            await #expect(throws: CancellationError.self) { try await waiting.value }
        }
    }

    /// The same with a write that really fails, and no disk: one memofs seeds the file,
    /// another downloads all of it into an ``InMemoryPieceStore`` that cannot write piece 0
    /// (the disk is full). Every other piece is written and verified, `memofs status` says
    /// the disk is full, and once space is freed piece 0 is fetched again and the download
    /// completes. (A reader waiting for piece 0 would get it from memory, verified, before
    /// its write: only readers that come while it is written see the failure.)
    @Test func aPieceTheStoreCannotWriteFailsAloneUntilSpaceIsFreed() async throws {
        let folder = try TemporaryFolder()
        let pieceLength = 16384
        let original = try folder.write("memo.ogg", count: 8 * pieceLength, seed: 9)
        try await withSession(testConfiguration(folder.path + "/seeder")) { seeding in
            let seeded = try await seeding.seed(path: folder.path + "/memo.ogg", options: .init(pieceLength: pieceLength))
            let metainfo = try #require(await seeded.metainfo)
            let store = InMemoryPieceStore(info: metainfo.info, failingWrites: [0: .noSpace])
            try await withSession(testConfiguration(folder.path + "/downloader")) { session in
                let torrent = try await session.add(metainfo: metainfo, downloadWhole: true,
                                                    peers: [PeerAddress("127.0.0.1:\(seeding.listenPort)")!], store: store)
                try await eventually("pieces 1 to 7 verified", timeout: 30) { await torrent.verifiedPieceCount == 7 }
                #expect(store.writtenPieces == Set(1..<8))
                #expect(await !torrent.hasPiece(0))
                try await eventually("the status says the disk is full", timeout: 10) {
                    await torrent.status.activity.diskFull
                }
                let error = try #require(await torrent.status.lastError)
                #expect(error.contains("piece 0") && error.contains("No space left on device"), "\(error)")
                #expect(await torrent.status.hashFailures == 0)
                // Nothing went to disk.
                #expect(!FileManager.default.fileExists(atPath: folder.path + "/downloader/torrents/" + metainfo.infoHash.hex))

                store.allowWrites(of: [0])
                try await withTimeout(30, "the download once space is freed") { try await torrent.waitUntilComplete() }
                #expect(try store.read(at: 0, length: original.count) == original)
                #expect(await !torrent.status.activity.diskFull)
            }
        }
    }
}
