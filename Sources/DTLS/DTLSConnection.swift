import COpenSSL
import WebRTCProtocol

/// One DTLS 1.2 association as WebRTC uses it, over datagrams the caller carries (ICE owns the
/// socket): datagrams in, datagrams and decrypted records out, no I/O and no threads of its own.
///
/// Not thread-safe and not `Sendable`: use it from one thread, task or event loop at a time, as
/// the ICE/SCTP glue that owns it does. (OpenSSL's `SSL` object has no lock of its own.)
///
/// Retransmission timers are OpenSSL's, which read the system clock themselves; `nextTimeout`
/// translates them onto the caller's clock, and the caller calls `handleTimeout()` then.
public final class DTLSConnection {
    public enum Role: Sendable {
        /// Sends the ClientHello (`a=setup:active`).
        case client
        /// Waits for it (`a=setup:passive`).
        case server
    }

    public enum State: Equatable, Sendable {
        case idle, handshaking, established, closed
        case failed(DTLSError)
    }

    /// What Chromium and Firefox offer for DTLS 1.2, ECDSA certificates first (ours and
    /// browsers' are ECDSA); the RSA suites are for peers with RSA certificates.
    static let cipherList = [
        "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-ECDSA-CHACHA20-POLY1305",
        "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-RSA-CHACHA20-POLY1305",
        "ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA", "ECDHE-RSA-AES128-SHA", "ECDHE-RSA-AES256-SHA",
    ].joined(separator: ":")

    /// The most application data one record carries (TLS's 2^14).
    public static let maximumRecordSize = 16_384

    public let role: Role
    /// The largest datagram OpenSSL writes during the handshake (it fragments handshake
    /// messages to fit). Application records are not split: see `maximumApplicationDataSize`.
    public let mtu: Int
    public private(set) var state: State = .idle

    private let context: OpaquePointer
    private let ssl: OpaquePointer
    private let queues = DatagramQueues()
    private let peerCheck: PeerCheck
    private var readBuffer = [UInt8](repeating: 0, count: DTLSConnection.maximumRecordSize)

    /// - Parameters:
    ///   - expectedRemoteFingerprint: the peer's `a=fingerprint`; its certificate must match.
    ///   - mtu: the largest UDP payload to send (1200 keeps under every path's MTU, as browsers do).
    ///   - initialRetransmissionTimeout: the first handshake retransmission wait (RFC 6347: 1 s).
    public init(role: Role, certificate: DTLSCertificate, expectedRemoteFingerprint: DTLSFingerprint,
                mtu: Int = 1200, initialRetransmissionTimeout: Duration = .seconds(1)) throws(DTLSError) {
        OpenSSLErrorQueue.clear()
        self.role = role
        self.mtu = mtu
        guard ["sha-1", "sha-256", "sha-384", "sha-512"].contains(expectedRemoteFingerprint.algorithm) else {
            throw .unsupportedFingerprintAlgorithm(expectedRemoteFingerprint.algorithm)
        }
        let timeout = initialRetransmissionTimeout.components
        let microseconds = timeout.seconds * 1_000_000 + timeout.attoseconds / 1_000_000_000_000
        peerCheck = PeerCheck(expected: expectedRemoteFingerprint,
                              initialTimeoutMicroseconds: UInt32(clamping: max(microseconds, 1000)))

        func failure(_ step: String) -> DTLSError { .setup(step: step, openSSL: OpenSSLErrorQueue.drain()) }
        guard let context = SSL_CTX_new(DTLS_method()) else { throw failure("SSL_CTX_new") }
        guard SSL_CTX_use_certificate(context, certificate.certificate) == 1,
              SSL_CTX_use_PrivateKey(context, certificate.privateKey) == 1,
              SSL_CTX_check_private_key(context) == 1
        else {
            SSL_CTX_free(context)
            throw failure("our certificate and key")
        }
        guard memofs_SSL_CTX_set_dtls_1_2_only(context) == 1 else {
            SSL_CTX_free(context)
            throw failure("DTLS 1.2 only")
        }
        guard SSL_CTX_set_cipher_list(context, Self.cipherList) == 1 else {
            SSL_CTX_free(context)
            throw failure("SSL_CTX_set_cipher_list")
        }
        SSL_CTX_set_options(context, memofs_dtls_options())
        guard let ssl = SSL_new(context) else {
            SSL_CTX_free(context)
            throw failure("SSL_new")
        }
        self.context = context
        self.ssl = ssl
        // From here on deinit frees both.
        SSL_set_verify(ssl, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, PeerCheck.verify)
        _ = memofs_SSL_set_app_data(ssl, Unmanaged.passUnretained(peerCheck).toOpaque())
        DTLS_set_timer_cb(ssl, PeerCheck.timer)
        guard let bio = DatagramBIOMethod.shared?.makeBIO(over: queues) else { throw failure("BIO_new") }
        SSL_set_bio(ssl, bio, bio)
        // SSL_CTRL_SET_MTU answers the MTU it took, or 0 below its minimum.
        guard memofs_SSL_set_mtu(ssl, mtu) == mtu else { throw failure("SSL_set_mtu(\(mtu)), below DTLS's minimum") }
        switch role {
        case .client: SSL_set_connect_state(ssl)
        case .server: SSL_set_accept_state(ssl)
        }
    }

