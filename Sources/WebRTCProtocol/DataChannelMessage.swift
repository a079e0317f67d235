/// A Data Channel Establishment Protocol message (RFC 8832), sent under PPID 50 on the stream of
/// the channel it opens: the opener sends OPEN, the other side answers ACK, and from then on the
/// stream carries the channel's messages. WebTorrent's offerer opens one channel this way.
public enum DataChannelMessage: Equatable, Sendable {
    case open(DataChannelOpen)
    case ack

    static let openType: UInt8 = 0x03
    static let ackType: UInt8 = 0x02
    /// Message type, channel type, priority, reliability parameter, label and protocol lengths.
    static let openHeaderLength = 12

    public init(decoding bytes: [UInt8]) throws {
        guard let type = bytes.first else { throw DCEPError.truncated(length: 0, needed: 1) }
        switch type {
        case Self.ackType:
            guard bytes.count == 1 else { throw DCEPError.trailingBytes(length: bytes.count, expected: 1) }
            self = .ack
        case Self.openType:
            self = .open(try DataChannelOpen(decoding: bytes))
        default:
            throw DCEPError.unknownMessageType(type)
        }
    }

    public func encoded() throws -> [UInt8] {
        switch self {
        case .ack: [Self.ackType]
        case .open(let open): try open.encoded()
        }
    }
}

/// How a channel delivers (RFC 8832 §5.1): the high bit makes it unordered, the low bits say when
/// a message may be given up (never, after `reliabilityParameter` retransmissions, or after that
/// many milliseconds).
public enum DataChannelType: UInt8, Sendable {
    case reliable = 0x00
    case reliableUnordered = 0x80
    case partialReliableRetransmit = 0x01
    case partialReliableRetransmitUnordered = 0x81
    case partialReliableTimed = 0x02
    case partialReliableTimedUnordered = 0x82

    public var isOrdered: Bool { rawValue & 0x80 == 0 }
}

/// `DATA_CHANNEL_OPEN` (RFC 8832 §5.1), all integers big-endian:
/// type 0x03 (1) | channel type (1) | priority (2) | reliability parameter (4) |
/// label length (2) | protocol length (2) | label | protocol.
public struct DataChannelOpen: Equatable, Sendable {
    public var channelType: DataChannelType
    /// Relative priority (RFC 8831 §6.4: 128 below normal, 256 normal, 512 high, 1024 extra high);
    /// a receiver may ignore it.
    public var priority: UInt16
    /// Retransmissions or milliseconds for the partially reliable types; 0 for reliable ones.
    public var reliabilityParameter: UInt32
    public var label: String
    public var `protocol`: String

    public init(channelType: DataChannelType, priority: UInt16 = 0, reliabilityParameter: UInt32 = 0,
                label: String, protocol: String = "") {
        self.channelType = channelType
        self.priority = priority
        self.reliabilityParameter = reliabilityParameter
        self.label = label
        self.protocol = `protocol`
    }

    /// The channel a WebTorrent peer opens: ordered, reliable, `label` 40 hex characters, no protocol.
    public static func webTorrent(label: String, priority: UInt16 = 0) -> DataChannelOpen {
        DataChannelOpen(channelType: .reliable, priority: priority, label: label)
    }

    public init(decoding bytes: [UInt8]) throws {
        let header = DataChannelMessage.openHeaderLength
        guard bytes.count >= header else { throw DCEPError.truncated(length: bytes.count, needed: header) }
        guard bytes[0] == DataChannelMessage.openType else { throw DCEPError.unknownMessageType(bytes[0]) }
        guard let channelType = DataChannelType(rawValue: bytes[1]) else { throw DCEPError.unknownChannelType(bytes[1]) }
        let labelLength = Int(bytes.bigEndian(UInt16.self, at: 8))
        let protocolLength = Int(bytes.bigEndian(UInt16.self, at: 10))
        let total = header + labelLength + protocolLength
        guard bytes.count >= total else { throw DCEPError.truncated(length: bytes.count, needed: total) }
        guard bytes.count == total else { throw DCEPError.trailingBytes(length: bytes.count, expected: total) }
        let label = try Self.utf8(bytes[header..<(header + labelLength)], field: "label")
        let proto = try Self.utf8(bytes[(header + labelLength)..<total], field: "protocol")
        self.init(channelType: channelType, priority: bytes.bigEndian(UInt16.self, at: 2),
                  reliabilityParameter: bytes.bigEndian(UInt32.self, at: 4), label: label, protocol: proto)
    }

    /// Decodes strictly: a replacement character in the result means the bytes were not UTF-8.
    private static func utf8(_ bytes: ArraySlice<UInt8>, field: String) throws -> String {
        let text = String(decoding: bytes, as: UTF8.self)
        guard text.utf8.elementsEqual(bytes) else { throw DCEPError.notUTF8(field: field) }
        return text
    }

    public func encoded() throws -> [UInt8] {
        let label = Array(label.utf8)
        let proto = Array(`protocol`.utf8)
        guard label.count <= UInt16.max else { throw DCEPError.fieldTooLong(field: "label", length: label.count) }
        guard proto.count <= UInt16.max else { throw DCEPError.fieldTooLong(field: "protocol", length: proto.count) }
        var bytes = [DataChannelMessage.openType, channelType.rawValue]
        bytes.reserveCapacity(DataChannelMessage.openHeaderLength + label.count + proto.count)
        bytes.appendBigEndian(priority)
        bytes.appendBigEndian(reliabilityParameter)
        bytes.appendBigEndian(UInt16(label.count))
        bytes.appendBigEndian(UInt16(proto.count))
        return bytes + label + proto
    }
}

extension Array where Element == UInt8 {
    fileprivate mutating func appendBigEndian<T: FixedWidthInteger>(_ value: T) {
        for shift in stride(from: T.bitWidth - 8, through: 0, by: -8) {
            append(UInt8(truncatingIfNeeded: value >> shift))
        }
    }

    /// Reads a big-endian integer at `offset`; the caller has checked the length.
    fileprivate func bigEndian<T: FixedWidthInteger>(_: T.Type, at offset: Int) -> T {
        self[offset..<(offset + T.bitWidth / 8)].reduce(0) { $0 << 8 | T($1) }
    }
}
