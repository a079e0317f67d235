import TorrentModel

/// Collects the info dictionary of a torrent added by magnet link, piece by
/// piece from `ut_metadata` data messages (BEP 9), and hands back the parsed
/// ``TorrentInfo`` once it is complete and hashes to the magnet's info hash.
///
/// A value type with no timers or peers: the engine decides which piece to
/// ask which peer for (``missingPieces()``), and feeds what arrives to
/// ``receive(piece:bytes:)``. Pieces are not verifiable on their own, so a
/// bad whole throws all of them away: any of them may be the bad one.
public struct MetadataAssembler: Sendable {
    public let infoHash: InfoHash
    public let totalSize: Int
    public let pieceCount: Int
    private var pieces: [[UInt8]?]

    /// `totalSize` is the peer's `metadata_size` and must be `1...ExtensionHandshake.maxMetadataSize`.
    public init(infoHash: InfoHash, totalSize: Int) throws(PeerWireError) {
        guard totalSize >= 1 && totalSize <= ExtensionHandshake.maxMetadataSize else {
            throw .metadataSizeOutOfRange(totalSize)
        }
        self.infoHash = infoHash
        self.totalSize = totalSize
        self.pieceCount = Self.pieceCount(forSize: totalSize)
        self.pieces = Array(repeating: nil, count: pieceCount)
    }

    /// How many 16 KiB pieces metadata of `size` bytes has.
    public static func pieceCount(forSize size: Int) -> Int {
        (size + MetadataMessage.metadataPieceLength - 1) / MetadataMessage.metadataPieceLength
    }

    /// The length piece `index` must have: 16 KiB, except a shorter last piece.
    public func expectedLength(ofPiece index: Int) -> Int {
        precondition(index >= 0 && index < pieceCount, "metadata piece \(index) out of range 0..<\(pieceCount)")
        return min(MetadataMessage.metadataPieceLength, totalSize - index * MetadataMessage.metadataPieceLength)
    }

    /// Pieces not received yet, in increasing order.
    public func missingPieces() -> [Int] {
        pieces.indices.filter { pieces[$0] == nil }
    }

    public var receivedPieceCount: Int { pieces.count { $0 != nil } }

    /// Stores one piece. Returns the parsed info dictionary when this piece
    /// completes it; nil while pieces are missing.
    ///
    /// A piece with an index out of range or the wrong length is refused and
    /// nothing changes. A complete set that hashes wrong, or hashes right but
    /// is not a valid info dictionary, clears every piece (so all are fetched
    /// again, perhaps from other peers) and throws. A piece received twice
    /// replaces the first copy.
    public mutating func receive(piece index: Int, bytes: [UInt8]) throws(PeerWireError) -> TorrentInfo? {
        guard index >= 0 && index < pieceCount else {
            throw .metadataPieceOutOfRange(piece: index, pieceCount: pieceCount)
        }
        let expected = expectedLength(ofPiece: index)
        guard bytes.count == expected else {
            throw .metadataPieceLength(piece: index, actual: bytes.count, expected: expected)
        }
        pieces[index] = bytes
        guard !pieces.contains(where: { $0 == nil }) else { return nil }

        var whole: [UInt8] = []
        whole.reserveCapacity(totalSize)
        for piece in pieces { whole.append(contentsOf: piece!) }
        let actual = InfoHash(SHA1.hash(whole))
        guard actual == infoHash else {
            reset()
            throw .metadataHashMismatch(expected: infoHash, actual: actual)
        }
        do {
            return try TorrentInfo(bytes: whole)
        } catch {
            reset()
            throw .invalidMetadata(error)
        }
    }

    /// Forgets every piece received.
    public mutating func reset() {
        pieces = Array(repeating: nil, count: pieceCount)
    }

    /// Piece `index` of an info dictionary we have, to answer a `ut_metadata`
    /// request; nil when there is no such piece (answer with a reject).
    public static func piece(_ index: Int, of rawInfo: [UInt8]) -> [UInt8]? {
        let length = MetadataMessage.metadataPieceLength
        guard index >= 0 && index < pieceCount(forSize: rawInfo.count) else { return nil }
        let start = index * length
        return Array(rawInfo[start..<min(start + length, rawInfo.count)])
    }
}
