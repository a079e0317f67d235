import DTLS
import Foundation
import Logging
import NIOCore
import NIOPosix
import PeerHarness
import Testing
import WebRTC
import WebRTCProtocol

/// What a data channel delivers, with the times of the first and last bytes, for figures.
final class TimedChannelSink: WebRTCDataChannelDelegate, @unchecked Sendable {
    private let lock = NSLockLike()
    private var bytes: [UInt8] = []
    private var firstAt: ContinuousClock.Instant?
    private var lastAt: ContinuousClock.Instant?
    private var closedWith: (error: WebRTCError?, at: ContinuousClock.Instant)?

    func dataChannel(received bytes: [UInt8]) {
        let now = ContinuousClock.now
        lock.with {
            if firstAt == nil { firstAt = now }
            lastAt = now
            self.bytes += bytes
        }
    }
    func dataChannelBecameWritable() {}
    func dataChannelClosed(_ error: WebRTCError?) { lock.with { closedWith = (error, ContinuousClock.now) } }

    var received: [UInt8] { lock.with { bytes } }
    var count: Int { lock.with { bytes.count } }
    var receiveTime: Duration? { lock.with { firstAt.flatMap { first in lastAt.map { $0 - first } } } }
    var closed: (error: WebRTCError?, at: ContinuousClock.Instant)? { lock.with { closedWith } }
}

/// memofs's WebRTC stack against Chromium's own RTCPeerConnection (Debian's `chromium`): the
/// browser runs headless in a network namespace joined to ours by a veth pair, loads a page of
/// ours (`ChromiumPage`) from a server on the root end, and signals through it. Both ways of
/// making the connection, with Chromium's host candidates as mDNS names (its default; we learn
/// its address as peer-reflexive from its checks) and as raw IPs; 2 MiB each way, every byte
/// checked; both ways of closing. Figures (time to open, MB/s) are printed, not asserted.
@Suite(.serialized, .enabled(if: HeadlessChromium.isAvailable,
                             "needs root and /usr/lib/chromium/chromium (mount-scripts/install-deps installs chromium)"))
struct ChromiumInteropTests {
    static let size = 2 << 20

    /// What Chromium tells about its own address.
    enum Candidates: String, CaseIterable, Sendable {
        /// Host candidates as `UUID.local` mDNS names (its default): we skip them and learn its
        /// address as peer-reflexive from its checks.
        case mdns
        /// `--disable-features=WebRtcHideLocalIpsWithMdns`: host candidates with raw IPs.
        case raw
        /// A namespace without a default route: Chromium gathers no candidate at all (as a
        /// browser that may enumerate no interface), its description has none.
        case none

        var hostCandidates: HeadlessChromium.HostCandidates { self == .raw ? .raw : .mdns }

        /// What the description Chromium writes must show.
        func check(_ description: String, namespace: RootVethNamespace) {
            switch self {
            case .mdns: #expect(description.contains(".local"), "Chromium hides its address behind mDNS")
            case .raw: #expect(description.contains(namespace.namespaceAddress), "Chromium gives its raw address")
            case .none: #expect(!description.contains("a=candidate"), "Chromium gathers nothing without a default route")
            }
        }
    }

    static let logger: Logger = {
        var logger = Logger(label: "webrtc-chromium")
        if let level = ProcessInfo.processInfo.environment["MEMOFS_WEBRTC_LOG"].flatMap(Logger.Level.init(rawValue:)) {
            logger.logLevel = level
        }
        return logger
    }()

    /// A namespace, the page server on its root end and Chromium inside, for `body`; all
    /// removed afterwards, also when `body` throws. A failure message gets the page's log.
    static func withChromium(role: String, close: String, candidates: Candidates,
                             _ body: (SignalingPageServer, RootVethNamespace) async throws -> Void) async throws {
        let namespace = try RootVethNamespace(defaultRoute: candidates != .none)
        defer { namespace.remove() }
        let server = try await SignalingPageServer(host: namespace.rootAddress, page: ChromiumPage.html,
                                                   group: MultiThreadedEventLoopGroup.singleton)
        defer { server.stop() }
        let chromium = try HeadlessChromium(in: namespace, url: server.url + "?role=\(role)&size=\(size)&close=\(close)",
                                            hostCandidates: candidates.hostCandidates)
        defer { chromium.stop() }
        do {
            try await body(server, namespace)
        } catch {
            let pageLog = server.all("log").joined(separator: "\n")
            let events = server.all("event").joined(separator: "\n")
            Issue.record("page log:\n\(pageLog)\npage events:\n\(events)\nchromium stderr (tail):\n\(chromium.process.errorOutput.suffix(3000))")
            throw error
        }
    }

