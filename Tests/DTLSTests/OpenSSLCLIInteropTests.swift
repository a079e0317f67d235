import DTLS
import Foundation
import Testing
import WebRTCProtocol

/// Against a DTLS implementation nobody here wrote: the `openssl` command (Debian's `openssl`
/// package), over real UDP on 127.0.0.1.
@Suite(.serialized) struct OpenSSLCLIInteropTests {
    /// Carries datagrams between `connection` and the socket until `done` (bounded), honouring
    /// the retransmission timer. Returns the application records received.
    @discardableResult
    func pump(_ connection: DTLSConnection, _ socket: LoopbackUDPSocket, seconds: Int,
              until done: (DTLSOutput) -> Bool) throws -> (records: [[UInt8]], last: DTLSOutput) {
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(seconds)
        var records: [[UInt8]] = []
        var last = DTLSOutput()
        while clock.now < deadline {
            if let datagram = try socket.receive(waitingAtMost: 50) {
                last = connection.receive(datagram: datagram)
            } else if let timeout = connection.nextTimeout(now: clock.now), timeout <= clock.now {
                last = connection.handleTimeout()
            } else {
                continue
            }
            for datagram in last.datagrams { try socket.send(datagram) }
            records += last.applicationData
            if let failure = last.failure { throw failure }
            if done(last) { return (records, last) }
        }
        throw CommandLineOpenSSL.CommandFailed(description: "no progress within \(seconds) s")
    }

    @Test func withOpenSSLsClientWeServe() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("memofs-dtls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let cli = try await CommandLineOpenSSL.makeCertificate(in: folder)
        let ours = try DTLSCertificate()
        let connection = try DTLSConnection(role: .server, certificate: ours, expectedRemoteFingerprint: cli.fingerprint)
        let socket = try LoopbackUDPSocket()
        let client = try CommandLineOpenSSL(["s_client", "-dtls1_2", "-connect", "127.0.0.1:\(socket.port)",
                                             "-cert", cli.certificate, "-key", cli.key, "-mtu", "1200"])
        defer { client.stop() }
        try pump(connection, socket, seconds: 10) { $0.handshakeCompleted }
        #expect(connection.state == .established)
        // s_client's own preference picks the suite (AES-256-GCM first in its list).
        let suite = try #require(connection.cipherSuite)
        #expect(suite.hasPrefix("ECDHE-ECDSA-"))
        #expect(try await client.waitForOutput(containing: "Cipher is \(suite)", timeout: .seconds(5)),
                "\(client.text.split(separator: "\n").filter { !$0.contains(" - ") })")
        // Our certificate reached the CLI (it prints it; the chain check fails, as expected
        // for a self-signed certificate, and s_client carries on).
        #expect(client.text.contains("s:CN = memofs"))
        #expect(client.text.contains("Protocol  : DTLSv1.2"))

        for datagram in try connection.send(applicationData: Array("hello from memofs\n".utf8)) { try socket.send(datagram) }
        #expect(try await client.waitForOutput(containing: "hello from memofs", timeout: .seconds(5)))

        try client.write("hello from openssl\n")
        let (records, _) = try pump(connection, socket, seconds: 5) { !$0.applicationData.isEmpty }
        #expect(records == [Array("hello from openssl\n".utf8)])

        for datagram in connection.close() { try socket.send(datagram) }
        #expect(try await client.waitForOutput(containing: "\nclosed", timeout: .seconds(5)), "\(client.text.suffix(500))")
    }

    @Test func withOpenSSLsServerWeConnect() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("memofs-dtls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let cli = try await CommandLineOpenSSL.makeCertificate(in: folder)
        let ours = try DTLSCertificate()
        let connection = try DTLSConnection(role: .client, certificate: ours, expectedRemoteFingerprint: cli.fingerprint)
        let socket = try LoopbackUDPSocket()
        // A free port for the server: bind one, note it, let it go (s_server takes it at once).
        let port = try LoopbackUDPSocket().port
        socket.peer = LoopbackUDPSocket.loopback(port: port)
        let server = try CommandLineOpenSSL(["s_server", "-dtls1_2", "-accept", "127.0.0.1:\(port)",
                                             "-cert", cli.certificate, "-key", cli.key, "-Verify", "1", "-mtu", "1200"])
        defer { server.stop() }
        #expect(try await server.waitForOutput(containing: "ACCEPT", timeout: .seconds(5)), "\(server.text)")

        for datagram in connection.start().datagrams { try socket.send(datagram) }
        try pump(connection, socket, seconds: 10) { $0.handshakeCompleted }
        #expect(connection.state == .established)

        for datagram in try connection.send(applicationData: Array("hello from memofs\n".utf8)) { try socket.send(datagram) }
        #expect(try await server.waitForOutput(containing: "hello from memofs", timeout: .seconds(5)), "\(server.text.suffix(2000))")
        // s_server required our certificate (-Verify) and printed its subject.
        #expect(server.text.contains("depth=0 CN = memofs"), "\(server.text.prefix(600))")

        try server.write("hello from openssl\n")
        let (records, _) = try pump(connection, socket, seconds: 5) { !$0.applicationData.isEmpty }
        #expect(records == [Array("hello from openssl\n".utf8)])
    }

    @Test func theCLIsCertificateUnderAnotherFingerprintIsRefused() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("memofs-dtls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let cli = try await CommandLineOpenSSL.makeCertificate(in: folder)
        let impostor = try DTLSCertificate()
        let connection = try DTLSConnection(role: .server, certificate: try DTLSCertificate(),
                                            expectedRemoteFingerprint: impostor.fingerprint)
        let socket = try LoopbackUDPSocket()
        let client = try CommandLineOpenSSL(["s_client", "-dtls1_2", "-connect", "127.0.0.1:\(socket.port)",
                                             "-cert", cli.certificate, "-key", cli.key])
        defer { client.stop() }
        #expect {
            try pump(connection, socket, seconds: 10) { $0.handshakeCompleted }
        } throws: { error in
            guard case let .fingerprintMismatch(expected, got)? = error as? DTLSError else { return false }
            return expected == impostor.fingerprint && got == cli.fingerprint
        }
        #expect(connection.state != .established)
    }
}
