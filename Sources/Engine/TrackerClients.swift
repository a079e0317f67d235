import Discovery
import NIOCore
import NIOHTTP1
import NIOPosix
import TorrentModel

/// The socket side of tracker announces; the messages and retry logic are Discovery's.
enum TrackerClients {
    static let maxResponseBytes = 1 << 20

    static func announce(_ url: TrackerURL, request: AnnounceRequest, cachedConnection: UDPTrackerConnection?,
                         group: EventLoopGroup, timeout: TimeAmount) async throws -> (AnnounceResponse, UDPTrackerConnection?) {
        switch url.scheme {
        case .http:
            let body = try await httpGet(url, target: HTTPTracker.announcePathAndQuery(for: url, request: request),
                                         group: group, timeout: timeout)
            return (try HTTPTracker.parseAnnounceResponse(body), nil)
        case .https:
            throw TrackerError.failure(reason: "https trackers are not supported yet")
        case .udp:
            let (response, connection) = try await udpAnnounce(url, request: request, cachedConnection: cachedConnection,
                                                               group: group, timeout: timeout)
            return (response, connection)
        }
    }

    // MARK: HTTP

    private static func httpGet(_ url: TrackerURL, target: String, group: EventLoopGroup, timeout: TimeAmount) async throws -> [UInt8] {
        let promise = group.next().makePromise(of: [UInt8].self)
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(HTTPBodyCollector(promise: promise, limit: maxResponseBytes))
                }
            }
        let channel: Channel
        do {
            channel = try await bootstrap.connect(host: url.host, port: Int(url.port)).get()
        } catch {
            promise.fail(error)  // never leave a promise unfulfilled
            throw TrackerUnreachable(error)
        }
        let timer = channel.eventLoop.scheduleTask(in: timeout) {
            promise.fail(TrackerError.timeout(request: "HTTP announce to \(url.text)", attempts: 1))
            channel.close(promise: nil)
        }
        var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: target)
        let hostHeader = url.host.contains(":") ? "[\(url.host)]" : url.host
        head.headers.add(name: "Host", value: url.port == 80 ? hostHeader : "\(hostHeader):\(url.port)")
        head.headers.add(name: "User-Agent", value: "memofs/0.1.0")
        head.headers.add(name: "Connection", value: "close")
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        defer {
            timer.cancel()
            channel.close(promise: nil)
        }
        return try await promise.futureResult.get()
    }

    // MARK: UDP (BEP 15)

    /// One BEP 15 exchange, with its own retries, but never longer than `timeout` × 8 in all.
    private static func udpAnnounce(_ url: TrackerURL, request: AnnounceRequest, cachedConnection: UDPTrackerConnection?,
                                    group: EventLoopGroup, timeout: TimeAmount) async throws -> (AnnounceResponse, UDPTrackerConnection) {
        // getaddrinfo blocks: resolve on NIO's blocking pool, not on a cooperative thread.
        let address = try await NIOThreadPool.singleton.runIfActive {
            try SocketAddress.makeAddressResolvingHost(url.host, port: Int(url.port))
        }
        let isIPv6 = if case .v6 = address { true } else { false }
        var random = SystemRandomNumberGenerator()
        let exchange = UDPTrackerExchange(request: request, cachedConnection: cachedConnection,
                                          peerAddressLength: isIPv6 ? 18 : 6, random: &random)
        let promise = group.next().makePromise(of: (AnnounceResponse, UDPTrackerConnection).self)
        let channel: Channel
        do {
            channel = try await DatagramBootstrap(group: group)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(UDPExchangeHandler(exchange: exchange, tracker: address, promise: promise))
                    }
                }
                .bind(host: isIPv6 ? "::" : "0.0.0.0", port: 0).get()
        } catch {
            promise.fail(error)
            throw error
        }
        defer { channel.close(promise: nil) }
        let deadline = channel.eventLoop.scheduleTask(in: timeout * 8) {
            promise.fail(TrackerError.timeout(request: "UDP announce to \(url.text)", attempts: 0))
        }
        defer { deadline.cancel() }
        return try await promise.futureResult.get()
    }
}

