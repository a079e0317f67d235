import NIOConcurrencyHelpers
import SystemPackage
import TorrentModel

/// A torrent's pieces kept in memory: a ``PieceStore`` for tests that need no disk, and
/// whose writes can be made to fail (a full disk, for one piece and not the others).
///
/// It has no files: a file's stamp is its length and a count of the writes into it (a
/// logical clock, not the wall clock), nil until a piece of it is written; there is no
/// path to hand a reader.
public final class InMemoryPieceStore: PieceStore {
    public let info: TorrentInfo
    private let state: NIOLockedValueBox<State>

    private struct State {
        var pieces: [Int: [UInt8]] = [:]
        /// Pieces whose writes throw, and the system error they throw.
        var failingWrites: [Int: Errno] = [:]
        var writes: Int64 = 0
        /// The write count at each file's last write.
        var lastWriteOfFile: [Int: Int64] = [:]
        var isClosed = false
    }

    /// `failingWrites`: pieces whose every write throws the given error (ENOSPC: the
    /// disk is full, which `memofs status` reports as such).
    public init(info: TorrentInfo, failingWrites: [Int: Errno] = [:]) {
        self.info = info
        self.state = NIOLockedValueBox(State(failingWrites: failingWrites))
    }

    /// Makes writes of `pieces` throw `error` from now on.
    public func failWrites(of pieces: Set<Int>, with error: Errno = .noSpace) {
        state.withLockedValue { state in
            for piece in pieces { state.failingWrites[piece] = error }
        }
    }

    /// Makes writes of `pieces` succeed again (space was freed).
    public func allowWrites(of pieces: Set<Int>) {
        state.withLockedValue { state in
            for piece in pieces { state.failingWrites[piece] = nil }
        }
    }

    /// The pieces written so far.
    public var writtenPieces: Set<Int> { state.withLockedValue { Set($0.pieces.keys) } }

    public func read(at offset: Int64, length: Int) throws -> [UInt8] {
        guard offset >= 0, length >= 0, offset + Int64(length) <= info.totalLength else {
            throw StorageError(Self.name, "range \(offset)+\(length) is outside the torrent (\(info.totalLength) bytes)")
        }
        guard length > 0 else { return [] }
        let pieceLength = Int64(info.pieceLength)
        return try state.withLockedValue { state in
            guard !state.isClosed else { throw StorageError(Self.name, "the torrent's storage is closed") }
            var output = [UInt8]()
            output.reserveCapacity(length)
            var position = offset
            let end = offset + Int64(length)
            while position < end {
                let piece = Int(position / pieceLength)
                guard let bytes = state.pieces[piece] else {
                    throw StorageError(Self.name, "piece \(piece) was never written")
                }
                let from = Int(position - Int64(piece) * pieceLength)
                let to = Int(min(end - Int64(piece) * pieceLength, Int64(bytes.count)))
                output += bytes[from..<to]
                position += Int64(to - from)
            }
            return output
        }
    }

    public func writePiece(_ piece: Int, _ bytes: [UInt8]) throws {
        guard piece >= 0, piece < info.pieceCount, bytes.count == info.length(ofPiece: piece) else {
            throw StorageError(Self.name, "piece \(piece) of \(bytes.count) bytes is not a piece of the torrent")
        }
        let files = files(ofPiece: piece)
        try state.withLockedValue { state in
            guard !state.isClosed else { throw StorageError(Self.name, "the torrent's storage is closed") }
            if let error = state.failingWrites[piece] { throw StorageError(Self.name, error) }
            state.pieces[piece] = bytes
            state.writes += 1
            for file in files { state.lastWriteOfFile[file] = state.writes }
        }
    }

    public func discardPiece(_ piece: Int) throws {
        let files = files(ofPiece: piece)
        try state.withLockedValue { state in
            guard !state.isClosed else { throw StorageError(Self.name, "the torrent's storage is closed") }
            state.pieces[piece] = nil
            state.writes += 1
            for file in files { state.lastWriteOfFile[file] = state.writes }
        }
    }

    public func fileStamps(of files: [Int]) -> [FileStamp?] {
        state.withLockedValue { state in
            files.map { file in
                state.lastWriteOfFile[file].map { FileStamp(size: info.files[file].length, modifiedNanoseconds: $0) }
            }
        }
    }

    /// An empty file has no bytes to keep.
    public func createEmptyFiles() throws {}

    public func filePath(of file: TorrentFile) -> String? { nil }

    public func close() {
        state.withLockedValue { $0.isClosed = true }
    }

    /// What errors name as the path.
    private static let name = "(memory)"
}
