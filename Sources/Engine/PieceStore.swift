import TorrentModel

/// Where a torrent's verified pieces are kept: what the torrent reads and writes, and
/// nothing more, so its piece pipeline runs the same against files on disk
/// (``TorrentStorage``) and against memory (``InMemoryPieceStore``, for tests that need no
/// disk and a write that fails on demand).
///
/// Calls block: the torrent makes them on the session's thread pool, never on an event
/// loop, and from several threads at once.
public protocol PieceStore: AnyObject, Sendable {
    var info: TorrentInfo { get }
    /// `length` bytes at `offset` of the torrent's byte stream; bytes never written are an
    /// error, never made-up data.
    func read(at offset: Int64, length: Int) throws -> [UInt8]
    /// Stores a whole piece that passed its hash check.
    func writePiece(_ piece: Int, _ bytes: [UInt8]) throws
    /// Size and modification time of each of these files, nil where there is none: how a
    /// restart tells whether files changed behind memofs's back.
    func fileStamps(of files: [Int]) -> [FileStamp?]
    /// Gives back the disk space of a piece evicted from the cache: its bytes are gone (a
    /// file's size stays), and nothing may read them before the piece is written again.
    func discardPiece(_ piece: Int) throws
    /// Creates the torrent's empty files, which no piece covers and so no write creates.
    func createEmptyFiles() throws
    /// Where a file lies on disk, for handing it to a reader whole (FUSE passthrough); nil
    /// when the store has no files.
    func filePath(of file: TorrentFile) -> String?
    /// Ends the store's use: later reads and writes fail.
    func close()
}

extension PieceStore {
    public func readPiece(_ piece: Int) throws -> [UInt8] {
        try read(at: Int64(piece) * Int64(info.pieceLength), length: info.length(ofPiece: piece))
    }

    /// Indices of the files that hold bytes of `piece`.
    public func files(ofPiece piece: Int) -> [Int] {
        let start = Int64(piece) * Int64(info.pieceLength)
        let end = start + Int64(info.length(ofPiece: piece))
        return info.files.indices.filter { index in
            let file = info.files[index]
            return file.length > 0 && file.offset < end && file.offset + file.length > start
        }
    }
}
