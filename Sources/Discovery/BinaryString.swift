/// WebTorrent's trackers carry 20-byte values (info hash, peer id, offer id) in JSON strings with
/// one code point U+0000–U+00FF per byte (JavaScript's `'binary'`/latin1 encoding), not hex.
enum BinaryString {
    static func string(from bytes: some Sequence<UInt8>) -> String {
        var scalars = String.UnicodeScalarView()
        for byte in bytes { scalars.append(Unicode.Scalar(byte)) }
        return String(scalars)
    }

    /// The bytes of `text`, failing on a code point above U+00FF or a length other than `length`.
    static func bytes(of text: String, field: String, length: Int = 20) throws(WebSocketTrackerError) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(length)
        for scalar in text.unicodeScalars {
            guard scalar.value <= 0xFF else { throw .notBinaryString(field: field, codePoint: scalar.value) }
            bytes.append(UInt8(scalar.value))
        }
        guard bytes.count == length else { throw .wrongLength(field: field, length: bytes.count, expected: length) }
        return bytes
    }
}
