@testable import Engine
import Foundation
import SystemPackage
import PeerHarness
import Testing
import TestSupport
import TorrentModel

/// A piece whose write fails for want of space (or an I/O error) stops the torrent's
/// downloading: every waiting read fails at once, and so does a new read of a missing
/// piece, instead of fetching and failing pieces again and again. Reads of pieces on disk
/// still work; downloading resumes by itself (see StorageHealthTests for when).
@Suite struct PieceWriteFailureTests {
    @Test func aFailedWriteFailsEveryWaitingReadAndNewOnes() async throws {
        let folder = try TemporaryFolder()
        let pieceLength = 16384
        try folder.write("memo.ogg", count: 8 * pieceLength, seed: 9)
        let metainfo = try TorrentCreator.createBlocking(from: folder.path + "/memo.ogg", options: .init(pieceLength: pieceLength))
        try await withSession(testConfiguration(folder.path + "/data")) { session in
            // No peer: both reads wait until something ends them.
            let torrent = try await session.add(metainfo: metainfo)
            let first = Task { try await torrent.read(at: 0, length: 100) }
            let second = Task { try await torrent.read(at: Int64(5 * pieceLength), length: 100) }
            try await eventually("both reads waiting", timeout: 10) { await torrent.piecesReadsWaitFor == [0, 5] }

            await torrent.checked(0, .storageFailed("memo.ogg: No space left on device", diskFull: true), files: [0])
            await #expect(throws: TorrentError.self) { try await first.value }
            await #expect(throws: TorrentError.self) { try await second.value }
            #expect(await torrent.piecesReadsWaitFor.isEmpty)
            // A new read of a piece that is not here fails without waiting.
            await #expect(throws: TorrentError.self) {
                try await withTimeout(5, "a read while downloading is stopped") {
                    _ = try await torrent.read(at: Int64(3 * pieceLength), length: 100)
                }
            }
            let fault = try #require(await torrent.status.activity.storageFault)
            #expect(fault.diskFull && fault.reason.contains("No space left on device"))
            #expect(fault.availableBytes != nil)
        }
    }

    /// The same with writes that really fail, and no disk: one memofs seeds a file, another
    /// downloads all of it into an ``InMemoryPieceStore`` that cannot write (a full quota:
    /// the file system has room, so only the 10 s backoff tries again). Downloading stops
    /// after what was under way, the status says why, and once writes work it completes.
    @Test func writesThatFailStopDownloadingUntilTheyWork() async throws {
        let folder = try TemporaryFolder()
        let pieceLength = 256 << 10, pieceCount = 128
        let original = try folder.write("memo.ogg", count: pieceCount * pieceLength, seed: 9)
        try await withSession(testConfiguration(folder.path + "/seeder")) { seeding in
            let seeded = try await seeding.seed(path: folder.path + "/memo.ogg", options: .init(pieceLength: pieceLength))
            let metainfo = try #require(await seeded.metainfo)
            let every = Dictionary(uniqueKeysWithValues: (0..<pieceCount).map { ($0, Errno.diskQuotaExceeded) })
            let store = InMemoryPieceStore(info: metainfo.info, failingWrites: every)
            try await withSession(testConfiguration(folder.path + "/downloader")) { session in
                let torrent = try await session.add(metainfo: metainfo, downloadWhole: true,
                                                    peers: [PeerAddress("127.0.0.1:\(seeding.listenPort)")!], store: store)
                try await eventually("the status says the quota is full", timeout: 30) {
                    await torrent.status.activity.storageFault?.diskFull == true
                }
                let error = try #require(await torrent.status.lastError)
                #expect(error.contains("Disk quota exceeded"), "\(error)")
                // Stopped: what was under way arrives, then nothing more is fetched (the next try
                // is 10 s away): the count stands still for a second, far short of the file.
                var downloaded = await torrent.status.downloadedBytes, settled = false
                for _ in 0..<8 where !settled {
                    try await Task.sleep(for: .seconds(1))
                    let now = await torrent.status.downloadedBytes
                    settled = now == downloaded
                    downloaded = now
                }
                #expect(settled, "still downloading after the failed writes")
                #expect(downloaded < Int64(original.count / 2), "downloading went on after the failed writes")
                #expect(store.writtenPieces.isEmpty)

                store.allowWrites(of: Set(0..<pieceCount))
                try await withTimeout(60, "the download once writes work again") { try await torrent.waitUntilComplete() }
                #expect(try store.read(at: 0, length: original.count) == original)
                #expect(await torrent.status.activity.storageFault == nil)
                #expect(await torrent.status.lastError == nil)
            }
        }
    }
}