    deinit {
        SSL_free(ssl)
        SSL_CTX_free(context)
    }

    /// Begins the handshake: a client's ClientHello is in the datagrams; a server sends nothing
    /// and waits (calling this on a server is optional).
    public func start() -> DTLSOutput {
        OpenSSLErrorQueue.clear()
        var output = DTLSOutput()
        guard state == .idle else { return output }
        state = .handshaking
        advanceHandshake(&output)
        output.datagrams = queues.takeOutgoing()
        return output
    }

    /// Feeds one received datagram. Datagrams after close or failure are dropped; so are those
    /// reaching a client before `start()`. Records that fail authentication are dropped by
    /// OpenSSL, as DTLS requires (RFC 6347 §4.1.2.7), without failing the connection.
    public func receive(datagram: [UInt8]) -> DTLSOutput {
        OpenSSLErrorQueue.clear()
        var output = DTLSOutput()
        switch state {
        case .closed, .failed: return output
        case .idle:
            guard role == .server else { return output }
            state = .handshaking
        case .handshaking, .established: break
        }
        // An empty read would look like end of file to OpenSSL; an empty datagram carries no record.
        guard !datagram.isEmpty else { return output }
        queues.incoming.append(datagram)
        if state == .handshaking { advanceHandshake(&output) }
        if state == .established { readRecords(&output) }
        queues.incoming.removeAll()
        output.datagrams = queues.takeOutgoing()
        return output
    }

    /// Encrypts `applicationData` as one record: the datagram to send.
    public func send(applicationData: [UInt8]) throws(DTLSError) -> [[UInt8]] {
        OpenSSLErrorQueue.clear()
        guard state == .established else { throw .notEstablished(state: "\(state)") }
        guard applicationData.count <= Self.maximumRecordSize else {
            throw .recordTooLarge(size: applicationData.count, limit: Self.maximumRecordSize)
        }
        guard !applicationData.isEmpty else { return [] }
        let written = SSL_write(ssl, applicationData, Int32(applicationData.count))
        guard written == Int32(applicationData.count) else {
            let error = DTLSError.recordFailed(openSSL: OpenSSLErrorQueue.drain(fallback: "SSL_write returned \(written)"))
            state = .failed(error)
            throw error
        }
        return queues.takeOutgoing()
    }

    /// When OpenSSL wants `handleTimeout()` called (a flight may be lost), on the caller's clock;
    /// nil when no retransmission timer runs (between handshakes).
    public func nextTimeout(now: ContinuousClock.Instant) -> ContinuousClock.Instant? {
        var left = timeval()
        guard memofs_DTLSv1_get_timeout(ssl, &left) == 1 else { return nil }
        return now + .seconds(left.tv_sec) + .microseconds(left.tv_usec)
    }

