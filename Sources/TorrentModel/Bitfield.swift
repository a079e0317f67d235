/// Which pieces a peer (or we) have, in the wire layout of BEP 3's `bitfield`
/// message: piece 0 is the high bit of the first byte, spare bits at the end are zero.
public struct Bitfield: Hashable, Sendable {
    public let count: Int
    public private(set) var bytes: [UInt8]
    /// How many bits are set, kept up to date so "is it complete" is O(1).
    public private(set) var setCount: Int

    public init(count: Int, allSet: Bool = false) {
        precondition(count >= 0)
        self.count = count
        self.bytes = [UInt8](repeating: allSet ? 0xff : 0, count: (count + 7) / 8)
        self.setCount = allSet ? count : 0
        if allSet { clearSpareBits() }
    }

    /// Reads a `bitfield` payload. Nil when its length is wrong for `count` pieces or a
    /// spare bit is set, both of which BEP 3 says a peer must not send.
    public init?(wireBytes: [UInt8], count: Int) {
        guard wireBytes.count == (count + 7) / 8 else { return nil }
        self.count = count
        self.bytes = wireBytes
        let spare = bytes.count * 8 - count
        if spare > 0, bytes[bytes.count - 1] & UInt8((1 << spare) - 1) != 0 { return nil }
        self.setCount = wireBytes.reduce(0) { $0 + $1.nonzeroBitCount }
    }

    public subscript(index: Int) -> Bool {
        get {
            precondition(index >= 0 && index < count, "piece \(index) out of range 0..<\(count)")
            return bytes[index >> 3] & (0x80 >> UInt8(index & 7)) != 0
        }
        set {
            precondition(index >= 0 && index < count, "piece \(index) out of range 0..<\(count)")
            let mask: UInt8 = 0x80 >> UInt8(index & 7)
            let wasSet = bytes[index >> 3] & mask != 0
            guard wasSet != newValue else { return }
            if newValue {
                bytes[index >> 3] |= mask
                setCount += 1
            } else {
                bytes[index >> 3] &= ~mask
                setCount -= 1
            }
        }
    }

    public var isComplete: Bool { setCount == count }
    public var isEmpty: Bool { setCount == 0 }

    /// Indices of the set bits, in order.
    public var setIndices: [Int] { (0..<count).filter { self[$0] } }

    private mutating func clearSpareBits() {
        let spare = bytes.count * 8 - count
        if spare > 0 { bytes[bytes.count - 1] &= ~UInt8((1 << spare) - 1) }
    }
}
