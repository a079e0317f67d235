/// The hash of a peer's DTLS certificate (`a=fingerprint:sha-256 AB:CD:…`, RFC 8122): the only
/// thing that binds the DTLS handshake to the signalled offer, so it must be checked byte for byte.
public struct DTLSFingerprint: Equatable, Sendable, CustomStringConvertible {
    /// The hash function's name as SDP spells it, lowercased (`sha-256`).
    public var algorithm: String
    public var bytes: [UInt8]

    public init(algorithm: String, bytes: [UInt8]) {
        self.algorithm = algorithm.lowercased()
        self.bytes = bytes
    }

    /// Digest lengths of the hash functions browsers use; others are kept without a length check.
    static let digestLengths = ["sha-1": 20, "sha-224": 28, "sha-256": 32, "sha-384": 48, "sha-512": 64]

    /// Parses `sha-256 AB:CD:…` (upper- or lowercase hex pairs separated by colons).
    public init(parsing value: String) throws {
        let parts = value.split(separator: " ", omittingEmptySubsequences: true)
        let malformed = SDPError.malformedAttribute(name: "fingerprint", value: value)
        guard parts.count == 2 else { throw malformed }
        var bytes: [UInt8] = []
        for pair in parts[1].split(separator: ":", omittingEmptySubsequences: false) {
            guard pair.count == 2, let byte = UInt8(pair, radix: 16) else { throw malformed }
            bytes.append(byte)
        }
        self.init(algorithm: String(parts[0]), bytes: bytes)
        if let length = Self.digestLengths[algorithm], length != bytes.count { throw malformed }
    }

    /// `sha-256 AB:CD:…`, uppercase as browsers print it.
    public var description: String {
        let hex = bytes.map { byte in
            let digits = String(byte, radix: 16, uppercase: true)
            return digits.count == 1 ? "0" + digits : digits
        }
        return "\(algorithm) \(hex.joined(separator: ":"))"
    }
}

/// Who starts the DTLS handshake (`a=setup`, RFC 8842): the offerer says `actpass`, and the
/// answerer picks `active` (it sends the ClientHello) or `passive`.
public enum DTLSSetup: String, Equatable, Sendable {
    case actpass, active, passive

    /// The role an answerer takes to an offer's role. `actpass` leaves us the choice: `active`,
    /// as browsers answer, so we never wait for a handshake that might not come.
    public var answer: DTLSSetup {
        switch self {
        case .actpass, .passive: .active
        case .active: .passive
        }
    }
}
