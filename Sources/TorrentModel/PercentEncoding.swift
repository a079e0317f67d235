/// Percent-encoding as magnet links use it (RFC 3986).
public enum PercentEncoding {
    /// Decodes `%XX` escapes; `+` becomes a space, as libtorrent and browsers read query strings.
    /// Nil when a `%` is not followed by two hex digits.
    static func decode(_ text: Substring) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count)
        var index = 0
        while index < utf8.count {
            let char = utf8[index]
            if char == UInt8(ascii: "%") {
                guard index + 2 < utf8.count,
                      let byte = Hex.decode(String(decoding: utf8[(index + 1)...(index + 2)], as: UTF8.self))?.first
                else { return nil }
                out.append(byte)
                index += 3
            } else {
                out.append(char == UInt8(ascii: "+") ? UInt8(ascii: " ") : char)
                index += 1
            }
        }
        return out
    }

    /// Encodes every byte but RFC 3986's unreserved characters, so the result is safe in
    /// any query string and any shell.
    public static func encode(_ text: String) -> String {
        encode(bytes: Array(text.utf8))
    }

    /// The same for raw bytes (an info hash or peer id in a tracker request).
    public static func encode(bytes: [UInt8]) -> String {
        let digits = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 3)
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."),
                 UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.append(byte)
            default:
                out += [UInt8(ascii: "%"), digits[Int(byte >> 4)], digits[Int(byte & 0x0f)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
