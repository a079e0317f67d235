/// A span of one layer of a file's merkle tree, as BEP 52's hash request names it:
/// `count` nodes from `index`, `base` layers above the 16 KiB blocks, and `proofLayers`
/// ancestor layers whose uncle hashes come with them.
public struct HashRange: Hashable, Sendable {
    public let base: Int
    public let index: Int
    public let count: Int
    public let proofLayers: Int

    public init(base: Int, index: Int, count: Int, proofLayers: Int = 0) {
        self.base = base
        self.index = index
        self.count = count
        self.proofLayers = proofLayers
    }

    /// Uncle hashes an answer carries after the nodes: BEP 52 omits the first
    /// log2(count) - 1 proof layers, which the nodes themselves give.
    public var uncleCount: Int { max(0, proofLayers - max(0, count.trailingZeroBitCount - 1)) }
}

/// Where a v1 piece of a hybrid torrent lies in its file's v2 merkle tree (BEP 52), and how
/// to check the hashes a peer sends for it. With the piece's block hashes, each 16 KiB
/// block is verified as it arrives, so a reader waits for the blocks under its read, not
/// for the whole piece.
///
/// Two answers lead from the file's `pieces root` (in the info dictionary, so trusted) to
/// the block hashes: the file's piece layer (for a file of more than one piece), checked
/// against the root, then the piece's block hashes, checked against its piece-layer node.
public struct PieceTreePlace: Hashable, Sendable {
    public let file: Int
    public let root: [UInt8]
    public let pieceInFile: Int
    public let piecesInFile: Int
    public let blocksPerPiece: Int
    public let blocksInFile: Int
    /// Bytes of the file in this piece (the rest of the piece is padding).
    public let fileBytesInPiece: Int

    /// Layers from the blocks up to a piece's node: log2(blocks per piece).
    public var pieceLayer: Int { blocksPerPiece.trailingZeroBitCount }

    /// The most hashes asked for at once: BEP 52 says a request SHOULD NOT ask for more.
    public static let maxHashesPerRequest = 512

    /// Layers from the blocks up to the file's root.
    public var treeHeight: Int { MerkleTree.width(covering: blocksInFile).trailingZeroBitCount }

    /// The part of the file's piece layer that holds this piece: the whole layer (padded to
    /// a power of two) when it has at most 512 nodes, else the 512 around the piece with
    /// the uncle hashes up to the root. Nil for a file of one piece: its root is that
    /// piece's node.
    public var pieceLayerRequest: HashRange? {
        guard piecesInFile > 1 else { return nil }
        let width = MerkleTree.width(covering: piecesInFile)
        guard width > Self.maxHashesPerRequest else { return HashRange(base: pieceLayer, index: 0, count: width) }
        let count = Self.maxHashesPerRequest
        return HashRange(base: pieceLayer, index: pieceInFile / count * count, count: count,
                         proofLayers: treeHeight - pieceLayer - 1)
    }

    /// Whether the piece's blocks can be checked one by one: it has 2 to 512 blocks (a
    /// piece of one block is checked whole anyway; more than 512 would need a request
    /// larger than BEP 52 allows).
    public var isVerifiableByBlock: Bool { (2...Self.maxHashesPerRequest).contains(blocksPerPiece) }

    /// The piece's block hashes: a whole piece's worth, or for a file of one piece the
    /// file's leaves padded to a power of two.
    public var blockHashesRequest: HashRange {
        if piecesInFile == 1 { return HashRange(base: 0, index: 0, count: MerkleTree.width(covering: blocksInFile)) }
        return HashRange(base: 0, index: pieceInFile * blocksPerPiece, count: blocksPerPiece)
    }

    /// Blocks of the file in this piece, each with a leaf hash.
    public var blockCount: Int { (fileBytesInPiece + MerkleTree.blockSize - 1) / MerkleTree.blockSize }

    /// Piece hashes of the file by piece (the piece's file index), if `hashes`, the answer
    /// to ``pieceLayerRequest``, lead to the file's root.
    public func pieceLayer(from hashes: [[UInt8]]) -> [Int: [UInt8]]? {
        guard let request = pieceLayerRequest, hashes.count == request.count + request.uncleCount,
              let top = MerkleTree.root(of: Array(hashes.prefix(request.count)), width: request.count, layer: pieceLayer),
              MerkleTree.fold(top, position: request.index / request.count, uncles: Array(hashes.dropFirst(request.count))) == root
        else { return nil }
        var layer: [Int: [UInt8]] = [:]
        for offset in 0..<min(request.count, piecesInFile - request.index) { layer[request.index + offset] = hashes[offset] }
        return layer
    }

    /// The node the piece's block hashes must lead to: its piece-layer hash, or the file's
    /// root for a file of one piece.
    public func expectedPieceNode(pieceLayer: [Int: [UInt8]]?) -> [UInt8]? {
        if piecesInFile == 1 { return root }
        return pieceLayer?[pieceInFile]
    }

    /// The leaf hash of each of the piece's blocks, if `hashes`, the answer to
    /// ``blockHashesRequest``, lead to `node` (see ``expectedPieceNode(pieceLayer:)``).
    public func blockHashes(from hashes: [[UInt8]], node: [UInt8]) -> [[UInt8]]? {
        let request = blockHashesRequest
        guard hashes.count == request.count,
              MerkleTree.root(of: hashes, width: request.count, layer: 0) == node else { return nil }
        return Array(hashes.prefix(blockCount))
    }
}

extension TorrentInfo {
    /// Where `piece` lies in a v2 tree; nil for a v1-only torrent, or when the piece's file
    /// bytes are not those of one file starting on a piece boundary followed by padding.
    public func treePlace(ofPiece piece: Int) -> PieceTreePlace? {
        guard v2InfoHash != nil, piece >= 0, piece < pieceCount else { return nil }
        let start = Int64(piece) * Int64(pieceLength)
        let end = start + Int64(length(ofPiece: piece))
        // The last file starting at or before the piece's start.
        var low = 0, high = files.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if files[middle].offset <= start { low = middle } else { high = middle - 1 }
        }
        var index = low
        while index < files.count && files[index].length == 0 { index += 1 }
        guard index < files.count, let root = piecesRoots[index] else { return nil }
        let file = files[index]
        guard file.offset % Int64(pieceLength) == 0, file.byteRange.contains(start) else { return nil }
        let fileEnd = min(end, file.offset + file.length)
        var next = index + 1
        while next < files.count && files[next].offset < end {
            guard files[next].isPadding || files[next].length == 0 else { return nil }
            next += 1
        }
        let blocksPerPiece = pieceLength / MerkleTree.blockSize
        return PieceTreePlace(file: index, root: root, pieceInFile: Int((start - file.offset) / Int64(pieceLength)),
                              piecesInFile: Int((file.length - 1) / Int64(pieceLength)) + 1,
                              blocksPerPiece: blocksPerPiece,
                              blocksInFile: Int((file.length - 1) / Int64(MerkleTree.blockSize)) + 1,
                              fileBytesInPiece: Int(fileEnd - start))
    }
}
