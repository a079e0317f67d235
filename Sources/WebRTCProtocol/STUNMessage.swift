/// A STUN message (RFC 8489 §5): a 20-byte header — type (class and method), length of the
/// attributes, magic cookie 0x2112A442, 96-bit transaction id — then attributes, each padded to
/// 4 bytes. ICE's connectivity checks (RFC 8445) are Binding requests and responses.
///
/// MESSAGE-INTEGRITY and FINGERPRINT are not in ``attributes``: decoding checks FINGERPRINT and
/// keeps what ``checkIntegrity(key:)`` needs; encoding writes them last, computed. Two messages are
/// equal when their class, method, transaction id and attributes are.
public struct STUNMessage: Equatable, Sendable {
    public enum Class: UInt16, Sendable {
        case request = 0b00
        case indication = 0b01
        case successResponse = 0b10
        case errorResponse = 0b11
    }

    public static let bindingMethod: UInt16 = 0x001
    static let magicCookie: UInt32 = 0x2112_A442
    static let headerLength = 20
    static let fingerprintXOR: UInt32 = 0x5354_554E

    public var messageClass: Class
    /// 12 bits; 0x001 is Binding.
    public var method: UInt16
    public var transactionID: STUNTransactionID
    public var attributes: [STUNAttribute]
    /// Whether the decoded message carried FINGERPRINT (it matched, or decoding would have thrown).
    public private(set) var hadFingerprint = false
    /// What MESSAGE-INTEGRITY covered and its value, when the decoded message carried one.
    private var receivedIntegrity: (covered: [UInt8], code: [UInt8])?

    public init(_ messageClass: Class, method: UInt16 = bindingMethod, transactionID: STUNTransactionID,
                attributes: [STUNAttribute] = []) {
        self.messageClass = messageClass
        self.method = method & 0x0FFF
        self.transactionID = transactionID
        self.attributes = attributes
    }

    public static func == (lhs: STUNMessage, rhs: STUNMessage) -> Bool {
        lhs.messageClass == rhs.messageClass && lhs.method == rhs.method
            && lhs.transactionID == rhs.transactionID && lhs.attributes == rhs.attributes
    }

    /// RFC 7983's demultiplexing test for a datagram on a port shared with DTLS (first byte 20–63)
    /// and others: first byte 0–3 (the two zero bits of RFC 8489 and a method below 0x100, as
    /// Binding is) and the magic cookie in place.
    public static func looksLikeSTUN(_ datagram: [UInt8]) -> Bool {
        datagram.count >= headerLength && datagram[0] <= 3
            && Array(datagram[4..<8]) == magicCookie.bigEndianBytes
    }

    public var hasMessageIntegrity: Bool { receivedIntegrity != nil }

    public init(decoding bytes: [UInt8]) throws(STUNError) {
        guard bytes.count >= Self.headerLength else { throw .truncatedHeader(length: bytes.count) }
        guard bytes[0] & 0xC0 == 0 else {
            throw .notSTUN(reason: "first byte 0x\(String(bytes[0], radix: 16)) does not start with two zero bits")
        }
        let cookie: UInt32 = bytes[4..<8].bigEndianInteger()
        guard cookie == Self.magicCookie else {
            throw .notSTUN(reason: "magic cookie 0x\(String(cookie, radix: 16)) is not 0x2112a442")
        }
        let declared = Int(bytes[2..<4].bigEndianInteger() as UInt16)
        guard declared % 4 == 0 else { throw .unalignedLength(declared) }
        guard declared == bytes.count - Self.headerLength else {
            throw .lengthMismatch(declared: declared, actual: bytes.count - Self.headerLength)
        }
        let type: UInt16 = bytes[0..<2].bigEndianInteger()
        let transactionID = STUNTransactionID(Array(bytes[8..<20]))!
        self.init(Class(rawValue: (type >> 7 & 0b10) | (type >> 4 & 0b01))!,
                  method: (type & 0x000F) | (type >> 1 & 0x0070) | (type >> 2 & 0x0F80),
                  transactionID: transactionID)
        var offset = Self.headerLength
        while offset < bytes.count {
            let type: UInt16 = bytes[offset..<(offset + 2)].bigEndianInteger()
            let length = Int(bytes[(offset + 2)..<(offset + 4)].bigEndianInteger() as UInt16)
            let padded = (length + 3) & ~3
            let available = bytes.count - offset - 4
            guard padded <= available else { throw .attributeOverrun(type: type, length: length, available: available) }
            if hadFingerprint { throw .attributeAfter(type: type, after: "FINGERPRINT") }
            if receivedIntegrity != nil, type != STUNAttribute.Code.fingerprint {
                throw .attributeAfter(type: type, after: "MESSAGE-INTEGRITY")
            }
            let value = bytes[(offset + 4)..<(offset + 4 + length)]
            switch type {
            case STUNAttribute.Code.messageIntegrity:
                guard length == 20 else { throw .badAttributeLength(type: type, length: length, expected: "20") }
                // Covered: the message up to this attribute, its length field counting up to
                // the end of this attribute (RFC 8489 §14.5).
                receivedIntegrity = (Self.withLength(offset + 24 - Self.headerLength, bytes[0..<offset]), Array(value))
            case STUNAttribute.Code.fingerprint:
                guard length == 4 else { throw .badAttributeLength(type: type, length: length, expected: "4") }
                let found: UInt32 = value.bigEndianInteger()
                let expected = CRC32.checksum(Self.withLength(offset + 8 - Self.headerLength, bytes[0..<offset])) ^ Self.fingerprintXOR
                guard found == expected else { throw .fingerprintMismatch(expected: expected, found: found) }
                hadFingerprint = true
            default:
                attributes.append(try STUNAttribute(type: type, value: value, transactionID: transactionID))
            }
            offset += 4 + padded
        }
    }

