/// Why a Data Channel Establishment Protocol message (RFC 8832) cannot be read or written.
public enum DCEPError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Empty, or shorter than its fixed header or the lengths it declares.
    case truncated(length: Int, needed: Int)
    /// Bytes beyond what the message's lengths account for.
    case trailingBytes(length: Int, expected: Int)
    /// A message type other than OPEN (0x03) or ACK (0x02).
    case unknownMessageType(UInt8)
    /// A channel type RFC 8832 §8.2.2 does not define.
    case unknownChannelType(UInt8)
    /// The label or protocol is not UTF-8.
    case notUTF8(field: String)
    /// A label or protocol longer than the 65535 bytes its length field holds.
    case fieldTooLong(field: String, length: Int)

    public var description: String {
        switch self {
        case .truncated(let length, let needed):
            "data channel message is \(length) bytes, shorter than the \(needed) its header says"
        case .trailingBytes(let length, let expected):
            "data channel message is \(length) bytes, longer than the \(expected) its lengths account for"
        case .unknownMessageType(let type):
            "data channel message type 0x\(String(type, radix: 16)) is not OPEN (0x03) or ACK (0x02)"
        case .unknownChannelType(let type):
            "data channel type 0x\(String(type, radix: 16)) is not one RFC 8832 defines"
        case .notUTF8(let field):
            "data channel \(field) is not UTF-8"
        case .fieldTooLong(let field, let length):
            "data channel \(field) is \(length) bytes, over the 65535 its length field holds"
        }
    }
}
