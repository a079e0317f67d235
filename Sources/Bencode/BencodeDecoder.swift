/// A strict bencode decoder.
///
/// It accepts only canonical bencode, the one encoding of each value that BEP 3
/// allows: integers without leading zeros or `-0`, string lengths without
/// leading zeros, dictionary keys that are byte strings in strictly increasing
/// byte order, and nothing after the top-level value. Anything else is refused
/// with the offset of the first offending byte. A torrent that is not canonical
/// would hash differently once re-encoded, so accepting it would let two peers
/// disagree on what an info hash covers.
///
/// Input comes from the network and from files users drop in, so depth, string
/// length and the number of values are bounded by ``Limits``.
public struct BencodeDecoder: Sendable {
    public struct Limits: Sendable {
        /// How deep lists and dictionaries may nest.
        public var maxDepth: Int
        /// The longest byte string accepted.
        public var maxStringLength: Int
        /// How many values (every integer, string, list and dictionary, keys included) one input may hold.
        public var maxValues: Int

        public init(maxDepth: Int = 64, maxStringLength: Int = 64 << 20, maxValues: Int = 4_000_000) {
            self.maxDepth = maxDepth
            self.maxStringLength = maxStringLength
            self.maxValues = maxValues
        }

        public static let `default` = Limits()
    }

    public let limits: Limits

    public init(limits: Limits = .default) {
        self.limits = limits
    }

    /// Decodes exactly one value that fills the whole input.
    public func decode(_ bytes: [UInt8]) throws(BencodeError) -> BencodeValue {
        try decodeNode(bytes).value
    }

    /// Decodes exactly one value that fills the whole input, keeping byte ranges.
    public func decodeNode(_ bytes: [UInt8]) throws(BencodeError) -> BencodeNode {
        let (node, end) = try decodePrefixNode(bytes)
        guard end == bytes.count else { throw BencodeError(.trailingBytes, at: end) }
        return node
    }

    /// Decodes the value at the start of the input and returns it with the
    /// offset just after it. Used where a message carries a bencoded header
    /// followed by raw data (BEP 9 metadata pieces).
    public func decodePrefix(_ bytes: [UInt8]) throws(BencodeError) -> (value: BencodeValue, end: Int) {
        let (node, end) = try decodePrefixNode(bytes)
        return (node.value, end)
    }

    public func decodePrefixNode(_ bytes: [UInt8]) throws(BencodeError) -> (node: BencodeNode, end: Int) {
        var parser = Parser(bytes: bytes, limits: limits)
        let node = try parser.parseValue(depth: 0)
        return (node, parser.position)
    }
}

/// Convenience entry points with the default limits.
public enum Bencode {
    public static func decode(_ bytes: [UInt8]) throws(BencodeError) -> BencodeValue {
        try BencodeDecoder().decode(bytes)
    }

    public static func encode(_ value: BencodeValue) -> [UInt8] {
        BencodeEncoder.encode(value)
    }
}

private struct Parser {
    let bytes: [UInt8]
    let limits: BencodeDecoder.Limits
    var position = 0
    var valueCount = 0

    init(bytes: [UInt8], limits: BencodeDecoder.Limits) {
        self.bytes = bytes
        self.limits = limits
    }

    private static let digit0 = UInt8(ascii: "0")
    private static let digit9 = UInt8(ascii: "9")

    private func peek() throws(BencodeError) -> UInt8 {
        guard position < bytes.count else { throw BencodeError(.unexpectedEnd, at: position) }
        return bytes[position]
    }

    private mutating func countValue() throws(BencodeError) {
        valueCount += 1
        if valueCount > limits.maxValues {
            throw BencodeError(.tooManyValues(limit: limits.maxValues), at: position)
        }
    }

