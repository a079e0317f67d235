import COpenSSL
import WebRTCProtocol

/// What OpenSSL's callbacks for one connection need, reached through the SSL's app data: the
/// fingerprint the peer's certificate must have, what it had if it did not, and the first
/// retransmission timeout.
final class PeerCheck {
    let expected: DTLSFingerprint
    let initialTimeoutMicroseconds: UInt32
    /// Set by the verify callback when the peer's certificate is not the announced one.
    var mismatch: DTLSFingerprint?
    /// Set when computing the peer's fingerprint failed inside the callback.
    var digestFailure: DTLSError?

    init(expected: DTLSFingerprint, initialTimeoutMicroseconds: UInt32) {
        self.expected = expected
        self.initialTimeoutMicroseconds = initialTimeoutMicroseconds
    }

    /// Whether `certificate`, the peer's own (depth 0), is the announced one.
    func accepts(_ certificate: OpaquePointer) -> Bool {
        do throws(DTLSError) {
            let got = try DTLSCertificate.fingerprint(of: certificate, algorithm: expected.algorithm)
            guard got == expected else {
                mismatch = got
                return false
            }
            return true
        } catch {
            digestFailure = error
            return false
        }
    }

    static func of(_ ssl: OpaquePointer) -> PeerCheck? {
        guard let data = memofs_SSL_get_app_data(ssl) else { return nil }
        return Unmanaged<PeerCheck>.fromOpaque(data).takeUnretainedValue()
    }

    /// SSL_set_verify's callback. A self-signed certificate fails OpenSSL's chain check
    /// (`preverified` is 0); WebRTC replaces that check with the fingerprint from the session
    /// description, so the chain verdict is ignored and the leaf's fingerprint decides.
    static let verify: @convention(c) (Int32, OpaquePointer?) -> Int32 = { _, store in
        guard let store else { return 0 }
        guard X509_STORE_CTX_get_error_depth(store) == 0 else { return 1 }
        guard let sslPointer = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()),
              let check = PeerCheck.of(OpaquePointer(sslPointer)),
              let certificate = X509_STORE_CTX_get_current_cert(store)
        else { return 0 }
        return check.accepts(certificate) ? 1 : 0
    }

    /// DTLS_set_timer_cb's callback: the first timeout is ours, then each doubles up to 60 s
    /// (RFC 6347 §4.2.4.1).
    static let timer: @convention(c) (OpaquePointer?, UInt32) -> UInt32 = { ssl, previous in
        guard previous > 0 else {
            return ssl.flatMap(PeerCheck.of)?.initialTimeoutMicroseconds ?? 1_000_000
        }
        return min(previous.multipliedReportingOverflow(by: 2).partialValue, 60_000_000)
    }
}
