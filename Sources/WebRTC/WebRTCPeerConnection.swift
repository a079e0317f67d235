import DTLS
import Logging
import NIOCore
import NIOPosix
import SCTP
import WebRTCProtocol

/// What a peer connection tells its owner once its data channel is open.
public protocol WebRTCDataChannelDelegate: AnyObject, Sendable {
    /// Bytes of the channel's stream, in order. On the connection's event loop.
    func dataChannel(received bytes: [UInt8])
    /// The channel can take more (after `isWritable` was false). On the loop.
    func dataChannelBecameWritable()
    /// The connection ended; nil when we closed it. Once. On the loop.
    func dataChannelClosed(_ error: WebRTCError?)
}

/// One WebRTC peer connection with one data channel, as WebTorrent makes them: ICE over UDP
/// sockets on our addresses, DTLS over the selected pair, SCTP over DTLS, and DCEP opening an
/// ordered, reliable channel that carries a byte stream.
///
/// Protocol logic is pure and lives in `WebRTCProtocol` (`ICEAgent`, `DataChannelEndpoint`),
/// `DTLS` and `SCTP`; this class moves bytes between them and the sockets, and keeps time. All
/// its state is touched on `eventLoop` only (usrsctp's callbacks hop onto it), which is what
/// makes the `@unchecked Sendable` sound.
public final class WebRTCPeerConnection: @unchecked Sendable {
    public let eventLoop: EventLoop
    /// Our offer or answer, with every candidate in it (non-trickle).
    public let localDescription: SessionDescription
    public internal(set) var remoteDescription: SessionDescription?
    /// Where DTLS runs, once ICE selected it (or the remote's DTLS arrived on a checked path).
    public internal(set) var selectedPair: ICECandidatePair?
    /// Completes when the data channel is open both ways; fails with a `WebRTCError`.
    public var opened: EventLoopFuture<Void> { openPromise.futureResult }
    public weak var delegate: (any WebRTCDataChannelDelegate)?

    let configuration: WebRTCConfiguration
    let certificate: DTLSCertificate
    let logger: Logger
    let localCredentials: ICECredentials
    let localCandidates: [ICELocalCandidate]
    /// One UDP socket per local address: a datagram's socket tells which base it came to.
    var sockets: [ICETransportAddress: Channel] = [:]
    /// Sockets written to and not yet flushed in this turn of the loop.
    var unflushed: Set<ICETransportAddress> = []
    var ice: ICEAgent?
    var dtls: DTLSConnection?
    var sctp: SCTPAssociation?
    var channel: DataChannelEndpoint?
    var stage = "waiting for the answer"
    var startedAt: NIODeadline?
    var timer: Scheduled<Void>?
    let openPromise: EventLoopPromise<Void>
    var isOpen = false
    var isClosed = false
    var readingPaused = false
    var heldBytes: [[UInt8]] = []
    /// Messages SCTP could not take yet (its send buffer was full), in order.
    var unsent: [(message: DataChannelEndpoint.Action, promise: EventLoopPromise<Void>?)] = []
    var unsentBytes = 0
    let role: Role

    enum Role { case offerer, answerer }

    /// Above this many bytes waiting for SCTP, `isWritable` is false.
    public static let writeHighWater = 1 << 20

    init(eventLoop: EventLoop, configuration: WebRTCConfiguration, certificate: DTLSCertificate, logger: Logger,
         role: Role, credentials: ICECredentials, candidates: [ICELocalCandidate], sockets: [ICETransportAddress: Channel],
         localDescription: SessionDescription) {
        self.eventLoop = eventLoop
        self.configuration = configuration
        self.certificate = certificate
        self.logger = logger
        self.role = role
        self.localCredentials = credentials
        self.localCandidates = candidates
        self.sockets = sockets
        self.localDescription = localDescription
        self.openPromise = eventLoop.makePromise()
    }

    /// A connection dropped without `close()` (nothing refers to it any more, so nothing else
    /// touches its state): its sockets close, and whoever waits for it to open hears that it
    /// never will.
    deinit {
        guard !isClosed else { return }
        timer?.cancel()
        sctp?.close()
        for socket in sockets.values { socket.close(promise: nil) }
        if !isOpen { openPromise.fail(WebRTCError.closed) }
    }

    // MARK: making offers and answers

    /// A new connection with an offer for a peer to answer (`accept(answer:)` goes on).
    public static func offer(on eventLoop: EventLoop, configuration: WebRTCConfiguration, certificate: DTLSCertificate,
                             logger: Logger) async throws -> WebRTCPeerConnection {
        let (candidates, sockets) = try await Gathering.gather(on: eventLoop, configuration: configuration)
        let credentials = ICECredentials.random()
        let offer = SessionDescription.offer(credentials: credentials, fingerprint: certificate.fingerprint,
                                             candidates: candidates.map(\.sdp), sessionID: UInt64.random(in: 1..<(1 << 62)))
        let connection = WebRTCPeerConnection(eventLoop: eventLoop, configuration: configuration, certificate: certificate,
                                              logger: logger, role: .offerer, credentials: credentials,
                                              candidates: candidates, sockets: sockets, localDescription: offer)
        try await connection.listen()
        return connection
    }

