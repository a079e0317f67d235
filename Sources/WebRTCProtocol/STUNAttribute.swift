/// One STUN attribute (RFC 8489 §14, RFC 8445 §16.1), decoded. MESSAGE-INTEGRITY and
/// FINGERPRINT are not here: ``STUNMessage`` checks and writes them itself, since they cover the
/// bytes around them. Attributes this module does not interpret are kept as ``other(type:value:)``.
public enum STUNAttribute: Equatable, Sendable {
    case mappedAddress(ICETransportAddress)
    case xorMappedAddress(ICETransportAddress)
    case username(String)
    /// Error class and number as one code (`400`, `401`, `420`, `487`) and the reason phrase.
    case errorCode(code: Int, reason: String)
    case unknownAttributes([UInt16])
    case software(String)
    /// The priority a peer-reflexive candidate learned from this check would get (RFC 8445 §7.1.1).
    case priority(UInt32)
    /// The controlling agent nominates this pair.
    case useCandidate
    /// The sender is controlled; the value is its tie-breaker.
    case iceControlled(UInt64)
    /// The sender is controlling; the value is its tie-breaker.
    case iceControlling(UInt64)
    case other(type: UInt16, value: [UInt8])

    enum Code {
        static let mappedAddress: UInt16 = 0x0001
        static let username: UInt16 = 0x0006
        static let messageIntegrity: UInt16 = 0x0008
        static let errorCode: UInt16 = 0x0009
        static let unknownAttributes: UInt16 = 0x000A
        static let xorMappedAddress: UInt16 = 0x0020
        static let priority: UInt16 = 0x0024
        static let useCandidate: UInt16 = 0x0025
        static let software: UInt16 = 0x8022
        static let fingerprint: UInt16 = 0x8028
        static let iceControlled: UInt16 = 0x8029
        static let iceControlling: UInt16 = 0x802A
    }

    public var type: UInt16 {
        switch self {
        case .mappedAddress: Code.mappedAddress
        case .xorMappedAddress: Code.xorMappedAddress
        case .username: Code.username
        case .errorCode: Code.errorCode
        case .unknownAttributes: Code.unknownAttributes
        case .software: Code.software
        case .priority: Code.priority
        case .useCandidate: Code.useCandidate
        case .iceControlled: Code.iceControlled
        case .iceControlling: Code.iceControlling
        case .other(let type, _): type
        }
    }

    /// Types below 0x8000 must be understood (RFC 8489 §14): a request carrying one we do not know
    /// is answered 420.
    public var isUnknownComprehensionRequired: Bool {
        if case .other(let type, _) = self { return type < 0x8000 }
        return false
    }

    init(type: UInt16, value: ArraySlice<UInt8>, transactionID: STUNTransactionID) throws(STUNError) {
        func exactly(_ length: Int) throws(STUNError) {
            guard value.count == length else {
                throw .badAttributeLength(type: type, length: value.count, expected: "\(length)")
            }
        }
        switch type {
        case Code.mappedAddress:
            self = .mappedAddress(try Self.address(value, type: type, xorWith: nil))
        case Code.xorMappedAddress:
            self = .xorMappedAddress(try Self.address(value, type: type, xorWith: transactionID))
        case Code.username:
            guard value.count <= 513 else { throw .badAttributeLength(type: type, length: value.count, expected: "at most 513") }
            self = .username(try Self.utf8(value, type: type))
        case Code.software:
            self = .software(try Self.utf8(value, type: type))
        case Code.errorCode:
            guard value.count >= 4 else { throw .badAttributeLength(type: type, length: value.count, expected: "4 or more") }
            let start = value.startIndex
            let errorClass = Int(value[start + 2] & 0x07)
            let number = Int(value[start + 3])
            guard (3...6).contains(errorClass), number < 100 else {
                throw .badAttributeValue(type: type, reason: "error class \(errorClass) number \(number) is not 300 to 699")
            }
            self = .errorCode(code: errorClass * 100 + number, reason: try Self.utf8(value.dropFirst(4), type: type))
        case Code.unknownAttributes:
            guard value.count % 2 == 0 else { throw .badAttributeLength(type: type, length: value.count, expected: "a multiple of 2") }
            self = .unknownAttributes(stride(from: value.startIndex, to: value.endIndex, by: 2).map {
                UInt16(value[$0]) << 8 | UInt16(value[$0 + 1])
            })
        case Code.priority:
            try exactly(4)
            self = .priority(value.bigEndianInteger())
        case Code.useCandidate:
            try exactly(0)
            self = .useCandidate
        case Code.iceControlled:
            try exactly(8)
            self = .iceControlled(value.bigEndianInteger())
        case Code.iceControlling:
            try exactly(8)
            self = .iceControlling(value.bigEndianInteger())
        default:
            self = .other(type: type, value: Array(value))
        }
    }

