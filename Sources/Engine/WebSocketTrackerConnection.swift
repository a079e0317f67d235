import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOWebSocket

/// How a `wss://` tracker's certificate is checked. Host names are always verified (and sent
/// as SNI); an IP-address URL is checked against the certificate's IP addresses.
public enum WebSocketTrackerTrust: Sendable, Equatable {
    /// The system's trust store: what a mounted memofs uses.
    case system
    /// Only this certificate (a PEM file): a test tracker's self-signed one.
    case certificate(pemFile: String)
}

/// The limits and timers of one tracker socket. Pings run on real time: they are I/O, like a
/// TCP connect's timeout (see ``EngineClock``).
public struct WebSocketTrackerConnectionOptions: Sendable {
    public var trust: WebSocketTrackerTrust
    /// TCP connect, TLS and the upgrade together.
    public var connectTimeout: Duration
    /// The largest message (fragments together) we accept; a bigger one closes the socket.
    public var maxMessageBytes: Int
    /// A WebSocket ping this often…
    public var pingInterval: Duration
    /// …must be answered within this, or the connection counts as dead.
    public var pongTimeout: Duration

    public init(trust: WebSocketTrackerTrust = .system, connectTimeout: Duration = .seconds(15),
                maxMessageBytes: Int = 1 << 20, pingInterval: Duration = .seconds(30),
                pongTimeout: Duration = .seconds(20)) {
        self.trust = trust
        self.connectTimeout = connectTimeout
        self.maxMessageBytes = maxMessageBytes
        self.pingInterval = pingInterval
        self.pongTimeout = pongTimeout
    }
}

/// One open WebSocket to a tracker: text frames out with ``send(_:)``, text frames in and the
/// end of the connection (always exactly one ``Event/closed(_:)``, last) on ``events``.
/// The WebSocket part (upgrade, framing, masking, close codes) is swift-nio's NIOWebSocket;
/// TLS is NIOSSL.
final class WebSocketTrackerConnection: Sendable {
    enum Event: Sendable, Equatable {
        case text(String)
        case closed(WebSocketTrackerConnectionError)
    }

    let url: WebSocketTrackerURL
    let events: AsyncStream<Event>
    private let channel: Channel
    private let frames: WebSocketTrackerFrameHandler

    private init(url: WebSocketTrackerURL, events: AsyncStream<Event>, channel: Channel, frames: WebSocketTrackerFrameHandler) {
        self.url = url
        self.events = events
        self.channel = channel
        self.frames = frames
    }

