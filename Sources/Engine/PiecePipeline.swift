import GRDB
import NIOCore
import TorrentModel

/// A downloaded piece's way from its first block to the store, and the pieces read back
/// for uploading: the **partial**, **verifying** and **in memory** states of
/// `Sources/Engine/STATE.md`, which change only through these methods. The picker keeps
/// **wanted**, **requested** and **have**; the torrent coordinates the two and performs
/// what takes time (the database, the thread pool) with the tasks it starts.
///
/// A value type owned by the torrent actor. Tasks that must come back to it (a batch of
/// pending marks taking its pieces, the recorder taking verified pieces) are started by
/// the torrent, which hands them in, and come back through the actor: a value type cannot
/// be reached from a task, only its owner can.
struct PiecePipeline {
    let store: any PieceStore
    var info: TorrentInfo { store.info }

    /// **partial** pieces: their blocks, copied in as they arrive. Not zeroed first: a
    /// piece is hashed, written or read only once every block of it filled its place
    /// (zeroing cost 1.5 % of a download's CPU).
    private var buffers: [Int: [UInt8]] = [:]
    /// Pieces with a reader's deadline, hashed as their blocks arrive.
    private var hashProgress: [Int: PieceHashProgress] = [:]
    /// The "about to write" record of each piece being downloaded, started with its first
    /// block so that a completed piece does not wait for the database before its write.
    private var pendingMarks: [Int: Task<Void, Error>] = [:]
    /// Pieces queued for the next "about to write" transaction, and the newest
    /// transaction's task: it takes them when it starts (``takePiecesToMarkPending()``).
    private var piecesToMarkPending: [Int] = []
    private var lastPendingBatch: Task<Void, Error>?
    /// **verifying**: a ``PieceVerification`` owns the bytes.
    private(set) var verifying: Set<Int> = []
    /// **in memory**: passed SHA-1 and being written; reads take their bytes from here.
    private var verifiedBytes: [Int: [UInt8]] = [:]
    /// Verified pieces waiting for the database, and the task recording them.
    private var verifiedToRecord: [Int] = []
    /// Verified pieces not yet on record, queued or in the recorder's transaction: not to be
    /// evicted, or the record could land after the eviction's and bring the piece back.
    private(set) var unrecorded: Set<Int> = []
    private(set) var verifiedRecorder: Task<Void, Never>?
    /// Each file's size and modification time after our newest write into it, recorded
    /// with the verified pieces (a restart compares them).
    private(set) var fileStamps: [FileStamp?]
    private var uploadCache = UploadCache(capacity: Self.uploadCacheBytes)

    static let uploadCacheBytes = 64 << 20
    /// At most this much of a reader's piece is left to hash on the actor (64 KiB: about
    /// 30 µs); more goes to the thread pool.
    static let inlineHashLimit = 64 * 1024

    init(store: any PieceStore) {
        self.store = store
        self.fileStamps = Array(repeating: nil, count: store.info.files.count)
    }

    enum Stage: Equatable { case partial, verifying, inMemory }

    /// Where `piece` is in the pipeline; nil when it is not (the picker says wanted,
    /// requested or have).
    func stage(of piece: Int) -> Stage? {
        if buffers[piece] != nil { return .partial }
        if verifiedBytes[piece] != nil { return .inMemory }
        if verifying.contains(piece) { return .verifying }
        return nil
    }

    /// The blocks of a **partial** piece received so far (only those are filled).
    func partialBytes(of piece: Int) -> [UInt8]? { buffers[piece] }

    /// The bytes of an **in memory** piece.
    func verifiedBytes(of piece: Int) -> [UInt8]? { verifiedBytes[piece] }

    // MARK: partial

