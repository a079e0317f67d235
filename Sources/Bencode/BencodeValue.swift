/// A bencoded value (BEP 3): an integer, a byte string, a list, or a dictionary
/// whose keys are byte strings.
///
/// Byte strings are raw bytes, not text: torrent fields such as `pieces` and
/// compact peer lists are binary, and names may be in any encoding. Use
/// ``string`` to read one as UTF-8.
public enum BencodeValue: Hashable, Sendable {
    case integer(Int64)
    case bytes([UInt8])
    case list([BencodeValue])
    /// Keys are kept unordered here; the encoder writes them sorted as raw bytes,
    /// which is the only order the decoder accepts.
    case dictionary([[UInt8]: BencodeValue])

    /// A byte string holding the UTF-8 of `text`.
    public static func string(_ text: String) -> BencodeValue { .bytes(Array(text.utf8)) }

    /// A dictionary from text keys, the common case when building messages.
    public static func dict(_ entries: KeyValuePairs<String, BencodeValue>) -> BencodeValue {
        var result: [[UInt8]: BencodeValue] = [:]
        for (key, value) in entries { result[Array(key.utf8)] = value }
        return .dictionary(result)
    }
}

extension BencodeValue {
    public var integer: Int64? {
        if case .integer(let value) = self { return value }
        return nil
    }

    public var bytes: [UInt8]? {
        if case .bytes(let value) = self { return value }
        return nil
    }

    /// The byte string decoded as UTF-8, or nil if it is not a byte string or not valid UTF-8.
    public var string: String? {
        guard case .bytes(let value) = self else { return nil }
        return String(validating: value, as: UTF8.self)
    }

    public var list: [BencodeValue]? {
        if case .list(let value) = self { return value }
        return nil
    }

    public var dictionary: [[UInt8]: BencodeValue]? {
        if case .dictionary(let value) = self { return value }
        return nil
    }

    /// The value under a text key when this is a dictionary.
    public subscript(key: String) -> BencodeValue? {
        guard case .dictionary(let entries) = self else { return nil }
        return entries[Array(key.utf8)]
    }

    /// A short name of the value's type, for error messages.
    public var typeName: String {
        switch self {
        case .integer: "integer"
        case .bytes: "byte string"
        case .list: "list"
        case .dictionary: "dictionary"
        }
    }
}