    /// Opens the socket, TLS for `wss://`, and the WebSocket; throws the first thing that failed.
    static func connect(to url: WebSocketTrackerURL, options: WebSocketTrackerConnectionOptions,
                        group: EventLoopGroup) async throws(WebSocketTrackerConnectionError) -> WebSocketTrackerConnection {
        let tls: NIOSSLContext?
        do {
            tls = url.isSecure ? try makeTLSContext(options.trust) : nil
        } catch {
            throw .tlsSetupFailed(tlsReason(error))
        }
        let (events, continuation) = AsyncStream.makeStream(of: Event.self, bufferingPolicy: .unbounded)
        let frames = WebSocketTrackerFrameHandler(events: continuation, options: options)
        let eventLoop = group.next()
        let opened = eventLoop.makePromise(of: Void.self)
        let handshake = WebSocketTrackerHandshakeHandler(opened: opened)
        let upgrader = NIOWebSocketClientUpgrader(
            // Our frame handler answers protocol errors itself: NIO's handler may close the
            // socket before the error reaches us, and the reason would be lost.
            maxFrameSize: options.maxMessageBytes, automaticErrorHandling: false,
            upgradePipelineHandler: { channel, _ in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    pipeline.removeHandler(handshake, promise: nil)
                    try pipeline.addHandler(NIOWebSocketFrameAggregator(
                        minNonFinalFragmentSize: 0, maxAccumulatedFrameCount: 4096,
                        maxAccumulatedFrameSize: options.maxMessageBytes))
                    try pipeline.addHandler(frames)
                    opened.succeed()
                }
            })
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(TimeAmount(options.connectTimeout))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    if let tls {
                        // SNI and the name check take a host name; an address is checked against
                        // the certificate's IP entries instead (NIOSSL does that when given nil).
                        let isAddress = url.host.contains(":") || url.host.allSatisfy { $0.isNumber || $0 == "." }
                        try pipeline.addHandler(NIOSSLClientHandler(context: tls, serverHostname: isAddress ? nil : url.host))
                    }
                    try pipeline.addHTTPClientHandlers(withClientUpgrade: (upgraders: [upgrader], completionHandler: { _ in }))
                    try pipeline.addHandler(handshake)
                }
            }
        let channel: Channel
        do {
            channel = try await bootstrap.connect(host: url.host, port: Int(url.port)).get()
        } catch {
            opened.fail(error)
            continuation.finish()
            throw .unreachable(TrackerUnreachable.reason(error))
        }
        let deadline = channel.eventLoop.scheduleTask(in: TimeAmount(options.connectTimeout)) {
            opened.fail(WebSocketTrackerConnectionError.connectTimeout(options.connectTimeout))
            channel.close(promise: nil)
        }
        var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: url.pathAndQuery)
        head.headers.add(name: "Host", value: url.hostHeader)
        head.headers.add(name: "User-Agent", value: "memofs/0.1.0")
        head.headers.add(name: "Content-Length", value: "0")
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        do {
            try await opened.futureResult.get()
            deadline.cancel()
            return WebSocketTrackerConnection(url: url, events: events, channel: channel, frames: frames)
        } catch {
            deadline.cancel()
            channel.close(promise: nil)
            continuation.finish()
            throw (error as? WebSocketTrackerConnectionError) ?? .handshakeFailed("\(error)")
        }
    }

    /// Sends one text frame (masked, as a client must).
    func send(_ text: String) {
        let frames = self.frames
        channel.eventLoop.execute { frames.sendText(text) }
    }

    /// Sends a close frame and closes the socket; ``events`` then ends with `closed(.closedByUs)`.
    func close() {
        let frames = self.frames
        channel.eventLoop.execute { frames.closeByUs() }
    }

    private static func makeTLSContext(_ trust: WebSocketTrackerTrust) throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = .fullVerification
        switch trust {
        case .system:
            configuration.trustRoots = .default
        case .certificate(let pemFile):
            configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(pemFile))
        }
        return try NIOSSLContext(configuration: configuration)
    }
}

/// A TLS error in words: BoringSSL's reason ("certificate verify failed") rather than its
/// nested error stack.
func tlsReason(_ error: Error) -> String {
    if let extra = error as? NIOSSLExtraError, extra == .failedToValidateHostname {
        return "the certificate does not name this host"
    }
    let text = String(describing: error)
    let known = [("CERTIFICATE_VERIFY_FAILED", "certificate verify failed"),
                 ("WRONG_VERSION_NUMBER", "the server does not speak TLS (wrong version number)"),
                 ("TLSV1_ALERT", "the server sent a TLS alert: \(text)")]
    for (code, words) in known where text.contains(code) { return words }
    if let ssl = error as? NIOSSLError, case .uncleanShutdown = ssl { return "the server closed the connection during the handshake" }
    return text
}

/// Waits for the upgrade: fails `opened` with a TLS error, a refused upgrade (the server
/// answered, but not 101) or a close before it. Removed once the WebSocket is up.
private final class WebSocketTrackerHandshakeHandler: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = HTTPClientResponsePart
    let opened: EventLoopPromise<Void>

    init(opened: EventLoopPromise<Void>) {
        self.opened = opened
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let head) = unwrapInboundIn(data) {
            opened.fail(WebSocketTrackerConnectionError.handshakeRefused(status: Int(head.status.code), reason: head.status.reasonPhrase))
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if error is NIOSSLError || error is NIOSSLExtraError || error is BoringSSLError {
            opened.fail(WebSocketTrackerConnectionError.tlsHandshakeFailed(tlsReason(error)))
        } else if let upgrade = error as? NIOHTTPClientUpgradeError {
            opened.fail(WebSocketTrackerConnectionError.handshakeFailed("the server's 101 response is not a valid WebSocket acceptance (\(upgrade))"))
        } else {
            opened.fail(WebSocketTrackerConnectionError.handshakeFailed("\(error)"))
        }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        opened.fail(WebSocketTrackerConnectionError.handshakeFailed("the server closed the connection before the upgrade"))
        context.fireChannelInactive()
    }
}