    /// Copies a block into its piece's buffer; the piece's first block makes it
    /// **partial**, hashed as its blocks arrive when `hashAsItArrives` (a reader waits for
    /// it). Returns whether it was the first: its pending mark is then due.
    mutating func receive(_ data: [UInt8], at begin: Int, of piece: Int, hashAsItArrives: @autoclosure () -> Bool) -> Bool {
        let first = buffers[piece] == nil
        if first {
            let length = info.length(ofPiece: piece)
            buffers[piece] = [UInt8](unsafeUninitializedCapacity: length) { _, count in count = length }
            if hashAsItArrives() { hashProgress[piece] = PieceHashProgress() }
        }
        buffers[piece]!.withUnsafeMutableBytes { buffer in
            data.withUnsafeBytes { source in
                (buffer.baseAddress! + begin).copyMemory(from: source.baseAddress!, byteCount: source.count)
            }
        }
        hashProgress[piece]?.arrived(begin: begin, length: data.count, in: buffers[piece]!)
        return first
    }

    /// Notes that `piece` is about to be written, in a batch: one transaction at a time
    /// records every piece queued meanwhile (a fast download starts a piece every
    /// millisecond, and one transaction each cost a few percent of the CPU). A piece joins
    /// the newest batch while it has not started; otherwise `startBatch` is called with the
    /// batch before it, and returns the new batch's task, which calls
    /// ``takePiecesToMarkPending()`` when it starts.
    mutating func markPendingSoon(_ piece: Int, startBatch: (_ previous: Task<Void, Error>?) -> Task<Void, Error>) {
        guard pendingMarks[piece] == nil else { return }
        // Pieces are waiting exactly while the newest batch has not started: join it.
        if !piecesToMarkPending.isEmpty, let open = lastPendingBatch {
            piecesToMarkPending.append(piece)
            pendingMarks[piece] = open
            return
        }
        piecesToMarkPending = [piece]
        let batch = startBatch(lastPendingBatch)
        lastPendingBatch = batch
        pendingMarks[piece] = batch
    }

    /// The pieces of the batch that starts now; later pieces go into the next one.
    mutating func takePiecesToMarkPending() -> [Int] {
        defer { piecesToMarkPending = [] }
        return piecesToMarkPending
    }

    /// The task recording that `piece` is about to be written, if one was started.
    func pendingMark(of piece: Int) -> Task<Void, Error>? { pendingMarks[piece] }

    // MARK: verifying

    /// **partial** → **verifying**: takes the complete piece's bytes (nil if it has none).
    /// A reader's piece hashed as it came, with little left, is checked here and now: its
    /// readers need not wait for the thread pool (``PieceVerification/hashedHere``).
    mutating func startVerifying(_ piece: Int, readerWaiting: Bool) -> PieceVerification? {
        guard let bytes = buffers.removeValue(forKey: piece) else { return nil }
        let progress = hashProgress.removeValue(forKey: piece)
        let expected = info.pieceHashes[piece]
        var hashedHere: Bool?
        if let progress, bytes.count - progress.hashedUpTo <= Self.inlineHashLimit {
            hashedHere = progress.finish(bytes) == expected
        }
        verifying.insert(piece)
        return PieceVerification(piece: piece, bytes: bytes, expected: expected, files: store.files(ofPiece: piece),
                                 store: store, pendingMark: pendingMarks.removeValue(forKey: piece),
                                 progress: hashedHere == nil ? progress : nil, hashedHere: hashedHere,
                                 readerWaits: readerWaiting || progress != nil)
    }

    /// **verifying** → **in memory**: the piece passed its hash check and is being written.
    mutating func holdVerified(_ piece: Int, _ bytes: [UInt8]) {
        verifying.remove(piece)
        verifiedBytes[piece] = bytes
    }

    /// The piece's check and write ended: it leaves the pipeline (to **have**, or back to
    /// **wanted**). A write's file stamps are kept, the newest of each file (checks finish
    /// out of order).
    mutating func finished(_ piece: Int, _ outcome: PieceCheck, files: [Int]) {
        verifying.remove(piece)
        verifiedBytes[piece] = nil
        guard case .written(let stamps) = outcome else { return }
        for (file, stamp) in zip(files, stamps) {
            if let stamp, stamp.modifiedNanoseconds >= fileStamps[file]?.modifiedNanoseconds ?? .min {
                fileStamps[file] = stamp
            }
        }
    }

