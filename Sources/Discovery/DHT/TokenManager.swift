import TorrentModel

/// Write tokens for `get_peers` / `announce_peer` (BEP 5).
///
/// A token is the SHA-1 of a secret and the asker's IP address, cut to 8 bytes, so
/// nothing per asker needs to be stored: an announce is accepted only from an
/// address that recently asked us for peers. The secret changes every five minutes
/// and tokens from the previous secret still count, so a token lives five to ten
/// minutes. Time and randomness are injected; nothing here reads a clock.
public struct TokenManager: Sendable {
    public static let rotationInterval: Duration = .seconds(300)
    public static let tokenLength = 8
    static let secretLength = 16

    private var current: [UInt8]
    private var previous: [UInt8]
    private var rotatedAt: ContinuousClock.Instant

    public init(now: ContinuousClock.Instant, using generator: inout some RandomNumberGenerator) {
        current = Self.secret(using: &generator)
        previous = Self.secret(using: &generator)
        rotatedAt = now
    }

    /// The token to hand `address` in a get_peers response now.
    public mutating func token(for address: PeerAddress, now: ContinuousClock.Instant,
                               using generator: inout some RandomNumberGenerator) -> [UInt8] {
        rotateIfDue(now: now, using: &generator)
        return Self.token(secret: current, address: address)
    }

    /// Whether `token`, sent by `address` in an announce_peer now, is one we gave it
    /// under the current or the previous secret.
    public mutating func isValid(_ token: [UInt8], for address: PeerAddress, now: ContinuousClock.Instant,
                                 using generator: inout some RandomNumberGenerator) -> Bool {
        rotateIfDue(now: now, using: &generator)
        return token == Self.token(secret: current, address: address)
            || token == Self.token(secret: previous, address: address)
    }

    /// Moves to a new secret for each whole interval that has passed; after two or more,
    /// both secrets are new, so no token from before survives.
    private mutating func rotateIfDue(now: ContinuousClock.Instant, using generator: inout some RandomNumberGenerator) {
        guard now >= rotatedAt else { return }
        let periods = Int((now - rotatedAt) / Self.rotationInterval)
        guard periods > 0 else { return }
        if periods == 1 {
            previous = current
        } else {
            previous = Self.secret(using: &generator)
        }
        current = Self.secret(using: &generator)
        rotatedAt += Self.rotationInterval * periods
    }

    private static func secret(using generator: inout some RandomNumberGenerator) -> [UInt8] {
        (0..<secretLength).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }

    /// Only the host counts, not the port: a NAT may give the same peer another port.
    private static func token(secret: [UInt8], address: PeerAddress) -> [UInt8] {
        let host: [UInt8]
        switch address.host {
        case .ipv4(let bytes), .ipv6(let bytes): host = bytes
        case .name(let name): host = Array(name.utf8)
        }
        return Array(SHA1.hash(secret + host).bytes.prefix(tokenLength))
    }
}
