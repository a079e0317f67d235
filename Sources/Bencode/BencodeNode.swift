/// A decoded value together with the byte range it was decoded from.
///
/// The info hash of a torrent is the SHA-1 of the info dictionary's original
/// bytes, so callers need to find those bytes again after decoding; every node
/// keeps its `range` in the input for that.
public struct BencodeNode: Sendable {
    public struct Entry: Sendable {
        public let key: [UInt8]
        public let node: BencodeNode
    }

    public indirect enum Kind: Sendable {
        case integer(Int64)
        case bytes([UInt8])
        case list([BencodeNode])
        /// Entries in the order of the input, which is sorted by key.
        case dictionary([Entry])
    }

    public let kind: Kind
    /// Offsets of the value's first byte and one past its last, in the decoded input.
    public let range: Range<Int>

    public init(kind: Kind, range: Range<Int>) {
        self.kind = kind
        self.range = range
    }

    /// The child under a text key when this node is a dictionary.
    public subscript(key: String) -> BencodeNode? {
        guard case .dictionary(let entries) = kind else { return nil }
        let wanted = Array(key.utf8)
        return entries.first { $0.key == wanted }?.node
    }

    /// The value without byte ranges.
    public var value: BencodeValue {
        switch kind {
        case .integer(let value): return .integer(value)
        case .bytes(let bytes): return .bytes(bytes)
        case .list(let nodes): return .list(nodes.map(\.value))
        case .dictionary(let entries):
            var result: [[UInt8]: BencodeValue] = [:]
            result.reserveCapacity(entries.count)
            for entry in entries { result[entry.key] = entry.node.value }
            return .dictionary(result)
        }
    }
}