    /// Resends the last flight if its timer expired (nothing if it has not yet). Fails the
    /// connection after OpenSSL's retransmission limit (12 tries).
    public func handleTimeout() -> DTLSOutput {
        OpenSSLErrorQueue.clear()
        var output = DTLSOutput()
        guard state == .handshaking || state == .established else { return output }
        if memofs_DTLSv1_handle_timeout(ssl) < 0 {
            fail(.handshakeFailed(openSSL: OpenSSLErrorQueue.drain(fallback: "retransmission failed")), &output)
        }
        output.datagrams = queues.takeOutgoing()
        return output
    }

    /// Sends close_notify; the connection takes no more data. Nothing to send if it never began.
    public func close() -> [[UInt8]] {
        OpenSSLErrorQueue.clear()
        switch state {
        case .handshaking, .established:
            _ = SSL_shutdown(ssl)
            state = .closed
            OpenSSLErrorQueue.clear()
            return queues.takeOutgoing()
        case .idle:
            state = .closed
            return []
        case .closed, .failed:
            return []
        }
    }

    /// The most application data one record may carry and still fit in `mtu` with the
    /// negotiated cipher's overhead: the SCTP MTU to configure. Meaningful once established.
    public var maximumApplicationDataSize: Int { DTLS_get_data_mtu(ssl) }

    /// The negotiated cipher suite (OpenSSL's name), once established.
    public var cipherSuite: String? {
        guard let cipher = SSL_get_current_cipher(ssl), let name = SSL_CIPHER_get_name(cipher) else { return nil }
        return String(cString: name)
    }

    // MARK: - Inside

    private func advanceHandshake(_ output: inout DTLSOutput) {
        let result = SSL_do_handshake(ssl)
        guard result == 1 else {
            switch SSL_get_error(ssl, result) {
            case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE: return
            default: fail(handshakeFailure(), &output)
            }
            return
        }
        // Checked again here although the verify callback checked it: the callback is not the
        // only way a handshake can end, and this check is the whole authentication.
        guard let certificate = SSL_get0_peer_certificate(ssl) else {
            fail(.noPeerCertificate, &output)
            return
        }
        do throws(DTLSError) {
            let got = try DTLSCertificate.fingerprint(of: certificate, algorithm: peerCheck.expected.algorithm)
            guard got == peerCheck.expected else {
                fail(.fingerprintMismatch(expected: peerCheck.expected, got: got), &output)
                return
            }
        } catch {
            fail(error, &output)
            return
        }
        state = .established
        output.handshakeCompleted = true
    }

    private func handshakeFailure() -> DTLSError {
        let text = OpenSSLErrorQueue.drain()
        if let got = peerCheck.mismatch { return .fingerprintMismatch(expected: peerCheck.expected, got: got) }
        if let failure = peerCheck.digestFailure { return failure }
        return .handshakeFailed(openSSL: text)
    }

    private func readRecords(_ output: inout DTLSOutput) {
        while true {
            let count = readBuffer.withUnsafeMutableBytes { SSL_read(ssl, $0.baseAddress, Int32($0.count)) }
            if count > 0 {
                output.applicationData.append(Array(readBuffer[0..<Int(count)]))
                continue
            }
            switch SSL_get_error(ssl, count) {
            case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
                return
            case SSL_ERROR_ZERO_RETURN:
                // close_notify: answer with ours, as TLS asks.
                _ = SSL_shutdown(ssl)
                OpenSSLErrorQueue.clear()
                state = .closed
                output.closed = true
                return
            default:
                fail(.recordFailed(openSSL: OpenSSLErrorQueue.drain()), &output)
                return
            }
        }
    }

    private func fail(_ error: DTLSError, _ output: inout DTLSOutput) {
        state = .failed(error)
        output.failure = error
        OpenSSLErrorQueue.clear()
    }
}
