/// Why a datagram is not a STUN message we can use (RFC 8489). Every malformed input ends here,
/// never in a crash: datagrams come from anyone who can reach the socket.
public enum STUNError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Shorter than the 20-byte header.
    case truncatedHeader(length: Int)
    /// The two top bits are not zero or the magic cookie is not 0x2112A442: not STUN
    /// (RFC 7983's demultiplexing would have sent it elsewhere).
    case notSTUN(reason: String)
    /// The header's length does not match the bytes after the header.
    case lengthMismatch(declared: Int, actual: Int)
    /// The header's length is not a multiple of 4, so the attributes cannot be aligned.
    case unalignedLength(Int)
    /// An attribute's length (plus padding) runs past the end of the message.
    case attributeOverrun(type: UInt16, length: Int, available: Int)
    /// An attribute whose value has the wrong size for its type (PRIORITY is 4 bytes…).
    case badAttributeLength(type: UInt16, length: Int, expected: String)
    /// A value inside an attribute that its type does not allow (address family, error class…).
    case badAttributeValue(type: UInt16, reason: String)
    /// Only FINGERPRINT may follow MESSAGE-INTEGRITY, and nothing may follow FINGERPRINT.
    case attributeAfter(type: UInt16, after: String)
    /// FINGERPRINT's CRC-32 does not match the bytes before it.
    case fingerprintMismatch(expected: UInt32, found: UInt32)
    /// There is no MESSAGE-INTEGRITY to check.
    case noMessageIntegrity
    /// MESSAGE-INTEGRITY does not match the key: a wrong password or altered bytes.
    case integrityMismatch
    /// An attribute too long for its 16-bit length field, or a message too long for the header's.
    case tooLongToEncode(what: String, length: Int)

    public var description: String {
        switch self {
        case .truncatedHeader(let length):
            "STUN message is \(length) bytes, shorter than the 20-byte header"
        case .notSTUN(let reason):
            "not a STUN message: \(reason)"
        case .lengthMismatch(let declared, let actual):
            "STUN header says \(declared) bytes of attributes, the datagram has \(actual)"
        case .unalignedLength(let length):
            "STUN message length \(length) is not a multiple of 4"
        case .attributeOverrun(let type, let length, let available):
            "STUN attribute 0x\(hex(type)) says \(length) bytes (padded to 4), only \(available) remain"
        case .badAttributeLength(let type, let length, let expected):
            "STUN attribute 0x\(hex(type)) is \(length) bytes, expected \(expected)"
        case .badAttributeValue(let type, let reason):
            "STUN attribute 0x\(hex(type)): \(reason)"
        case .attributeAfter(let type, let after):
            "STUN attribute 0x\(hex(type)) follows \(after), which must come last"
        case .fingerprintMismatch(let expected, let found):
            "STUN FINGERPRINT is 0x\(hex(found)), the message's CRC-32 gives 0x\(hex(expected)): damaged or not STUN"
        case .noMessageIntegrity:
            "STUN message has no MESSAGE-INTEGRITY to authenticate it"
        case .integrityMismatch:
            "STUN MESSAGE-INTEGRITY does not match: wrong password (ice-pwd) or altered message"
        case .tooLongToEncode(let what, let length):
            "\(what) is \(length) bytes, too long for STUN's 16-bit length"
        }
    }

    private func hex<T: BinaryInteger>(_ value: T) -> String { String(value, radix: 16) }
}