    mutating func parseValue(depth: Int) throws(BencodeError) -> BencodeNode {
        try countValue()
        let start = position
        switch try peek() {
        case UInt8(ascii: "i"):
            let value = try parseInteger()
            return BencodeNode(kind: .integer(value), range: start..<position)
        case UInt8(ascii: "l"):
            guard depth < limits.maxDepth else { throw BencodeError(.nestingTooDeep(limit: limits.maxDepth), at: start) }
            position += 1
            var items: [BencodeNode] = []
            while try peek() != UInt8(ascii: "e") {
                items.append(try parseValue(depth: depth + 1))
            }
            position += 1
            return BencodeNode(kind: .list(items), range: start..<position)
        case UInt8(ascii: "d"):
            guard depth < limits.maxDepth else { throw BencodeError(.nestingTooDeep(limit: limits.maxDepth), at: start) }
            position += 1
            var entries: [BencodeNode.Entry] = []
            var previousKey: ArraySlice<UInt8>? = nil
            while try peek() != UInt8(ascii: "e") {
                let keyStart = position
                let keyFirstByte = try peek()
                guard keyFirstByte >= Self.digit0 && keyFirstByte <= Self.digit9 else {
                    throw BencodeError(.keyNotAString, at: keyStart)
                }
                try countValue()
                let keyRange = try parseStringRange()
                let key = bytes[keyRange]
                if let previous = previousKey {
                    if key == previous { throw BencodeError(.duplicateKey, at: keyStart) }
                    if !previous.lexicographicallyPrecedes(key) { throw BencodeError(.unsortedKey, at: keyStart) }
                }
                previousKey = key
                let node = try parseValue(depth: depth + 1)
                entries.append(BencodeNode.Entry(key: Array(key), node: node))
            }
            position += 1
            return BencodeNode(kind: .dictionary(entries), range: start..<position)
        case Self.digit0...Self.digit9:
            let range = try parseStringRange()
            return BencodeNode(kind: .bytes(Array(bytes[range])), range: start..<position)
        case let other:
            throw BencodeError(.unexpectedByte(other), at: start)
        }
    }

    /// Parses `i<digits>e`; the cursor is on the `i`.
    private mutating func parseInteger() throws(BencodeError) -> Int64 {
        position += 1
        var negative = false
        if try peek() == UInt8(ascii: "-") {
            negative = true
            position += 1
        }
        let firstDigit = position
        // Accumulate as a negative number so that Int64.min fits.
        var value: Int64 = 0
        while true {
            let byte = try peek()
            if byte == UInt8(ascii: "e") { break }
            guard byte >= Self.digit0 && byte <= Self.digit9 else {
                throw BencodeError(.unexpectedByte(byte), at: position)
            }
            if position > firstDigit && bytes[firstDigit] == Self.digit0 {
                throw BencodeError(.leadingZero, at: firstDigit)
            }
            let (shifted, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (next, overflow2) = shifted.subtractingReportingOverflow(Int64(byte - Self.digit0))
            if overflow1 || overflow2 { throw BencodeError(.integerOverflow, at: firstDigit) }
            value = next
            position += 1
        }
        guard position > firstDigit else { throw BencodeError(.emptyInteger, at: position) }
        position += 1
        if negative {
            if value == 0 { throw BencodeError(.negativeZero, at: firstDigit - 1) }
            return value
        }
        guard value != Int64.min else { throw BencodeError(.integerOverflow, at: firstDigit) }
        return -value
    }

    /// Parses `<length>:<bytes>` and returns the range of the bytes.
    private mutating func parseStringRange() throws(BencodeError) -> Range<Int> {
        let firstDigit = position
        var length = 0
        while true {
            let byte = try peek()
            if byte == UInt8(ascii: ":") { break }
            guard byte >= Self.digit0 && byte <= Self.digit9 else {
                throw BencodeError(.unexpectedByte(byte), at: position)
            }
            if position > firstDigit && bytes[firstDigit] == Self.digit0 {
                throw BencodeError(.leadingZero, at: firstDigit)
            }
            length = length * 10 + Int(byte - Self.digit0)
            if length > limits.maxStringLength {
                throw BencodeError(.stringLengthTooLong(limit: limits.maxStringLength), at: firstDigit)
            }
            position += 1
        }
        // Callers start here only on a digit, so the length has at least one.
        position += 1
        guard bytes.count - position >= length else { throw BencodeError(.unexpectedEnd, at: bytes.count) }
        let range = position..<(position + length)
        position += length
        return range
    }
}
