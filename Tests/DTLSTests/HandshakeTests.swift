import DTLS
import Testing
import WebRTCProtocol

@Suite struct HandshakeTests {
    @Test func certificateHasASha256FingerprintAndIsFreshEachTime() throws {
        let first = try DTLSCertificate()
        let second = try DTLSCertificate()
        #expect(first.fingerprint.algorithm == "sha-256")
        #expect(first.fingerprint.bytes.count == 32)
        #expect(first.fingerprint != second.fingerprint)
        // It prints as SDP's a=fingerprint wants and parses back.
        #expect(try DTLSFingerprint(parsing: first.fingerprint.description) == first.fingerprint)
    }

    @Test func handshakeCompletesBothWays() throws {
        let link = try DatagramLink()
        link.handshake()
        #expect(link.clientSaw.handshakeCompleted)
        #expect(link.serverSaw.handshakeCompleted)
        #expect(link.clientSaw.failure == nil && link.serverSaw.failure == nil)
        #expect(link.client.state == .established)
        #expect(link.server.state == .established)
        #expect(link.client.cipherSuite == "ECDHE-ECDSA-AES128-GCM-SHA256")
        #expect(link.server.cipherSuite == "ECDHE-ECDSA-AES128-GCM-SHA256")
        // AES-128-GCM: 13 bytes of header, 8 of explicit nonce, 16 of tag.
        #expect(link.client.maximumApplicationDataSize == 1200 - 37)
    }

    @Test(arguments: [1200, 400, 300])
    func handshakeDatagramsFitTheMTU(mtu: Int) throws {
        let link = try DatagramLink(mtu: mtu)
        link.handshake()
        #expect(link.clientSaw.handshakeCompleted && link.serverSaw.handshakeCompleted)
        let sizes = link.clientSaw.datagramSizes + link.serverSaw.datagramSizes
        #expect(!sizes.isEmpty)
        #expect(sizes.allSatisfy { $0 <= mtu }, "datagram sizes \(sizes) with MTU \(mtu)")
    }

    @Test func anMTUBelowDTLSsMinimumIsRefused() throws {
        let certificate = try DTLSCertificate()
        #expect {
            try DTLSConnection(role: .client, certificate: certificate, expectedRemoteFingerprint: certificate.fingerprint, mtu: 100)
        } throws: { error in
            guard case .setup(let step, _) = error as? DTLSError else { return false }
            return step.contains("SSL_set_mtu")
        }
    }

    @Test func aWrongServerFingerprintIsRefusedByTheClient() throws {
        let impostor = try DTLSCertificate()
        let link = try DatagramLink(clientExpects: impostor.fingerprint)
        link.handshake()
        guard case let .fingerprintMismatch(expected, got)? = link.clientSaw.failure else {
            Issue.record("client: \(String(describing: link.clientSaw.failure))")
            return
        }
        #expect(expected == impostor.fingerprint)
        #expect(got != impostor.fingerprint)
        // The client's alert ends the server's handshake too.
        #expect(!link.serverSaw.handshakeCompleted)
        guard case let .handshakeFailed(text)? = link.serverSaw.failure else {
            Issue.record("server: \(String(describing: link.serverSaw.failure))")
            return
        }
        #expect(text.contains("alert"))
        #expect(throws: DTLSError.self) { try link.client.send(applicationData: [1]) }
    }

    @Test func aWrongClientFingerprintIsRefusedByTheServer() throws {
        let impostor = try DTLSCertificate()
        let link = try DatagramLink(serverExpects: impostor.fingerprint)
        link.handshake()
        guard case let .fingerprintMismatch(expected, _)? = link.serverSaw.failure else {
            Issue.record("server: \(String(describing: link.serverSaw.failure))")
            return
        }
        #expect(expected == impostor.fingerprint)
        #expect(!link.serverSaw.handshakeCompleted)
        #expect(link.clientSaw.failure != nil)
        #expect(link.client.state != .established)
    }

    @Test func anUnknownFingerprintAlgorithmIsRefusedUpFront() throws {
        let certificate = try DTLSCertificate()
        #expect(throws: DTLSError.unsupportedFingerprintAlgorithm("md5")) {
            try DTLSConnection(role: .server, certificate: certificate,
                               expectedRemoteFingerprint: DTLSFingerprint(algorithm: "md5", bytes: Array(repeating: 0, count: 16)))
        }
    }

    /// Loses every datagram of one flight, once: the retransmission timer brings it back.
    @Test(arguments: [DatagramLink.Side.client, .server])
    func aLostFlightIsRecoveredByTheTimer(losingFlightTo side: DatagramLink.Side) async throws {
        let link = try DatagramLink(initialTimeout: .milliseconds(100))
        var lost = 0
        var dropping = true
        link.drop = { to, _ in
            guard dropping, to == side else { return false }
            lost += 1
            return true
        }
        link.handshake()
        // The first flight towards `side` is gone; stop dropping and let the timers work.
        #expect(lost > 0)
        dropping = false
        #expect(!link.client.state.isEstablished || !link.server.state.isEstablished)
        try await link.recoverWithTimers()
        #expect(link.clientSaw.handshakeCompleted)
        #expect(link.serverSaw.handshakeCompleted)
        #expect(link.clientSaw.failure == nil && link.serverSaw.failure == nil)
    }

    @Test func noTimerRunsBeforeStartOrOnAnIdleServer() throws {
        let link = try DatagramLink()
        let now = ContinuousClock.now
        #expect(link.client.nextTimeout(now: now) == nil)
        _ = link.client.start()
        let timeout = try #require(link.client.nextTimeout(now: now))
        #expect(timeout > now && timeout <= now + .seconds(1))
        #expect(link.server.nextTimeout(now: now) == nil)
    }

    @Test func closeNotifyReachesThePeer() throws {
        let link = try DatagramLink()
        link.handshake()
        link.toServer += link.client.close()
        link.run()
        #expect(link.serverSaw.closed)
        #expect(link.server.state == .closed)
        #expect(link.client.state == .closed)
        #expect(throws: DTLSError.notEstablished(state: "closed")) { try link.server.send(applicationData: [1]) }
    }
}

extension DTLSConnection.State {
    var isEstablished: Bool { self == .established }
}
