import NIOCore

/// Whole pieces read from the store for uploading, most recently used last, so a peer
/// asking for a piece's blocks in order costs one disk read; blocks are sent as slices of
/// the cached piece, never copies.
///
/// Holds at most `capacity` bytes, except that the newest piece always stays (a piece
/// bigger than the capacity is still served from one read).
struct UploadCache {
    let capacity: Int
    private var entries: [(piece: Int, bytes: ByteBuffer)] = []
    private(set) var totalBytes = 0

    init(capacity: Int) { self.capacity = capacity }

    var pieces: [Int] { entries.map(\.piece) }

    /// The piece's bytes, if cached; it becomes the most recently used.
    mutating func take(_ piece: Int) -> ByteBuffer? {
        guard let index = entries.firstIndex(where: { $0.piece == piece }) else { return nil }
        let entry = entries.remove(at: index)
        entries.append(entry)
        return entry.bytes
    }

    /// Drops a piece (evicted: it is no longer ours to serve).
    mutating func drop(_ piece: Int) {
        guard let index = entries.firstIndex(where: { $0.piece == piece }) else { return }
        totalBytes -= entries.remove(at: index).bytes.readableBytes
    }

    /// Caches a piece just read, dropping the least recently used beyond the capacity.
    mutating func keep(_ piece: Int, _ bytes: ByteBuffer) {
        if let index = entries.firstIndex(where: { $0.piece == piece }) {
            totalBytes -= entries.remove(at: index).bytes.readableBytes
        }
        entries.append((piece, bytes))
        totalBytes += bytes.readableBytes
        while totalBytes > capacity && entries.count > 1 {
            totalBytes -= entries.removeFirst().bytes.readableBytes
        }
    }
}
