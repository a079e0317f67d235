/// Writes the JSON objects we send to WebSocket trackers. Written by hand rather than with
/// JSONEncoder because the binary strings must survive exactly: every character below U+0020 is
/// escaped as `\u00XX` (RFC 8259 §7), `"` and `\` are escaped, and everything else, U+007F–U+00FF
/// included, is written as itself in UTF-8, which is what `JSON.stringify` does too.
struct JSONText {
    private(set) var text = "{"
    private var first = true

    static func quoted(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    mutating func add(_ key: String, raw: String) {
        if !first { text += "," }
        first = false
        text += JSONText.quoted(key) + ":" + raw
    }

    mutating func add(_ key: String, _ value: String) { add(key, raw: JSONText.quoted(value)) }
    mutating func add(_ key: String, _ value: Int64) { add(key, raw: String(value)) }
    mutating func add(_ key: String, _ value: Int) { add(key, raw: String(value)) }

    /// The finished object.
    func closed() -> String { text + "}" }
}
