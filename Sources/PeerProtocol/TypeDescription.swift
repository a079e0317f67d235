import Bencode

extension BencodeValue {
    /// The value's type with its article ("an integer", "a list"), for error messages.
    var typeWithArticle: String {
        if case .integer = self { return "an integer" }
        return "a \(typeName)"
    }
}
