import TorrentModel

/// SHA-1 of a piece a reader waits for, computed as its blocks arrive in order, so that
/// when the last block lands only that block is left to hash: the reader's wait loses the
/// time of hashing the whole piece.
///
/// Owned by the torrent actor while blocks arrive, then handed whole to the verification
/// task, so it is never used from two places at once.
final class PieceHashProgress: @unchecked Sendable {
    private let hasher = SHA1Hasher()
    /// Bytes from the piece's start already hashed.
    private(set) var hashedUpTo = 0
    /// Offsets of blocks that arrived but are not hashed yet (a gap before them).
    private var waiting: [Int: Int] = [:]

    /// Notes a block copied into `buffer` and hashes every block now contiguous with the
    /// hashed part.
    func arrived(begin: Int, length: Int, in buffer: [UInt8]) {
        guard begin >= hashedUpTo else { return }
        waiting[begin] = length
        while let next = waiting.removeValue(forKey: hashedUpTo) {
            buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[hashedUpTo..<(hashedUpTo + next)])) }
            hashedUpTo += next
        }
    }

    /// The digest of the whole piece: what was not hashed yet is hashed now.
    func finish(_ buffer: [UInt8]) -> SHA1Digest {
        if hashedUpTo < buffer.count {
            buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[hashedUpTo...])) }
        }
        return hasher.finish()
    }
}