    /// A new connection answering `offer`; ICE starts at once.
    public static func answer(_ offer: SessionDescription, on eventLoop: EventLoop, configuration: WebRTCConfiguration,
                              certificate: DTLSCertificate, logger: Logger) async throws -> WebRTCPeerConnection {
        try Self.check(offer)
        let (candidates, sockets) = try await Gathering.gather(on: eventLoop, configuration: configuration)
        let credentials = ICECredentials.random()
        let answer = SessionDescription.answer(to: offer, credentials: credentials, fingerprint: certificate.fingerprint,
                                               candidates: candidates.map(\.sdp), sessionID: UInt64.random(in: 1..<(1 << 62)))
        let connection = WebRTCPeerConnection(eventLoop: eventLoop, configuration: configuration, certificate: certificate,
                                              logger: logger, role: .answerer, credentials: credentials,
                                              candidates: candidates, sockets: sockets, localDescription: answer)
        try await connection.listen()
        try await eventLoop.submit { try connection.start(remote: offer, weAreDTLSClient: answer.media.setup == .active) }.get()
        return connection
    }

    /// The peer's answer to our offer: ICE starts.
    public func accept(answer: SessionDescription) async throws {
        try Self.check(answer)
        guard role == .offerer else { throw WebRTCError.unusableDescription("an answer to a connection that answered") }
        // The answerer picks the DTLS role our `actpass` left open.
        let weAreClient = answer.media.setup == .passive
        try await eventLoop.submit { try self.start(remote: answer, weAreDTLSClient: weAreClient) }.get()
    }

    static func check(_ description: SessionDescription) throws {
        guard description.media.fingerprint.algorithm.lowercased() == "sha-256" else {
            throw WebRTCError.unusableDescription("fingerprint algorithm \(description.media.fingerprint.algorithm), not sha-256")
        }
        guard description.media.sctpPort != 0 else { throw WebRTCError.unusableDescription("no a=sctp-port") }
    }

    private func start(remote: SessionDescription, weAreDTLSClient: Bool) throws {
        eventLoop.preconditionInEventLoop()
        guard remoteDescription == nil, !isClosed else { throw WebRTCError.unusableDescription("a second remote description") }
        remoteDescription = remote
        let remoteCredentials = try ICECredentials(ufrag: remote.media.iceUfrag, pwd: remote.media.icePwd)
        var seed = SystemRandomNumberGenerator()
        var agent = ICEAgent(role: role == .offerer ? .controlling : .controlled, local: localCredentials,
                             remote: remoteCredentials, tieBreaker: seed.next(), localCandidates: localCandidates,
                             remoteCandidates: remote.media.candidates, randomSeed: seed.next())
        dtls = try DTLSConnection(role: weAreDTLSClient ? .client : .server, certificate: certificate,
                                  expectedRemoteFingerprint: remote.media.fingerprint)
        let hexDigits = Array("0123456789abcdef")
        let label = String((0..<40).map { _ in hexDigits.randomElement()! })
        channel = DataChannelEndpoint(role: role == .offerer ? .opener(label: label) : .acceptor,
                                      isDTLSClient: weAreDTLSClient,
                                      remoteMaxMessageSize: Int(clamping: remote.media.maxMessageSize ?? 65536))
        stage = "ICE"
        startedAt = .now()
        let actions = agent.start(now: .now)
        ice = agent
        perform(actions)
        rearm()
    }

    /// Binds the sockets' handlers: datagrams come to `received(_:on:)` on the loop.
    private func listen() async throws {
        for (base, socket) in sockets {
            try await socket.pipeline.addHandler(DatagramHandler(connection: self, base: base)).get()
        }
    }

    // MARK: the channel

    /// False while more than `writeHighWater` bytes wait for SCTP.
    public var isWritable: Bool { unsentBytes < Self.writeHighWater }

    /// Sends bytes of the stream; completes once SCTP has taken them.
    public func send(_ bytes: [UInt8]) -> EventLoopFuture<Void> {
        eventLoop.flatSubmit {
            guard self.isOpen, let channel = self.channel else {
                return self.eventLoop.makeFailedFuture(self.isClosed ? WebRTCError.closed : WebRTCError.notOpen(stage: self.stage))
            }
            let promise = self.eventLoop.makePromise(of: Void.self)
            let messages = channel.send(bytes)
            for (index, message) in messages.enumerated() {
                self.enqueue(message, promise: index == messages.count - 1 ? promise : nil)
            }
            if messages.isEmpty { promise.succeed() }
            self.flushUnsent()
            return promise.futureResult
        }
    }

    /// Holds received bytes (backpressure from the reader) or delivers what was held.
    public func setReading(_ reading: Bool) {
        eventLoop.execute {
            self.readingPaused = !reading
            guard reading else { return }
            let held = self.heldBytes
            self.heldBytes = []
            for bytes in held { self.delegate?.dataChannel(received: bytes) }
        }
    }

    public func close() {
        eventLoop.execute { self.finish(nil) }
    }
}