    /// Checks MESSAGE-INTEGRITY with `key`: for ICE's short-term credentials, the password's bytes.
    public func checkIntegrity(key: [UInt8]) throws(STUNError) {
        guard let receivedIntegrity else { throw .noMessageIntegrity }
        let expected = HMACSHA1.authenticationCode(key: key, message: receivedIntegrity.covered)
        // Compared in constant time, so timing tells nothing about how much matched.
        let difference = zip(expected, receivedIntegrity.code).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) }
        guard difference == 0 else { throw .integrityMismatch }
    }

    /// The wire bytes: attributes in order (zero padding), then MESSAGE-INTEGRITY if there is a
    /// key, then FINGERPRINT if asked.
    public func encoded(integrityKey: [UInt8]? = nil, fingerprint: Bool = true) throws(STUNError) -> [UInt8] {
        let type = (method & 0x000F) | (method & 0x0070) << 1 | (method & 0x0F80) << 2
            | (messageClass.rawValue & 0b01) << 4 | (messageClass.rawValue & 0b10) << 7
        var bytes = type.bigEndianBytes + [0, 0] + Self.magicCookie.bigEndianBytes + transactionID.bytes
        for attribute in attributes {
            let value = attribute.encodedValue(transactionID: transactionID)
            guard value.count <= Int(UInt16.max) else {
                throw .tooLongToEncode(what: "STUN attribute 0x\(String(attribute.type, radix: 16))", length: value.count)
            }
            bytes += attribute.type.bigEndianBytes + UInt16(value.count).bigEndianBytes + value
            bytes += [UInt8](repeating: 0, count: (4 - value.count % 4) % 4)
        }
        let finalLength = bytes.count - Self.headerLength + (integrityKey == nil ? 0 : 24) + (fingerprint ? 8 : 0)
        guard finalLength <= Int(UInt16.max) else { throw .tooLongToEncode(what: "STUN message", length: finalLength) }
        if let integrityKey {
            bytes = Self.withLength(bytes.count + 24 - Self.headerLength, bytes[...])
            bytes += STUNAttribute.Code.messageIntegrity.bigEndianBytes + UInt16(20).bigEndianBytes
            bytes += HMACSHA1.authenticationCode(key: integrityKey, message: bytes.dropLast(4).map { $0 })
        }
        if fingerprint {
            bytes = Self.withLength(bytes.count + 8 - Self.headerLength, bytes[...])
            let crc = CRC32.checksum(bytes) ^ Self.fingerprintXOR
            bytes += STUNAttribute.Code.fingerprint.bigEndianBytes + UInt16(4).bigEndianBytes + crc.bigEndianBytes
        }
        return Self.withLength(bytes.count - Self.headerLength, bytes[...])
    }

    /// `bytes` (a header and attributes) with the header's length field set to `length`.
    private static func withLength(_ length: Int, _ bytes: ArraySlice<UInt8>) -> [UInt8] {
        var copy = Array(bytes)
        copy[2] = UInt8(length >> 8)
        copy[3] = UInt8(length & 0xFF)
        return copy
    }
}

extension STUNMessage {
    public var username: String? {
        attributes.lazy.compactMap { if case .username(let value) = $0 { value } else { nil } }.first
    }
    public var xorMappedAddress: ICETransportAddress? {
        attributes.lazy.compactMap { if case .xorMappedAddress(let value) = $0 { value } else { nil } }.first
    }
    public var mappedAddress: ICETransportAddress? {
        attributes.lazy.compactMap { if case .mappedAddress(let value) = $0 { value } else { nil } }.first
    }
    public var priority: UInt32? {
        attributes.lazy.compactMap { if case .priority(let value) = $0 { value } else { nil } }.first
    }
    public var errorCode: (code: Int, reason: String)? {
        attributes.lazy.compactMap { if case .errorCode(let code, let reason) = $0 { (code, reason) } else { nil } }.first
    }
    public var iceControlling: UInt64? {
        attributes.lazy.compactMap { if case .iceControlling(let value) = $0 { value } else { nil } }.first
    }
    public var iceControlled: UInt64? {
        attributes.lazy.compactMap { if case .iceControlled(let value) = $0 { value } else { nil } }.first
    }
    public var useCandidate: Bool { attributes.contains(.useCandidate) }
}
