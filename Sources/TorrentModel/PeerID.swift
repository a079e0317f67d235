/// A peer's 20-byte id (BEP 3). memofs uses the Azureus style BEP 20 describes:
/// `-MF0100-` followed by 12 random bytes, so other clients can tell what it is.
public struct PeerID: Hashable, Sendable, CustomStringConvertible {
    public static let byteCount = 20
    public static let clientPrefix = Array("-MF0100-".utf8)

    public let bytes: [UInt8]

    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == Self.byteCount else { return nil }
        self.bytes = Array(bytes)
    }

    /// A fresh id with memofs's prefix and random printable bytes.
    public static func random<G: RandomNumberGenerator>(using generator: inout G) -> PeerID {
        let alphabet = Array("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8)
        let tail = (0..<(byteCount - clientPrefix.count)).map { _ in alphabet.randomElement(using: &generator)! }
        return PeerID(bytes: clientPrefix + tail)!
    }

    public static func random() -> PeerID {
        var generator = SystemRandomNumberGenerator()
        return random(using: &generator)
    }

    public var description: String {
        String(decoding: bytes.map { $0 >= 0x20 && $0 < 0x7f ? $0 : UInt8(ascii: ".") }, as: UTF8.self)
    }
}