    /// Stamps read from disk at start (a local recording, or state from the database).
    mutating func adopt(stamps: [FileStamp?]) {
        if stamps.count == fileStamps.count { fileStamps = stamps }
    }

    // MARK: recording

    /// Queues a written piece for the database. One transaction at a time records every
    /// piece queued meanwhile; `startRecorder` starts it when none runs, and the recorder
    /// takes batches with ``takeVerifiedToRecord()`` until there are none.
    mutating func recordVerified(_ piece: Int, startRecorder: () -> Task<Void, Never>) {
        verifiedToRecord.append(piece)
        unrecorded.insert(piece)
        guard verifiedRecorder == nil else { return }
        verifiedRecorder = startRecorder()
    }

    /// The pieces to record next; nil when there are none, and the recorder is done.
    mutating func takeVerifiedToRecord() -> [Int]? {
        guard !verifiedToRecord.isEmpty else {
            verifiedRecorder = nil
            return nil
        }
        defer { verifiedToRecord = [] }
        return verifiedToRecord
    }

    /// The recorder's transaction of these pieces ended (recorded, or failed for good).
    mutating func recorded(_ pieces: [Int]) {
        unrecorded.subtract(pieces)
    }

    // MARK: evicting

    /// Pieces evicted: not served from the upload cache any more.
    mutating func evicted(_ pieces: [Int]) {
        for piece in pieces { uploadCache.drop(piece) }
    }

    /// The stamps of files an eviction punched holes into (their mtime moved), so the next
    /// record of verified pieces does not take the change for an edit behind our back.
    mutating func punched(files: [Int], stamps: [FileStamp?]) {
        for (file, stamp) in zip(files, stamps) where file < fileStamps.count { fileStamps[file] = stamp }
    }

    // MARK: uploading

    /// A piece read for uploading, if it is cached.
    mutating func cachedForUpload(_ piece: Int) -> ByteBuffer? { uploadCache.take(piece) }

    mutating func keepForUpload(_ piece: Int, _ bytes: ByteBuffer) { uploadCache.keep(piece, bytes) }
}

/// What a piece's check and write came to.
enum PieceCheck: Sendable, Equatable {
    /// Verified and written; the stamps of the piece's files after the write.
    case written([FileStamp?])
    /// The bytes did not match the piece's hash.
    case failed
    /// The piece could not be written (or its pending mark recorded).
    case storageFailed(String, diskFull: Bool)

    static func storageFailed(_ error: any Error) -> PieceCheck {
        // The state database shares the disk: a full one fails the pending mark before the write.
        .storageFailed("\(error)", diskFull: (error as? StorageError)?.isDiskFull ?? ((error as? DatabaseError)?.resultCode == .SQLITE_FULL))
    }
}

/// A complete piece on its way to the store, handed from the pipeline to the task that
/// checks and writes it: its bytes, what they must hash to, and where they go.
struct PieceVerification: Sendable {
    let piece: Int
    let bytes: [UInt8]
    let expected: SHA1Digest
    let files: [Int]
    let store: any PieceStore
    /// The piece's "about to write" record, when it was started with its first block.
    let pendingMark: Task<Void, Error>?
    /// What was hashed as the blocks came, when the rest is left to the thread pool.
    let progress: PieceHashProgress?
    /// Whether the bytes matched, when they were checked on the actor; nil when not yet.
    let hashedHere: Bool?
    /// Whether a reader waits: it gets the piece from memory as soon as it is verified,
    /// before the write.
    let readerWaits: Bool

    /// Whether the bytes hash to the piece's hash. Blocking: on the thread pool.
    func matches() -> Bool { (progress?.finish(bytes) ?? SHA1.hash(bytes)) == expected }

    /// Writes the verified bytes. Blocking: on the thread pool.
    func write() throws -> PieceCheck {
        try store.writePiece(piece, bytes)
        return .written(store.fileStamps(of: files))
    }

    /// Hashes and writes in one trip to the thread pool, not two (a fast download
    /// verifies a thousand pieces a second), when nobody waits to read it in between.
    func checkAndWrite() throws -> PieceCheck { matches() ? try write() : .failed }
}
