import WebRTCProtocol

/// Why a DTLS connection or certificate failed. OpenSSL's reasons come as the text of its error
/// queue (`error:0A000086:SSL routines::certificate verify failed`), read at the call that failed
/// and cleared before every call, so one connection's errors never show up in another's.
public enum DTLSError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The peer's certificate is not the one its session description announced: someone else
    /// answered, or the signalling was tampered with. This check is WebRTC's whole
    /// authentication; the connection is refused.
    case fingerprintMismatch(expected: DTLSFingerprint, got: DTLSFingerprint)
    /// The handshake ended without the peer presenting a certificate.
    case noPeerCertificate
    /// The expected fingerprint names a hash function we cannot compute.
    case unsupportedFingerprintAlgorithm(String)
    /// Making the self-signed certificate failed at `step`.
    case certificateCreation(step: String, openSSL: String)
    /// Setting up OpenSSL's context or session failed at `step`.
    case setup(step: String, openSSL: String)
    /// The handshake failed (a fatal alert sent or received, too many retransmissions…).
    case handshakeFailed(openSSL: String)
    /// Decrypting or encrypting application data failed after the handshake.
    case recordFailed(openSSL: String)
    /// Application data before the handshake completed, after close, or after a failure.
    case notEstablished(state: String)
    /// One record carries at most this much application data (OpenSSL's limit, 16 KiB).
    case recordTooLarge(size: Int, limit: Int)

    public var description: String {
        switch self {
        case let .fingerprintMismatch(expected, got):
            "DTLS: the peer's certificate has fingerprint \(got), but its session description announced \(expected); refusing the connection"
        case .noPeerCertificate:
            "DTLS: the peer presented no certificate; WebRTC requires one"
        case let .unsupportedFingerprintAlgorithm(name):
            "DTLS: cannot check a fingerprint made with '\(name)'; use sha-256 (or sha-1, sha-384, sha-512)"
        case let .certificateCreation(step, openSSL):
            "DTLS: making the self-signed certificate failed at \(step): \(openSSL)"
        case let .setup(step, openSSL):
            "DTLS: setting up OpenSSL failed at \(step): \(openSSL)"
        case let .handshakeFailed(openSSL):
            "DTLS: handshake failed: \(openSSL)"
        case let .recordFailed(openSSL):
            "DTLS: record layer failed: \(openSSL)"
        case let .notEstablished(state):
            "DTLS: no application data while the connection is \(state); wait for handshakeCompleted"
        case let .recordTooLarge(size, limit):
            "DTLS: \(size) bytes do not fit in one record (at most \(limit)); split the message"
        }
    }
}
