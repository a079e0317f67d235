/// The SHA-1 of a torrent's bencoded info dictionary (BEP 3): the torrent's identity.
public struct InfoHash: Hashable, Sendable, CustomStringConvertible {
    public let digest: SHA1Digest

    public init(_ digest: SHA1Digest) { self.digest = digest }

    public init?(bytes: some Collection<UInt8>) {
        guard let digest = SHA1Digest(bytes: bytes) else { return nil }
        self.digest = digest
    }

    /// Parses the two forms a magnet link may use: 40 hex digits or 32 base32 characters.
    public init?(magnetForm text: some StringProtocol) {
        switch text.utf8.count {
        case 40:
            guard let digest = SHA1Digest(hex: text) else { return nil }
            self.digest = digest
        case 32:
            guard let bytes = Base32.decode(text), let digest = SHA1Digest(bytes: bytes) else { return nil }
            self.digest = digest
        default:
            return nil
        }
    }

    public var bytes: [UInt8] { digest.bytes }
    public var hex: String { digest.hex }
    public var base32: String { Base32.encode(digest.bytes) }
    public var description: String { hex }
}