/// The open WebSocket: text frames to ``WebSocketTrackerConnection/events``, pings answered,
/// our own pings to notice a dead socket, close frames both ways. Runs on the channel's loop.
private final class WebSocketTrackerFrameHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private let events: AsyncStream<WebSocketTrackerConnection.Event>.Continuation
    private let options: WebSocketTrackerConnectionOptions
    private var context: ChannelHandlerContext?
    /// Why the socket ends, first cause wins.
    private var ending: WebSocketTrackerConnectionError?
    private var sentClose = false
    private var pinger: RepeatedTask?
    private var pongDeadline: Scheduled<Void>?

    init(events: AsyncStream<WebSocketTrackerConnection.Event>.Continuation, options: WebSocketTrackerConnectionOptions) {
        self.events = events
        self.options = options
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        pinger = context.eventLoop.scheduleRepeatedTask(initialDelay: TimeAmount(options.pingInterval),
                                                        delay: TimeAmount(options.pingInterval)) { _ in
            loopBound.value.ping()
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        stopTimers()
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text:
            var payload = frame.unmaskedData
            events.yield(.text(payload.readString(length: payload.readableBytes) ?? ""))
        case .ping:
            guard !sentClose else { return }
            context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: frame.unmaskedData)),
                                  promise: nil)
        case .pong:
            pongDeadline?.cancel()
            pongDeadline = nil
        case .connectionClose:
            var payload = frame.unmaskedData
            let code = payload.readInteger(as: UInt16.self).map(Int.init)
            let reason = payload.readString(length: payload.readableBytes) ?? ""
            end(.closedByTracker(code: code, reason: reason), closeCode: .normalClosure)
        case .binary:
            end(.protocolViolation("the tracker sent a binary frame; WebTorrent trackers send text"), closeCode: .unacceptableData)
        default:
            break
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        switch error {
        case NIOWebSocketError.invalidFrameLength, NIOWebSocketFrameAggregator.Error.accumulatedFrameSizeIsTooLarge:
            end(.messageTooLarge(limit: options.maxMessageBytes), closeCode: .messageTooLarge)
        case let error as NIOWebSocketError:
            end(.protocolViolation("\(error)"), closeCode: .protocolError)
        case let error as NIOWebSocketFrameAggregator.Error:
            end(.protocolViolation("\(error)"), closeCode: .protocolError)
        case let error as IOError:
            end(.connectionLost(String(cString: strerror(error.errnoCode))), closeCode: nil)
        case is NIOSSLError:
            end(.connectionLost("TLS: \(tlsReason(error))"), closeCode: nil)
        default:
            end(.connectionLost("\(error)"), closeCode: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        stopTimers()
        events.yield(.closed(ending ?? .connectionLost("the tracker closed the socket without a close frame")))
        events.finish()
        context.fireChannelInactive()
    }

    func sendText(_ text: String) {
        guard let context, !sentClose else { return }
        let buffer = context.channel.allocator.buffer(string: text)
        context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .text, maskKey: .random(), data: buffer)), promise: nil)
    }

    func closeByUs() {
        end(.closedByUs, closeCode: .normalClosure)
    }

    private func ping() {
        guard let context, pongDeadline == nil, !sentClose else { return }
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let limit = options.pongTimeout
        pongDeadline = context.eventLoop.scheduleTask(in: TimeAmount(limit)) {
            loopBound.value.end(.noPong(limit), closeCode: .goingAway)
        }
        context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .ping, maskKey: .random(),
                                                             data: context.channel.allocator.buffer(string: "memofs"))),
                              promise: nil)
    }

    /// Records why the connection ends, sends a close frame if one is owed, and closes the
    /// socket; `channelInactive` then reports it.
    private func end(_ reason: WebSocketTrackerConnectionError, closeCode: WebSocketErrorCode?) {
        if ending == nil { ending = reason }
        stopTimers()
        guard let context else { return }
        let channel = context.channel
        if let closeCode, !sentClose {
            sentClose = true
            var data = channel.allocator.buffer(capacity: 2)
            data.write(webSocketErrorCode: closeCode)
            let frame = WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(), data: data)
            context.writeAndFlush(wrapOutboundOut(frame)).whenComplete { _ in channel.close(promise: nil) }
            // A tracker that never reads its socket must not hold it open.
            channel.eventLoop.scheduleTask(in: .seconds(2)) { channel.close(promise: nil) }
        } else {
            channel.close(promise: nil)
        }
    }

    private func stopTimers() {
        pinger?.cancel()
        pinger = nil
        pongDeadline?.cancel()
        pongDeadline = nil
    }
}
