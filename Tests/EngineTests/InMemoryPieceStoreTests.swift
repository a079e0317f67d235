@testable import Engine
import SystemPackage
import Testing
import TestSupport
import TorrentModel

@Suite struct InMemoryPieceStoreTests {
    let bytes: [UInt8]
    let info: TorrentInfo

    init() throws {
        var generator = SeededGenerator(seed: 3)
        bytes = generator.bytes(3 * 16384 - 100)
        info = try torrentInfo(of: bytes, pieceLength: 16384)
    }

    func piece(_ index: Int) -> [UInt8] { Array(bytes[(index * 16384)..<min((index + 1) * 16384, bytes.count)]) }

    @Test func readsAcrossPiecesWhatWasWritten() throws {
        let store = InMemoryPieceStore(info: info)
        for index in 0..<3 { try store.writePiece(index, piece(index)) }
        #expect(try store.read(at: 16000, length: 20000) == Array(bytes[16000..<36000]))
        #expect(try store.readPiece(2) == piece(2))
        #expect(store.files(ofPiece: 2) == [0])
    }

    @Test func bytesNeverWrittenAreAnErrorNotZeros() throws {
        let store = InMemoryPieceStore(info: info)
        try store.writePiece(0, piece(0))
        #expect(throws: StorageError.self) { try store.read(at: 16000, length: 1000) }
        #expect(throws: StorageError.self) { try store.read(at: 0, length: bytes.count + 1) }
        #expect(throws: StorageError.self) { try store.writePiece(1, [1, 2, 3]) }
    }

    @Test func aFailingPieceThrowsTheDiskIsFullAndOthersAreWritten() throws {
        let store = InMemoryPieceStore(info: info)
        store.failWrites(of: [1])
        try store.writePiece(0, piece(0))
        let error = try #require(throws: StorageError.self) { try store.writePiece(1, piece(1)) }
        #expect(error.isDiskFull)
        #expect(store.writtenPieces == [0])
    }

    @Test func aFileStampIsItsLengthAndItsLastWrite() throws {
        let store = InMemoryPieceStore(info: info)
        #expect(store.fileStamps(of: [0]) == [nil])
        try store.writePiece(0, piece(0))
        let first = try #require(store.fileStamps(of: [0])[0])
        try store.writePiece(1, piece(1))
        let second = try #require(store.fileStamps(of: [0])[0])
        #expect(first.size == Int64(bytes.count))
        #expect(second.modifiedNanoseconds > first.modifiedNanoseconds)
        #expect(store.filePath(of: info.files[0]) == nil)
    }

    @Test func aClosedStoreNeitherReadsNorWrites() throws {
        let store = InMemoryPieceStore(info: info)
        try store.writePiece(0, piece(0))
        store.close()
        #expect(throws: StorageError.self) { try store.readPiece(0) }
        #expect(throws: StorageError.self) { try store.writePiece(1, piece(1)) }
    }
}
