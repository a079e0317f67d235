import TorrentModel

/// BEP 52's hash request, and the header of its answers (`hashes`, `hash reject`): which
/// file (by its `pieces root`), which layer (`base` above the blocks), which nodes, and how
/// many layers of uncle hashes above them.
public struct HashRequest: Hashable, Sendable {
    public static let wireLength = 32 + 16

    public let piecesRoot: [UInt8]
    public let base: UInt32
    public let index: UInt32
    public let count: UInt32
    public let proofLayers: UInt32

    public init(piecesRoot: [UInt8], base: UInt32, index: UInt32, count: UInt32, proofLayers: UInt32 = 0) {
        precondition(piecesRoot.count == 32, "a pieces root has 32 bytes, not \(piecesRoot.count)")
        self.piecesRoot = piecesRoot
        self.base = base
        self.index = index
        self.count = count
        self.proofLayers = proofLayers
    }

    public init(piecesRoot: [UInt8], range: HashRange) {
        self.init(piecesRoot: piecesRoot, base: UInt32(range.base), index: UInt32(range.index), count: UInt32(range.count),
                  proofLayers: UInt32(range.proofLayers))
    }

    init(payload: ArraySlice<UInt8>) {
        let start = payload.startIndex
        piecesRoot = Array(payload[start..<(start + 32)])
        base = BigEndian.uint32(payload, at: start + 32)
        index = BigEndian.uint32(payload, at: start + 36)
        count = BigEndian.uint32(payload, at: start + 40)
        proofLayers = BigEndian.uint32(payload, at: start + 44)
    }

    func append(to output: inout [UInt8]) {
        output.append(contentsOf: piecesRoot)
        BigEndian.append(base, to: &output)
        BigEndian.append(index, to: &output)
        BigEndian.append(count, to: &output)
        BigEndian.append(proofLayers, to: &output)
    }
}