    /// The next `event` the page posted whose name is `name` (others are skipped), as JSON.
    static func pageEvent(_ name: String, from server: SignalingPageServer, timeout: TimeInterval) async throws -> [String: Any] {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let text = try await server.next("event", timeout: max(0.1, deadline.timeIntervalSinceNow))
            let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] ?? [:]
            if object["event"] as? String == "error" { throw ChildProcess.Timeout(description: "the page failed: \(text)") }
            if object["event"] as? String == name { return object }
        }
    }

    static func megabytesPerSecond(_ bytes: Int, _ duration: Duration) -> String {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        return String(format: "%.1f MB/s", Double(bytes) / 1e6 / max(seconds, 1e-6))
    }

    /// With the channel open: the page's 2 MiB arrive intact, ours arrive intact at the page.
    static func exchange(_ connection: WebRTCPeerConnection, _ sink: TimedChannelSink, server: SignalingPageServer,
                         label: String) async throws {
        try #require(await PeerConnectionTests.eventually(60) { sink.count >= size }, "the page's 2 MiB arrive")
        let received = sink.received
        #expect(received.count == size)
        let firstWrong = received.indices.first { received[$0] != ChromiumPage.up($0) }
        #expect(firstWrong == nil, "byte \(firstWrong ?? -1) from the page is wrong")
        let upload = sink.receiveTime.map { megabytesPerSecond(size, $0) } ?? "?"

        let ours = (0..<size).map(ChromiumPage.down)
        try await connection.send(ours).get()
        let resultText = try await server.next("result", timeout: 60)
        let result = try JSONSerialization.jsonObject(with: Data(resultText.utf8)) as? [String: Any] ?? [:]
        #expect(result["received"] as? Int == size, "the page got all our bytes: \(resultText)")
        #expect(result["mismatch"] as? Int == -1, "the page found no wrong byte: \(resultText)")
        let downloadMs = result["receiveMs"] as? Double ?? .nan
        let download = String(format: "%.1f MB/s", Double(size) / 1e6 / max(downloadMs / 1000, 1e-6))
        print("chromium interop [\(label)]: page → memofs \(upload), memofs → page \(download) (2 MiB each)")
    }

    /// Chromium offers (a WebTorrent-like channel: 40 hex characters, ordered, reliable), memofs
    /// answers; bytes both ways; we close and the page sees its channel close.
    @Test(.timeLimit(.minutes(3)), arguments: Candidates.allCases)
    func chromiumOffersMemofsAnswers(_ candidates: Candidates) async throws {
        try await Self.withChromium(role: "offerer", close: "ours", candidates: candidates) { server, namespace in
            let offerText = try await server.next("offer", timeout: 60)
            candidates.check(offerText, namespace: namespace)
            let answeredAt = ContinuousClock.now
            let connection = try await WebRTCPeerConnection.answer(
                try SessionDescription(parsing: offerText), on: MultiThreadedEventLoopGroup.singleton.next(),
                configuration: WebRTCConfiguration(connectTimeout: .seconds(30), addresses: [namespace.rootAddress]),
                certificate: try DTLSCertificate(), logger: Self.logger)
            defer { connection.close() }
            let sink = TimedChannelSink()
            connection.delegate = sink
            let ourCandidates = connection.localDescription.media.candidates.map(\.address)
            #expect(ourCandidates == [namespace.rootAddress], "only the veth address is offered")
            server.put("answer", connection.localDescription.text)
            try await connection.opened.get()
            let openTime = ContinuousClock.now - answeredAt
            let open = try await Self.pageEvent("open", from: server, timeout: 30)
            let label = open["label"] as? String ?? ""
            #expect(label.count == 40 && label.allSatisfy(\.isHexDigit), "label \(label)")
            #expect(open["ordered"] as? Bool == true)
            #expect(open["maxRetransmits"] is NSNull && open["maxPacketLifeTime"] is NSNull, "reliable: \(open)")
            print("chromium interop [chromium offers, \(candidates)]: open \(openTime) after our answer; "
                  + "Chromium's pair: \(open["local"] ?? "?") → \(open["remote"] ?? "?"); ours: \(connection.selectedPair.map { "\($0)" } ?? "?")")

            try await Self.exchange(connection, sink, server: server, label: "chromium offers, \(candidates)")

            let closedAt = ContinuousClock.now
            connection.close()
            let closed = try await Self.pageEvent("closed", from: server, timeout: 20)
            print("chromium interop [chromium offers, \(candidates)]: we closed; the page's channel closed after "
                  + "\(ContinuousClock.now - closedAt) (connectionState \(closed["connectionState"] ?? "?"))")
        }
    }

    /// memofs offers, Chromium answers (`a=setup:active`: we are the DTLS server); bytes both
    /// ways; the page closes its RTCPeerConnection and our delegate hears of it.
    @Test(.timeLimit(.minutes(3)), arguments: Candidates.allCases)
    func memofsOffersChromiumAnswers(_ candidates: Candidates) async throws {
        try await Self.withChromium(role: "answerer", close: "page", candidates: candidates) { server, namespace in
            let connection = try await WebRTCPeerConnection.offer(
                on: MultiThreadedEventLoopGroup.singleton.next(),
                configuration: WebRTCConfiguration(connectTimeout: .seconds(30), addresses: [namespace.rootAddress]),
                certificate: try DTLSCertificate(), logger: Self.logger)
            defer { connection.close() }
            let sink = TimedChannelSink()
            connection.delegate = sink
            server.put("offer", connection.localDescription.text)
            let answerText = try await server.next("answer", timeout: 60)
            #expect(answerText.contains("a=setup:active"), "Chromium takes the DTLS client's part")
            candidates.check(answerText, namespace: namespace)
            let acceptedAt = ContinuousClock.now
            try await connection.accept(answer: try SessionDescription(parsing: answerText))
            try await connection.opened.get()
            let openTime = ContinuousClock.now - acceptedAt
            let open = try await Self.pageEvent("open", from: server, timeout: 30)
            print("chromium interop [memofs offers, \(candidates)]: open \(openTime) after Chromium's answer; "
                  + "label \(open["label"] ?? "?"), Chromium's pair: \(open["local"] ?? "?") → \(open["remote"] ?? "?")")

            try await Self.exchange(connection, sink, server: server, label: "memofs offers, \(candidates)")

            let closedAt = ContinuousClock.now
            server.put("close", "now")
            #expect(await PeerConnectionTests.eventually(45) { sink.closed != nil }, "we hear that the page closed")
            if let closed = sink.closed {
                print("chromium interop [memofs offers, \(candidates)]: the page closed; our channel closed after "
                      + "\(closed.at - closedAt) with \(closed.error.map { "\($0)" } ?? "nil")")
                #expect(closed.error != nil, "a close by the peer is reported as an error, not as ours")
            }
        }
    }
}