/// Collects an HTTP response body up to a limit; a status other than 200 is an error.
private final class HTTPBodyCollector: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPClientResponsePart
    let promise: EventLoopPromise<[UInt8]>
    let limit: Int
    var body: [UInt8] = []
    var status: HTTPResponseStatus = .ok

    init(promise: EventLoopPromise<[UInt8]>, limit: Int) {
        self.promise = promise
        self.limit = limit
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            status = head.status
        case .body(var buffer):
            guard body.count + buffer.readableBytes <= limit else {
                promise.fail(TrackerError.failure(reason: "the tracker's answer is larger than \(limit) bytes"))
                context.close(promise: nil)
                return
            }
            body += buffer.readBytes(length: buffer.readableBytes) ?? []
        case .end:
            if status == .ok {
                promise.succeed(body)
            } else {
                promise.fail(TrackerError.failure(reason: "HTTP \(status.code) \(status.reasonPhrase)"))
            }
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        promise.fail(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(TrackerError.failure(reason: "the tracker closed the connection without an answer"))
    }
}

/// Runs one UDP tracker exchange on the channel's event loop: the state machine decides,
/// this handler sends datagrams and arms timers.
private final class UDPExchangeHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    var exchange: UDPTrackerExchange
    let tracker: SocketAddress
    let promise: EventLoopPromise<(AnnounceResponse, UDPTrackerConnection)>
    var timer: Scheduled<Void>?

    init(exchange: UDPTrackerExchange, tracker: SocketAddress, promise: EventLoopPromise<(AnnounceResponse, UDPTrackerConnection)>) {
        self.exchange = exchange
        self.tracker = tracker
        self.promise = promise
    }

    func channelActive(context: ChannelHandlerContext) {
        perform(exchange.start(now: .now), context: context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        guard envelope.remoteAddress == tracker else { return }  // only the tracker may answer
        var buffer = envelope.data
        perform(exchange.receive(buffer.readBytes(length: buffer.readableBytes) ?? [], now: .now), context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        promise.fail(TrackerError.failure(reason: "the UDP socket closed"))
    }

    private func perform(_ actions: [UDPTrackerExchange.Action], context: ChannelHandlerContext) {
        for action in actions {
            switch action {
            case .send(let bytes):
                let envelope = AddressedEnvelope(remoteAddress: tracker, data: context.channel.allocator.buffer(bytes: bytes))
                context.writeAndFlush(wrapOutboundOut(envelope), promise: nil)
            case .waitUntil(let instant):
                timer?.cancel()
                let delay = ContinuousClock.now.duration(to: instant)
                let nanoseconds = max(0, delay.components.seconds * 1_000_000_000 + delay.components.attoseconds / 1_000_000_000)
                let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
                timer = context.eventLoop.scheduleTask(in: .nanoseconds(nanoseconds)) { [self] in
                    perform(exchange.timerFired(now: .now), context: loopBound.value)
                }
            case .finished(let response, let connection):
                timer?.cancel()
                promise.succeed((response, connection))
            case .failed(let error):
                timer?.cancel()
                promise.fail(error)
            }
        }
    }
}

/// An HTTP tracker that could not be connected to, with the system's reason in words
/// ("could not connect: Connection refused") rather than NIO's nested error values.
struct TrackerUnreachable: Error, CustomStringConvertible {
    let reason: String

    init(_ error: Error) {
        reason = Self.reason(error)
    }

    static func reason(_ error: Error) -> String {
        if let connection = error as? NIOConnectionError {
            if let first = connection.connectionErrors.first { return reason(first.error) }
            if let resolution = connection.dnsAAAAError ?? connection.dnsAError { return "could not resolve the host: \(resolution)" }
        }
        if let io = error as? IOError { return String(cString: strerror(io.errnoCode)) }
        return "\(error)"
    }

    var description: String { "could not connect: \(reason)" }
}
