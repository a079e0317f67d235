/// STUN's 96-bit transaction id: it matches a response to its request, and XOR-MAPPED-ADDRESS
/// mixes it into IPv6 addresses.
public struct STUNTransactionID: Hashable, Sendable, CustomStringConvertible {
    public let bytes: [UInt8]

    /// Nil unless exactly 12 bytes.
    public init?(_ bytes: [UInt8]) {
        guard bytes.count == 12 else { return nil }
        self.bytes = bytes
    }

    /// 12 bytes from the generator: ids must be unguessable to an off-path sender.
    public init<G: RandomNumberGenerator>(using generator: inout G) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(12)
        for _ in 0..<12 { bytes.append(UInt8.random(in: .min ... .max, using: &generator)) }
        self.bytes = bytes
    }

    public var description: String {
        bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }
}
