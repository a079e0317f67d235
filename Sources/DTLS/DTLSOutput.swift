/// What one call into a `DTLSConnection` produced, for the caller to act on.
public struct DTLSOutput: Sendable {
    /// UDP payloads to send to the peer, in order, each exactly one datagram.
    public var datagrams: [[UInt8]] = []
    /// Decrypted application data, one element per DTLS record (SCTP puts one packet in each).
    public var applicationData: [[UInt8]] = []
    /// The handshake completed during this call and the peer's fingerprint matched.
    public var handshakeCompleted = false
    /// The peer sent close_notify (we answered with ours, in `datagrams`).
    public var closed = false
    /// The connection failed during this call; it takes no more data. Datagrams may still hold
    /// the alert that tells the peer.
    public var failure: DTLSError?

    public init() {}
}
