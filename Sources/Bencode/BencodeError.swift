/// Why a byte sequence is not canonical bencode, and where.
public struct BencodeError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Reason: Equatable, Sendable {
        case unexpectedEnd
        case unexpectedByte(UInt8)
        case emptyInteger
        case leadingZero
        case negativeZero
        case integerOverflow
        case stringLengthTooLong(limit: Int)
        case keyNotAString
        case unsortedKey
        case duplicateKey
        case nestingTooDeep(limit: Int)
        case tooManyValues(limit: Int)
        case trailingBytes
    }

    public let reason: Reason
    /// Offset of the offending byte from the start of the input.
    public let offset: Int

    public init(_ reason: Reason, at offset: Int) {
        self.reason = reason
        self.offset = offset
    }

    public var description: String {
        let what: String
        switch reason {
        case .unexpectedEnd: what = "input ends in the middle of a value"
        case .unexpectedByte(let byte): what = "unexpected byte \(Self.show(byte))"
        case .emptyInteger: what = "integer has no digits"
        case .leadingZero: what = "integer or length has a leading zero"
        case .negativeZero: what = "integer is -0"
        case .integerOverflow: what = "integer does not fit in 64 bits"
        case .stringLengthTooLong(let limit): what = "byte string is longer than the limit of \(limit) bytes"
        case .keyNotAString: what = "dictionary key is not a byte string"
        case .unsortedKey: what = "dictionary keys are not sorted"
        case .duplicateKey: what = "dictionary key appears twice"
        case .nestingTooDeep(let limit): what = "lists and dictionaries nest deeper than \(limit) levels"
        case .tooManyValues(let limit): what = "more than \(limit) values"
        case .trailingBytes: what = "bytes follow the end of the value"
        }
        return "invalid bencode at byte \(offset): \(what)"
    }

    private static func show(_ byte: UInt8) -> String {
        if byte >= 0x20 && byte < 0x7f { return "'\(Character(Unicode.Scalar(byte)))'" }
        return "0x" + String(byte, radix: 16, uppercase: false)
    }
}
