@testable import Engine
import NIOCore
import SystemPackage
import Testing
import TestSupport
import TorrentModel

/// A single-file torrent of `bytes` in pieces of `pieceLength`, made without a file: its
/// info dictionary written out (keys in order, as bencoding wants them).
func torrentInfo(of bytes: [UInt8], pieceLength: Int, name: String = "memo.ogg") throws -> TorrentInfo {
    var hashes: [UInt8] = []
    for start in stride(from: 0, to: bytes.count, by: pieceLength) {
        hashes += SHA1.hash(Array(bytes[start..<min(start + pieceLength, bytes.count)])).bytes
    }
    let encoded = "d6:lengthi\(bytes.count)e4:name\(name.utf8.count):\(name)12:piece lengthi\(pieceLength)e6:pieces\(hashes.count):"
    return try TorrentInfo(bytes: Array(encoded.utf8) + hashes + Array("e".utf8))
}

@Suite struct PiecePipelineTests {
    static let pieceLength = 4 * 16384
    let bytes: [UInt8]
    let info: TorrentInfo

    init() throws {
        var generator = SeededGenerator(seed: 14)
        bytes = generator.bytes(4 * Self.pieceLength - 1000)  // a short last piece
        info = try torrentInfo(of: bytes, pieceLength: Self.pieceLength)
    }

    func piece(_ index: Int) -> [UInt8] {
        Array(bytes[(index * Self.pieceLength)..<min((index + 1) * Self.pieceLength, bytes.count)])
    }

    /// Feeds every block of `index`, in order, and says whether the first was the first.
    func receiveAll(_ index: Int, into pipeline: inout PiecePipeline, hashAsItArrives: Bool = false,
                    corrupt: Bool = false) {
        var content = piece(index)
        if corrupt { content[7] ^= 0xFF }
        for begin in stride(from: 0, to: content.count, by: 16384) {
            let block = Array(content[begin..<min(begin + 16384, content.count)])
            _ = pipeline.receive(block, at: begin, of: index, hashAsItArrives: hashAsItArrives)
        }
    }

    func startVerifying(_ piece: Int, in pipeline: inout PiecePipeline, readerWaiting: Bool = false) throws -> PieceVerification {
        let verification = pipeline.startVerifying(piece, readerWaiting: readerWaiting)
        return try #require(verification, "piece \(piece) was not partial")
    }

    @Test func aPiecesFirstBlockMakesItPartialAndAsksForItsPendingMark() throws {
        var pipeline = PiecePipeline(store: InMemoryPieceStore(info: info))
        #expect(pipeline.stage(of: 1) == nil)
        let block = Array(piece(1)[16384..<32768])
        let first = pipeline.receive(block, at: 16384, of: 1, hashAsItArrives: false)
        #expect(first)
        #expect(pipeline.stage(of: 1) == .partial)
        #expect(Array(try #require(pipeline.partialBytes(of: 1))[16384..<32768]) == block)
        let second = pipeline.receive(Array(piece(1)[0..<16384]), at: 0, of: 1, hashAsItArrives: false)
        #expect(!second)
    }

    @Test func aCompletePieceIsVerifiedWrittenAndLeavesThePipeline() throws {
        let store = InMemoryPieceStore(info: info)
        var pipeline = PiecePipeline(store: store)
        receiveAll(3, into: &pipeline)
        let verification = try startVerifying(3, in: &pipeline, readerWaiting: false)
        #expect(pipeline.stage(of: 3) == .verifying)
        #expect(pipeline.partialBytes(of: 3) == nil)
        #expect(verification.hashedHere == nil && !verification.readerWaits)
        let outcome = try verification.checkAndWrite()
        guard case .written(let stamps) = outcome else { Issue.record("\(outcome)"); return }
        #expect(stamps.count == 1 && stamps[0] != nil)
        #expect(try store.readPiece(3) == piece(3))
        pipeline.finished(3, outcome, files: verification.files)
        #expect(pipeline.stage(of: 3) == nil)
        #expect(pipeline.fileStamps == stamps)
    }

    @Test func aBadHashFailsNothingIsWrittenAndThePieceStartsAfresh() throws {
        let store = InMemoryPieceStore(info: info)
        var pipeline = PiecePipeline(store: store)
        receiveAll(0, into: &pipeline, corrupt: true)
        let verification = try startVerifying(0, in: &pipeline, readerWaiting: false)
        let outcome = try verification.checkAndWrite()
        #expect(outcome == .failed)
        pipeline.finished(0, outcome, files: verification.files)
        #expect(pipeline.stage(of: 0) == nil)  // the picker has it wanted again
        #expect(store.writtenPieces.isEmpty)
        #expect(pipeline.fileStamps == [nil])
        let again = pipeline.receive(Array(piece(0)[0..<16384]), at: 0, of: 0, hashAsItArrives: false)
        #expect(again)
    }

