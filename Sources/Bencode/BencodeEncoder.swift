/// Writes canonical bencode: dictionary keys sorted by their raw bytes.
public enum BencodeEncoder {
    public static func encode(_ value: BencodeValue) -> [UInt8] {
        var output: [UInt8] = []
        append(value, to: &output)
        return output
    }

    public static func append(_ value: BencodeValue, to output: inout [UInt8]) {
        switch value {
        case .integer(let number):
            output.append(UInt8(ascii: "i"))
            output.append(contentsOf: String(number).utf8)
            output.append(UInt8(ascii: "e"))
        case .bytes(let bytes):
            appendString(bytes, to: &output)
        case .list(let items):
            output.append(UInt8(ascii: "l"))
            for item in items { append(item, to: &output) }
            output.append(UInt8(ascii: "e"))
        case .dictionary(let entries):
            output.append(UInt8(ascii: "d"))
            for key in entries.keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
                appendString(key, to: &output)
                append(entries[key]!, to: &output)
            }
            output.append(UInt8(ascii: "e"))
        }
    }

    private static func appendString(_ bytes: [UInt8], to output: inout [UInt8]) {
        output.append(contentsOf: String(bytes.count).utf8)
        output.append(UInt8(ascii: ":"))
        output.append(contentsOf: bytes)
    }
}
