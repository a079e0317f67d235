/// One file of a torrent, placed in the torrent's byte stream.
public struct TorrentFile: Hashable, Sendable {
    /// Path components relative to the download folder: the torrent's name alone for a
    /// single-file torrent, the name followed by the file's path for a multi-file one
    /// (as libtorrent's `file_storage.file_path` gives it). Every component passed ``SafePath``.
    public let path: [String]
    public let length: Int64
    /// Where the file starts in the concatenation of all files.
    public let offset: Int64
    /// A BEP 47 padding file (`attr` contains `p`): zeros that align the next file, never written to disk.
    public let isPadding: Bool

    public init(path: [String], length: Int64, offset: Int64, isPadding: Bool = false) {
        self.path = path
        self.length = length
        self.offset = offset
        self.isPadding = isPadding
    }

    public var pathString: String { path.joined(separator: "/") }
    public var byteRange: Range<Int64> { offset..<(offset + length) }
}
