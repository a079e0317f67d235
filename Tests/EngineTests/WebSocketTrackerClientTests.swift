import Discovery
@testable import Engine
import Foundation
import NIOPosix
import PeerHarness
import TestSupport
import Testing
import TorrentModel

/// The WebSocket tracker client against the WebTorrent test tracker of wt_peer.py (the one the
/// browser tests use; not ours): offers relayed between two clients, the answer back to the
/// offerer with its offer id, over ws:// and wss://.
@Suite struct WebSocketTrackerClientTests {
    static let script = ProcessInfo.processInfo.environment["MEMOFS_WT_PEER"] ?? "/work/shared/peers/webtorrent/wt_peer.py"
    static let unavailable = WebTorrentPeer.trackerUnavailableReason

    /// wt_peer.py's tracker on loopback; `--wss` writes its self-signed certificate into the folder.
    struct Tracker {
        let process: ChildProcess
        let url: String
        let folder: TemporaryFolder
        var certificate: String { folder.path + "/tracker.crt" }

        /// `certificateFor`: a DNS name to make the TLS certificate for instead of wt_peer.py's
        /// own (which names 127.0.0.1); it uses the one it finds in its folder.
        init(secure: Bool, certificateFor name: String? = nil) async throws {
            folder = try TemporaryFolder()
            if let name {
                let made = try await run(["/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                                          "-subj", "/CN=\(name)", "-addext", "subjectAltName=DNS:\(name)",
                                          "-keyout", folder.path + "/tracker.key", "-out", folder.path + "/tracker.crt"], timeout: 30)
                try #require(made.status == 0, "openssl: \(made.errors)")
            }
            process = try ChildProcess("/usr/bin/python3",
                                       [Self.scriptPath, "--netns", "none", "--log-dir", folder.path]
                                       + (secure ? ["--wss"] : []) + ["tracker", "--hold", "300"],
                                       label: "wt-tracker")
            let event = try await process.waitForJSON(timeout: 30) { $0["event"] as? String == "tracker" }
            url = try #require(event["url"] as? String)
        }

        static var scriptPath: String { WebSocketTrackerClientTests.script }

        /// SIGKILL to its PID: it has nothing to save, and it ends neither on stdin's close nor
        /// on SIGTERM (which it inherits blocked from the test runner), which `stop()` waits 6 s for.
        func stop() {
            process.kill9()
        }
    }

    func client(_ url: String, signaling: RecordingSignaling, trust: WebSocketTrackerTrust = .system) -> WebSocketTrackerClient {
        WebSocketTrackerClient(url: WebSocketTrackerURL(url)!, peerID: .random(), signaling: signaling,
                               group: MultiThreadedEventLoopGroup.singleton, options: .init(trust: trust),
                               logger: testLogger, tickInterval: .milliseconds(50))
    }

    @Test(.enabled(if: unavailable == nil, "\(unavailable ?? ""): skipped"),
          arguments: [false, true])
    func anOfferIsRelayedAndItsAnswerComesBack(secure: Bool) async throws {
        let tracker = try await Tracker(secure: secure)
        defer { tracker.stop() }
        let trust: WebSocketTrackerTrust = secure ? .certificate(pemFile: tracker.certificate) : .system
        #expect(tracker.url.hasPrefix(secure ? "wss://" : "ws://"))
        let infoHash = randomInfoHash()
        let (signalingA, signalingB) = (RecordingSignaling(name: "A"), RecordingSignaling(name: "B"))
        let (statusA, statusB) = (StatusBox(), StatusBox())
        let a = client(tracker.url, signaling: signalingA, trust: trust)
        let b = client(tracker.url, signaling: signalingB, trust: trust)
        // B first, so that A's announce finds it in the swarm.
        await b.add(statusB.torrent(infoHash))
        try await eventually("B's announce answered", timeout: 15) {
            let connected = await b.isConnected
            return await !signalingB.offersMade.isEmpty && statusB.history.isEmpty && connected
        }
        try await Task.sleep(for: .milliseconds(300))
        await a.add(statusA.torrent(infoHash))
        try await eventually("B's answer back at A", timeout: 15) { await !signalingA.answersAccepted.isEmpty }
        let offered = await signalingA.offersMade
        let answered = await signalingB.offersAnswered
        let accepted = await signalingA.answersAccepted
        #expect(answered.count == 1)
        #expect(offered.contains { $0.offerID == answered[0].offerID && $0.sdp == answered[0].sdp })
        #expect(accepted.count == 1)
        #expect(accepted[0].offerID == answered[0].offerID)
        #expect(accepted[0].sdp == RecordingSignaling.answerSDP)
        #expect(statusA.current == nil && statusB.current == nil)
        await a.shutdown()
        await b.shutdown()
    }

    @Test(.enabled(if: unavailable == nil, "\(unavailable ?? ""): skipped"))
    func aSelfSignedTrackerIsRefusedUnlessItsCertificateIsTrusted() async throws {
        let tracker = try await Tracker(secure: true)
        defer { tracker.stop() }
        let url = try #require(WebSocketTrackerURL(tracker.url))
        do {
            _ = try await WebSocketTrackerConnection.connect(to: url, options: .init(), group: MultiThreadedEventLoopGroup.singleton)
            Issue.record("connected to a self-signed tracker without trusting it")
        } catch {
            #expect(error == .tlsHandshakeFailed("certificate verify failed"))
        }
        let status = StatusBox()
        let client = client(tracker.url, signaling: RecordingSignaling(name: "untrusting"))
        await client.add(status.torrent(randomInfoHash()))
        try await eventually("the TLS failure as status", timeout: 15) { status.current != nil }
        #expect(status.current == "\(tracker.url): TLS handshake failed: certificate verify failed")
        await client.shutdown()
        let trusting = WebSocketTrackerConnectionOptions(trust: .certificate(pemFile: tracker.certificate))
        let trusted = try await WebSocketTrackerConnection.connect(to: url, options: trusting, group: MultiThreadedEventLoopGroup.singleton)
        trusted.close()
    }

    @Test(.enabled(if: unavailable == nil, "\(unavailable ?? ""): skipped"))
    func aTrustedCertificateForAnotherHostIsRefused() async throws {
        let tracker = try await Tracker(secure: true, certificateFor: "tracker.memofs.test")
        defer { tracker.stop() }
        let url = try #require(WebSocketTrackerURL(tracker.url))
        do {
            _ = try await WebSocketTrackerConnection.connect(to: url, options: .init(trust: .certificate(pemFile: tracker.certificate)),
                                                             group: MultiThreadedEventLoopGroup.singleton)
            Issue.record("connected to \(url) with a certificate for tracker.memofs.test")
        } catch {
            #expect(error == .tlsHandshakeFailed("the certificate does not name this host"))
        }
    }
}
