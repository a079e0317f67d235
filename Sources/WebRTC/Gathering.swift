import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import WebRTCProtocol

/// Our candidates for one peer connection: a UDP socket on each usable address (host
/// candidates), and what the configured STUN servers see of the first one (server-reflexive).
enum Gathering {
    /// SO_RCVBUF of each socket. A browser sends a window of SCTP packets in one burst; with
    /// Linux's default (208 KiB of kernel memory, about 90 datagrams) the burst overflowed the
    /// socket while our loop was busy, and Chromium → memofs lost about half its packets to
    /// UdpRcvbufErrors and crawled at 2–4 MB/s on retransmissions. 4 MiB holds more than
    /// usrsctp's 1 MiB receive window; the kernel caps it at net.core.rmem_max (208 KiB on a
    /// stock Debian), unless the process may pass the cap (SO_RCVBUFFORCE, CAP_NET_ADMIN: a
    /// memofs mounted by root), which is tried first.
    static let receiveBufferSize: SocketOptionValue = 4 << 20

    /// SO_RCVBUFFORCE from <asm-generic/socket.h> (Linux), which NIO does not name.
    static let forcedReceiveBuffer = ChannelOptions.Types.SocketOption(level: SocketOptionLevel(SOL_SOCKET), name: 33)

    static func gather(on eventLoop: EventLoop, configuration: WebRTCConfiguration)
        async throws -> ([ICELocalCandidate], [ICETransportAddress: Channel]) {
        var sockets: [ICETransportAddress: Channel] = [:]
        var bases: [ICETransportAddress] = []
        do {
            for address in try LocalAddresses.usable(includingLoopback: configuration.offersLoopback)
            where configuration.addresses.map({ $0.contains(address.host) }) ?? true {
                guard let socketAddress = address.socketAddress else { continue }
                let channel = try await DatagramBootstrap(group: eventLoop)
                    .channelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
                    .channelOption(ChannelOptions.socketOption(.so_rcvbuf), value: Gathering.receiveBufferSize)
                    .bind(to: socketAddress).get()
                // Refused without CAP_NET_ADMIN; SO_RCVBUF above then stands.
                try? await channel.setOption(Gathering.forcedReceiveBuffer, value: Gathering.receiveBufferSize).get()
                guard let port = channel.localAddress?.port else { continue }
                let base = address.withPort(UInt16(port))
                sockets[base] = channel
                bases.append(base)
            }
            guard !bases.isEmpty else { throw WebRTCError.noLocalAddress }
            var candidates = ICELocalCandidate.host(bases)
            if let base = bases.first(where: { !$0.isLoopback }) ?? bases.first, let socket = sockets[base] {
                candidates += try await serverReflexive(base: base, socket: socket, configuration: configuration)
            }
            return (candidates, sockets)
        } catch {
            for socket in sockets.values { try? await socket.close() }
            throw error
        }
    }

    /// Asks each STUN server, all at once, for the address it sees `base` at; whatever answers
    /// within the gather timeout becomes a candidate (duplicates dropped).
    private static func serverReflexive(base: ICETransportAddress, socket: Channel,
                                        configuration: WebRTCConfiguration) async throws -> [ICELocalCandidate] {
        let servers = configuration.stunServers.compactMap(ICETransportAddress.init(hostPort:))
            .filter { $0.family == base.family }
        guard !servers.isEmpty else { return [] }
        let asking = STUNAsking(base: base, servers: servers, socket: socket, timeout: configuration.gatherTimeout)
        try await socket.pipeline.addHandler(asking).get()
        let mapped = (try? await asking.result.futureResult.get()) ?? []
        try? await socket.pipeline.removeHandler(asking).get()
        var seen: Set<ICETransportAddress> = []
        return mapped.filter { seen.insert($0).inserted && $0 != base }.map {
            ICELocalCandidate.serverReflexive(mapped: $0, base: base)
        }
    }
}

/// The STUN Binding clients of one gathering on one socket, until each answered or gave up
/// or the timeout passed. On the socket's loop.
private final class STUNAsking: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    let result: EventLoopPromise<[ICETransportAddress]>
    private var clients: [STUNBindingClient]
    private var mapped: [ICETransportAddress] = []
    private var timer: Scheduled<Void>?
    private let socket: Channel
    private let timeout: Duration

    init(base: ICETransportAddress, servers: [ICETransportAddress], socket: Channel, timeout: Duration) {
        self.socket = socket
        self.timeout = timeout
        result = socket.eventLoop.makePromise()
        clients = servers.map { STUNBindingClient(server: $0, base: base, transactionID: STUNTransactionID.fromSystem()) }
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let now = ContinuousClock.now
        for index in clients.indices { perform(clients[index].start(now: now)) }
        let deadline = NIODeadline.now() + TimeAmount(timeout)
        context.eventLoop.scheduleTask(deadline: deadline) { self.finish() }.futureResult.whenFailure { _ in }
        rearm()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        guard let source = ICETransportAddress(envelope.remoteAddress) else { return }
        let bytes = Array(envelope.data.readableBytesView)
        let now = ContinuousClock.now
        for index in clients.indices where clients[index].server == source {
            perform(clients[index].receive(bytes, from: source, now: now))
        }
        if clients.allSatisfy(\.isFinished) { finish() }
    }

    private func perform(_ actions: [STUNBindingClient.Action]) {
        for action in actions {
            switch action {
            case .send(let bytes, _, let to):
                guard let address = to.socketAddress else { continue }
                socket.writeAndFlush(AddressedEnvelope(remoteAddress: address, data: socket.allocator.buffer(bytes: bytes)), promise: nil)
            case .mapped(let address): mapped.append(address)
            case .failed, .ignored: break
            }
        }
    }

    private func rearm() {
        timer?.cancel()
        guard let next = clients.compactMap(\.nextDeadline).min() else { return }
        let wait = max(Duration.zero, next - .now)
        timer = socket.eventLoop.scheduleTask(in: TimeAmount(wait)) { [self] in
            let now = ContinuousClock.now
            for index in clients.indices { perform(clients[index].tick(now: now)) }
            if clients.allSatisfy(\.isFinished) { finish() } else { rearm() }
        }
    }

    private func finish() {
        timer?.cancel()
        result.succeed(mapped)
    }
}

extension ICETransportAddress {
    /// `1.2.3.4:3478` or `[::1]:3478`; nil for anything else (names are not resolved here).
    init?(hostPort: String) {
        guard let colon = hostPort.lastIndex(of: ":"), let port = UInt16(hostPort[hostPort.index(after: colon)...]) else { return nil }
        var host = String(hostPort[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        self.init(host: host, port: port)
    }
}

extension STUNTransactionID {
    static func fromSystem() -> STUNTransactionID {
        var generator = SystemRandomNumberGenerator()
        return STUNTransactionID(using: &generator)
    }
}
