import DTLS
import Logging
import NIOCore
import NIOPosix
import Testing
import WebRTC
import WebRTCProtocol

/// Collects what a data channel delivers, for a test to wait on.
final class ChannelSink: WebRTCDataChannelDelegate, @unchecked Sendable {
    private let lock = NSLockLike()
    private var bytes: [UInt8] = []
    private var closedWith: WebRTCError??

    func dataChannel(received bytes: [UInt8]) { lock.with { self.bytes += bytes } }
    func dataChannelBecameWritable() {}
    func dataChannelClosed(_ error: WebRTCError?) { lock.with { closedWith = .some(error) } }

    var received: [UInt8] { lock.with { bytes } }
    var closed: WebRTCError?? { lock.with { closedWith } }
}

/// A pthread mutex in a class, enough for a test's counters.
final class NSLockLike: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    init() { pthread_mutex_init(&mutex, nil) }
    func with<T>(_ body: () -> T) -> T {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return body()
    }
}

@Suite struct PeerConnectionTests {
    static let logger = Logger(label: "webrtc-test")

    /// Waits up to `seconds` for `condition`.
    static func eventually(_ seconds: Double, _ condition: () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return condition()
    }

    /// Two connections in one process, over loopback UDP: offer, answer, and both channels open;
    /// bytes cross both ways in order, 1 MiB of them, through ICE, DTLS, SCTP and DCEP.
    @Test(.timeLimit(.minutes(1))) func anOfferAndAnAnswerOpenOneChannelThatCarriesAByteStream() async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        let configuration = WebRTCConfiguration(connectTimeout: .seconds(20))
        let offerer = try await WebRTCPeerConnection.offer(on: group.next(), configuration: configuration,
                                                           certificate: try DTLSCertificate(), logger: Self.logger)
        let offerText = offerer.localDescription.text
        #expect(offerText.contains("a=setup:actpass"))
        #expect(offerText.contains("127.0.0.1"), "loopback is offered")
        let answerer = try await WebRTCPeerConnection.answer(try SessionDescription(parsing: offerText), on: group.next(),
                                                             configuration: configuration, certificate: try DTLSCertificate(),
                                                             logger: Self.logger)
        defer { offerer.close(); answerer.close() }
        let offererSink = ChannelSink(), answererSink = ChannelSink()
        offerer.delegate = offererSink
        answerer.delegate = answererSink
        try await offerer.accept(answer: try SessionDescription(parsing: answerer.localDescription.text))
        try await offerer.opened.get()
        try await answerer.opened.get()

        let forward = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let backward = Array("hello from the answerer".utf8)
        try await offerer.send(forward).get()
        try await answerer.send(backward).get()
        #expect(await Self.eventually(20) { answererSink.received.count >= forward.count })
        #expect(answererSink.received == forward)
        #expect(await Self.eventually(5) { offererSink.received == backward })

        offerer.close()
        #expect(await Self.eventually(10) { answererSink.closed != nil }, "the remote learns of the close")
    }

    /// An answer whose fingerprint is not the answerer's certificate never opens a channel.
    @Test(.timeLimit(.minutes(1))) func aForgedFingerprintNeverOpens() async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        let configuration = WebRTCConfiguration(connectTimeout: .seconds(10))
        let offerer = try await WebRTCPeerConnection.offer(on: group.next(), configuration: configuration,
                                                           certificate: try DTLSCertificate(), logger: Self.logger)
        let answerer = try await WebRTCPeerConnection.answer(try SessionDescription(parsing: offerer.localDescription.text),
                                                             on: group.next(), configuration: configuration,
                                                             certificate: try DTLSCertificate(), logger: Self.logger)
        defer { offerer.close(); answerer.close() }
        var forged = try SessionDescription(parsing: answerer.localDescription.text)
        forged.media.fingerprint = try DTLSCertificate().fingerprint
        try await offerer.accept(answer: forged)
        await #expect(throws: WebRTCError.self) { try await offerer.opened.get() }
        let opened = await (try? answerer.opened.get()) != nil
        #expect(!opened)
    }
}