    /// The value bytes, unpadded.
    func encodedValue(transactionID: STUNTransactionID) -> [UInt8] {
        switch self {
        case .mappedAddress(let address): Self.encode(address, xorWith: nil)
        case .xorMappedAddress(let address): Self.encode(address, xorWith: transactionID)
        case .username(let text), .software(let text): Array(text.utf8)
        case .errorCode(let code, let reason):
            [0, 0, UInt8(clamping: (code / 100) & 0x07), UInt8(clamping: code % 100)] + Array(reason.utf8)
        case .unknownAttributes(let types): types.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
        case .priority(let value): value.bigEndianBytes
        case .useCandidate: []
        case .iceControlled(let value), .iceControlling(let value): value.bigEndianBytes
        case .other(_, let value): value
        }
    }

    private static let cookie: [UInt8] = [0x21, 0x12, 0xA4, 0x42]

    /// (XOR-)MAPPED-ADDRESS: reserved (1), family (1: 0x01 IPv4, 0x02 IPv6), port (2), address;
    /// the XOR form masks the port with the cookie's top half and the address with the cookie
    /// followed by the transaction id.
    private static func address(_ value: ArraySlice<UInt8>, type: UInt16, xorWith transactionID: STUNTransactionID?) throws(STUNError) -> ICETransportAddress {
        guard value.count >= 4 else { throw .badAttributeLength(type: type, length: value.count, expected: "8 (IPv4) or 20 (IPv6)") }
        let bytes = Array(value)
        let addressLength: Int
        switch bytes[1] {
        case 0x01: addressLength = 4
        case 0x02: addressLength = 16
        default: throw .badAttributeValue(type: type, reason: "address family 0x\(String(bytes[1], radix: 16)) is not IPv4 (1) or IPv6 (2)")
        }
        guard bytes.count == 4 + addressLength else {
            throw .badAttributeLength(type: type, length: bytes.count, expected: "\(4 + addressLength)")
        }
        var port = UInt16(bytes[2]) << 8 | UInt16(bytes[3])
        var ip = Array(bytes[4...])
        if let transactionID {
            port ^= 0x2112
            let mask = cookie + transactionID.bytes
            for index in ip.indices { ip[index] ^= mask[index] }
        }
        // Length checked above, so the initializer cannot fail.
        return ICETransportAddress(ip: ip, port: port)!
    }

    private static func encode(_ address: ICETransportAddress, xorWith transactionID: STUNTransactionID?) -> [UInt8] {
        var port = address.port
        var ip = address.ip
        if let transactionID {
            port ^= 0x2112
            let mask = cookie + transactionID.bytes
            for index in ip.indices { ip[index] ^= mask[index] }
        }
        return [0, address.family == .ipv4 ? 0x01 : 0x02, UInt8(port >> 8), UInt8(port & 0xFF)] + ip
    }

    private static func utf8(_ bytes: ArraySlice<UInt8>, type: UInt16) throws(STUNError) -> String {
        let text = String(decoding: bytes, as: UTF8.self)
        guard text.utf8.elementsEqual(bytes) else { throw .badAttributeValue(type: type, reason: "text is not UTF-8") }
        return text
    }
}

extension Collection where Element == UInt8 {
    /// Reads the whole collection as one big-endian integer; the caller has checked the length.
    func bigEndianInteger<T: FixedWidthInteger>() -> T {
        reduce(0) { $0 << 8 | T($1) }
    }
}

extension FixedWidthInteger {
    var bigEndianBytes: [UInt8] {
        stride(from: Self.bitWidth - 8, through: 0, by: -8).map { UInt8(truncatingIfNeeded: self >> $0) }
    }
}
