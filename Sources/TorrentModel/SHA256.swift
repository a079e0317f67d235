import CCrypto

/// SHA-256 through OpenSSL's libcrypto: BitTorrent v2's hash (BEP 52), for the merkle
/// trees that let a single 16 KiB block be checked on its own.
public enum SHA256 {
    public static let byteCount = 32

    public static func hash(_ buffer: UnsafeRawBufferPointer) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: byteCount) { out, count in
            var size: UInt32 = 0
            let ok = EVP_Digest(buffer.baseAddress, buffer.count, out.baseAddress, &size, EVP_sha256(), nil)
            precondition(ok == 1 && size == 32, "OpenSSL SHA-256 failed")
            count = byteCount
        }
    }

    public static func hash(_ bytes: some ContiguousBytesSequence) -> [UInt8] {
        bytes.withContiguousBytes { hash($0) }
    }

    /// A merkle tree's inner node: the hash of its two children one after the other.
    public static func parent(_ left: [UInt8], _ right: [UInt8]) -> [UInt8] {
        hash(left + right)
    }
}
