import TorrentModel

/// A DHT node's 160-bit identifier (BEP 5), the same space as info hashes.
///
/// Kademlia measures closeness by XOR: `a.distance(to: b)` read as a big-endian
/// number. `Comparable` orders ids as those numbers, so comparing two distances
/// orders nodes by closeness to a target.
public struct NodeID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public static let byteCount = 20
    public static let bitCount = 160

    /// Exactly 20 bytes, most significant first.
    public let bytes: [UInt8]

    /// Nil unless `bytes` holds exactly 20 bytes: a shorter or longer id from the
    /// network would make every distance computed from it meaningless.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == Self.byteCount else { return nil }
        self.bytes = Array(bytes)
    }

    /// A lookup for peers of a torrent searches the node space around its info hash.
    public init(_ infoHash: InfoHash) {
        self.bytes = infoHash.bytes
    }

    private init(unchecked bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// A uniformly random id. The generator is injected so tests repeat exactly.
    public static func random(using generator: inout some RandomNumberGenerator) -> NodeID {
        var bytes = [UInt8](repeating: 0, count: byteCount)
        for index in 0..<byteCount { bytes[index] = UInt8.random(in: .min ... .max, using: &generator) }
        return NodeID(unchecked: bytes)
    }

    /// A random id whose first `length` bits equal `base`'s and whose next bit differs,
    /// so its common prefix with `base` is exactly `length` (or the id is `base` when
    /// `length` is 160). Used to pick a target inside one bucket when refreshing it.
    public static func random(sharingPrefixOf base: NodeID, length: Int,
                              using generator: inout some RandomNumberGenerator) -> NodeID {
        precondition((0...bitCount).contains(length), "a prefix is 0 to 160 bits")
        var bytes = random(using: &generator).bytes
        for bit in 0..<bitCount {
            let index = bit / 8
            let mask = UInt8(0x80) >> UInt8(bit % 8)
            if bit < length {
                bytes[index] = (bytes[index] & ~mask) | (base.bytes[index] & mask)
            } else if bit == length {
                bytes[index] = (bytes[index] & ~mask) | (~base.bytes[index] & mask)
            }
        }
        return NodeID(unchecked: bytes)
    }

    /// The XOR metric, as an id so that distances compare with `<`.
    public func distance(to other: NodeID) -> NodeID {
        var result = bytes
        for index in 0..<Self.byteCount { result[index] ^= other.bytes[index] }
        return NodeID(unchecked: result)
    }

    /// How many leading bits the two ids share (160 when equal): the index of the
    /// k-bucket `other` falls in, seen from `self`.
    public func commonPrefixLength(with other: NodeID) -> Int {
        for index in 0..<Self.byteCount {
            let difference = bytes[index] ^ other.bytes[index]
            if difference != 0 { return index * 8 + difference.leadingZeroBitCount }
        }
        return Self.bitCount
    }

    /// Whether `a` is strictly closer to `self` than `b` is.
    public func isCloser(_ a: NodeID, than b: NodeID) -> Bool {
        for index in 0..<Self.byteCount {
            let left = a.bytes[index] ^ bytes[index]
            let right = b.bytes[index] ^ bytes[index]
            if left != right { return left < right }
        }
        return false
    }

    public static func < (lhs: NodeID, rhs: NodeID) -> Bool {
        lhs.bytes.lexicographicallyPrecedes(rhs.bytes)
    }

    public var description: String {
        let digits = Array("0123456789abcdef")
        return String(bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0x0f)]] })
    }
}