    @Test func aFailedWriteFailsOnlyThatPiece() throws {
        let store = InMemoryPieceStore(info: info, failingWrites: [1: .noSpace])
        var pipeline = PiecePipeline(store: store)
        receiveAll(1, into: &pipeline)
        receiveAll(2, into: &pipeline)
        let failing = try startVerifying(1, in: &pipeline, readerWaiting: false)
        let writing = try startVerifying(2, in: &pipeline, readerWaiting: false)
        let failed: PieceCheck
        do {
            failed = try failing.checkAndWrite()
        } catch {
            failed = .storageFailed(error)
        }
        guard case .storageFailed(let reason, let diskFull) = failed else { Issue.record("\(failed)"); return }
        #expect(diskFull, "\(reason)")
        #expect(reason.contains("No space left on device"), "\(reason)")
        let written = try writing.checkAndWrite()
        guard case .written = written else { Issue.record("\(written)"); return }
        pipeline.finished(1, failed, files: failing.files)
        pipeline.finished(2, written, files: writing.files)
        #expect(store.writtenPieces == [2])
        #expect(pipeline.stage(of: 1) == nil && pipeline.stage(of: 2) == nil)

        store.allowWrites(of: [1])
        receiveAll(1, into: &pipeline)
        guard case .written = try startVerifying(1, in: &pipeline, readerWaiting: false).checkAndWrite() else {
            Issue.record("piece 1 still not written once space was freed")
            return
        }
        #expect(store.writtenPieces == [1, 2])
    }

    /// A reader's piece, hashed as its blocks came, is checked on the spot and held in
    /// memory for the reader while it is written.
    @Test func aReadersPieceIsCheckedAsItArrivesAndHeldInMemory() throws {
        var pipeline = PiecePipeline(store: InMemoryPieceStore(info: info))
        receiveAll(2, into: &pipeline, hashAsItArrives: true)
        let verification = try startVerifying(2, in: &pipeline, readerWaiting: false)
        #expect(verification.hashedHere == true)
        #expect(verification.readerWaits)
        pipeline.holdVerified(2, verification.bytes)
        #expect(pipeline.stage(of: 2) == .inMemory)
        #expect(pipeline.verifiedBytes(of: 2) == piece(2))
        let outcome = try verification.write()
        pipeline.finished(2, outcome, files: verification.files)
        #expect(pipeline.stage(of: 2) == nil)
        #expect(pipeline.verifiedBytes(of: 2) == nil)

        receiveAll(1, into: &pipeline, hashAsItArrives: true, corrupt: true)
        let corrupt = try startVerifying(1, in: &pipeline, readerWaiting: true)
        #expect(corrupt.hashedHere == false)
    }

    @Test func piecesJoinThePendingBatchThatHasNotStarted() async throws {
        var pipeline = PiecePipeline(store: InMemoryPieceStore(info: info))
        var started: [Task<Void, Error>?] = []
        func start(_ previous: Task<Void, Error>?) -> Task<Void, Error> {
            started.append(previous)
            return Task {}
        }
        pipeline.markPendingSoon(0, startBatch: start)
        pipeline.markPendingSoon(1, startBatch: start)
        pipeline.markPendingSoon(0, startBatch: start)
        #expect(started.count == 1 && started[0] == nil)
        let first = try #require(pipeline.pendingMark(of: 0))
        #expect(pipeline.pendingMark(of: 1) == first)
        let firstBatch = pipeline.takePiecesToMarkPending()
        #expect(firstBatch == [0, 1])
        // The first batch started: the next piece opens a batch that waits for it.
        pipeline.markPendingSoon(2, startBatch: start)
        #expect(started.count == 2 && started[1] == first)
        let secondBatch = pipeline.takePiecesToMarkPending()
        #expect(secondBatch == [2])
        // A piece takes its mark with it into verification.
        receiveAll(0, into: &pipeline)
        let verification = try startVerifying(0, in: &pipeline, readerWaiting: false)
        #expect(verification.pendingMark == first)
        #expect(pipeline.pendingMark(of: 0) == nil)
    }

    @Test func verifiedPiecesAreRecordedInBatchesByOneRecorder() {
        var pipeline = PiecePipeline(store: InMemoryPieceStore(info: info))
        var recorders = 0
        pipeline.recordVerified(3) { recorders += 1; return Task {} }
        pipeline.recordVerified(1) { recorders += 1; return Task {} }
        #expect(recorders == 1 && pipeline.verifiedRecorder != nil)
        let firstRecords = pipeline.takeVerifiedToRecord()
        #expect(firstRecords == [3, 1])
        pipeline.recordVerified(2) { recorders += 1; return Task {} }
        #expect(recorders == 1)
        let secondRecords = pipeline.takeVerifiedToRecord(), none = pipeline.takeVerifiedToRecord()
        #expect(secondRecords == [2])
        #expect(none == nil)
        #expect(pipeline.verifiedRecorder == nil)
        pipeline.recordVerified(0) { recorders += 1; return Task {} }
        #expect(recorders == 2)
    }

    /// Checks finish out of order: a file keeps the stamp of its newest write.
    @Test func aFileKeepsTheStampOfItsNewestWrite() {
        var pipeline = PiecePipeline(store: InMemoryPieceStore(info: info))
        let newer = FileStamp(size: 10, modifiedNanoseconds: 200), older = FileStamp(size: 10, modifiedNanoseconds: 100)
        pipeline.finished(0, .written([newer]), files: [0])
        pipeline.finished(1, .written([older]), files: [0])
        #expect(pipeline.fileStamps == [newer])
        pipeline.adopt(stamps: [older, newer])  // not this torrent's files: ignored
        #expect(pipeline.fileStamps == [newer])
    }

    @Test func theUploadCacheServesAPieceAgain() {
        var pipeline = PiecePipeline(store: InMemoryPieceStore(info: info))
        let miss = pipeline.cachedForUpload(0)
        #expect(miss == nil)
        pipeline.keepForUpload(0, ByteBuffer(bytes: piece(0)))
        let hit = pipeline.cachedForUpload(0)
        #expect(hit == ByteBuffer(bytes: piece(0)))
    }
}
