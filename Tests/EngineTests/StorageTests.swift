import Engine
import Foundation
import PeerHarness
import TestSupport
import Testing
import TorrentModel

@Suite struct StorageTests {
    @Test func writesAndReadsAcrossFileBoundariesInTheTorrentsLayout() throws {
        let folder = try TemporaryFolder()
        try folder.write("src/d/a", count: 10_000, seed: 1)
        try folder.write("src/d/b", count: 0, seed: 2)
        try folder.write("src/d/sub/c", count: 30_000, seed: 3)
        let info = try TorrentCreator.createBlocking(from: folder.path + "/src/d").info
        let storage = TorrentStorage(root: folder.path + "/dl", info: info)
        let stream = Array(try Data(contentsOf: URL(fileURLWithPath: folder.path + "/src/d/a")))
            + Array(try Data(contentsOf: URL(fileURLWithPath: folder.path + "/src/d/sub/c")))
        for piece in (0..<info.pieceCount).reversed() {
            let start = piece * info.pieceLength
            try storage.writePiece(piece, Array(stream[start..<min(start + info.pieceLength, stream.count)]))
        }
        try storage.createEmptyFiles()
        #expect(try storage.read(at: 9_990, length: 20) == Array(stream[9_990..<10_010]))
        #expect(try sha1(ofFile: folder.path + "/dl/d/a") == sha1(ofFile: folder.path + "/src/d/a"))
        #expect(try sha1(ofFile: folder.path + "/dl/d/sub/c") == sha1(ofFile: folder.path + "/src/d/sub/c"))
        #expect(FileManager.default.fileExists(atPath: folder.path + "/dl/d/b"))
        #expect(throws: StorageError.self) { try storage.read(at: 39_999, length: 2) }
        storage.removeFiles()
        #expect(!FileManager.default.fileExists(atPath: folder.path + "/dl/d"))
    }

    @Test func filesAreSparseUntilWritten() throws {
        let folder = try TemporaryFolder()
        try folder.write("src/big", count: 8 << 20)
        let info = try TorrentCreator.createBlocking(from: folder.path + "/src/big", options: .init(pieceLength: 1 << 20)).info
        let storage = TorrentStorage(root: folder.path + "/dl", info: info)
        try storage.writePiece(7, [UInt8](repeating: 1, count: 1 << 20))
        var status = stat()
        #expect(stat(folder.path + "/dl/big", &status) == 0)
        #expect(status.st_size == 8 << 20)
        #expect(Int(status.st_blocks) * 512 < 2 << 20)
        // Unwritten ranges of a sparse file are zeros on disk, but the engine never serves
        // them: a read waits for the piece to be verified (see the streaming tests).
    }

    @Test func aChangedFileIsCheckedAgainOnRestart() async throws {
        let folder = try TemporaryFolder()
        let original = try folder.write("local/memo.webm", count: 200_000, seed: 8)
        let session = try await Session.start(configuration: testConfiguration(folder.path + "/memofs"))
        let torrent = try await session.seed(path: folder.path + "/local/memo.webm")
        let pieceCount = await torrent.status.pieceCount
        await session.shutdown()

        // Restart untouched: every piece trusted, none hashed again.
        var again = try await Session.start(configuration: testConfiguration(folder.path + "/memofs"))
        var status = try #require(await again.torrent(torrent.infoHash)?.status)
        #expect(status.verifiedPieces == pieceCount)
        #expect(status.recheckedPieces == 0)
        await again.shutdown()

        // Change one byte behind memofs's back: the file is checked, the changed piece dropped.
        var changed = original
        changed[100_000] ^= 0xff
        try Data(changed).write(to: URL(fileURLWithPath: folder.path + "/local/memo.webm"))
        again = try await Session.start(configuration: testConfiguration(folder.path + "/memofs"))
        status = try #require(await again.torrent(torrent.infoHash)?.status)
        #expect(status.recheckedPieces == pieceCount)
        #expect(status.verifiedPieces == pieceCount - 1)
        await again.shutdown()
    }
}
