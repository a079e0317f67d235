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
}
