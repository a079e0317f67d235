/// The concatenated 20-byte SHA-1 hashes of every piece, kept in one buffer so a
/// torrent with a million pieces is one allocation, not a million.
public struct PieceHashes: Hashable, Sendable, RandomAccessCollection {
    public let bytes: [UInt8]

    public init?(concatenated bytes: [UInt8]) {
        guard bytes.count % SHA1Digest.byteCount == 0 else { return nil }
        self.bytes = bytes
    }

    public init(_ digests: [SHA1Digest]) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digests.count * SHA1Digest.byteCount)
        for digest in digests { bytes.append(contentsOf: digest.bytes) }
        self.bytes = bytes
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { bytes.count / SHA1Digest.byteCount }

    public subscript(index: Int) -> SHA1Digest {
        let start = index * SHA1Digest.byteCount
        return SHA1Digest(bytes: bytes[start..<(start + SHA1Digest.byteCount)])!
    }

    /// Whether `data` is the piece at `index`, comparing without allocating a digest array.
    public func matches(_ digest: SHA1Digest, at index: Int) -> Bool {
        let start = index * SHA1Digest.byteCount
        return bytes[start..<(start + SHA1Digest.byteCount)].elementsEqual(digest.bytes)
    }
}
