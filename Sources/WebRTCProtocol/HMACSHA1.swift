import CCrypto

/// HMAC-SHA1 from OpenSSL, the MAC of STUN's MESSAGE-INTEGRITY (RFC 8489 §14.5).
enum HMACSHA1 {
    static func authenticationCode(key: [UInt8], message: [UInt8]) -> [UInt8] {
        // An empty key equals a one-zero-byte key (HMAC pads keys with zeros), and gives C a
        // non-null pointer.
        let key = key.isEmpty ? [0] : key
        var output = [UInt8](repeating: 0, count: 20)
        var outputLength: UInt32 = 0
        key.withUnsafeBufferPointer { keyBytes in
            message.withUnsafeBufferPointer { messageBytes in
                output.withUnsafeMutableBufferPointer { outputBytes in
                    _ = HMAC(EVP_sha1(), keyBytes.baseAddress, Int32(keyBytes.count),
                             messageBytes.baseAddress, messageBytes.count,
                             outputBytes.baseAddress, &outputLength)
                }
            }
        }
        return output
    }
}
