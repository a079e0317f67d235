import Discovery
import Logging
import NIOCore
import NIOPosix
import TorrentModel

/// Local peer discovery (BEP 14): multicast announces on every IPv4 interface that has an
/// address and supports multicast (loopback excepted), so two memofs instances on one LAN
/// find each other with no tracker and no DHT.
///
/// The socket listens on the LSD port with SO_REUSEADDR, so other clients on this host
/// (and a second memofs) can listen too; our own announces, looped back, are recognised by
/// a random cookie and dropped. What to send when is ``LocalDiscoverySchedule``'s decision.
actor LocalPeerDiscovery {
    struct Interface {
        let name: String
        let address: in_addr
    }

    let group: EventLoopGroup
    let logger: Logger
    let cookie: String
    let port: Int
    private var channel: Channel?
    private var interfaces: [Interface] = []
    private var schedule = LocalDiscoverySchedule()
    private var tasks: [Task<Void, Never>] = []
    /// Whom to tell of peers found: the session's lookup of its torrents.
    private let onPeer: @Sendable (InfoHash, PeerAddress) async -> Void
    private(set) var droppedDatagrams = 0

    init(group: EventLoopGroup, logger: Logger, port: Int = LocalDiscoveryMessage.port,
         onPeer: @escaping @Sendable (InfoHash, PeerAddress) async -> Void) {
        var random = SystemRandomNumberGenerator()
        self.group = group
        self.logger = logger
        self.port = port
        self.onPeer = onPeer
        self.cookie = String(UInt64.random(in: .min ... .max, using: &random), radix: 36)
    }

    /// Binds the LSD port and joins the group on every interface that can multicast.
    func start() async throws {
        let inbox = DatagramInbox()
        let channel = try await DatagramBootstrap(group: group)
            .channelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(inbox) }
            }
            .bind(host: "0.0.0.0", port: port).get()
        self.channel = channel
        let multicast = channel as! MulticastChannel
        let groupAddress = try SocketAddress(ipAddress: LocalDiscoveryMessage.ipv4Group, port: port)
        for device in (try? System.enumerateDevices()) ?? [] {
            // s_addr is in network order: its first byte in memory is the address's first.
            guard device.multicastSupported, case .v4(let address)? = device.address,
                  withUnsafeBytes(of: address.address.sin_addr.s_addr, { $0[0] }) != 127 else { continue }
            do {
                try await multicast.joinGroup(groupAddress, device: device).get()
                interfaces.append(Interface(name: device.name, address: address.address.sin_addr))
            } catch {
                logger.info("LSD: cannot join the multicast group on \(device.name): \(error)")
            }
        }
        logger.info("LSD on UDP port \(port), interfaces: \(interfaces.map(\.name).joined(separator: ", "))")
        tasks.append(Task { [weak self] in
            for await datagram in inbox.datagrams {
                guard let self else { return }
                await self.receive(datagram)
            }
        })
    }

    func stop() async {
        for task in tasks { task.cancel() }
        tasks = []
        try? await channel?.close()
        channel = nil
    }

    /// Whether an announce could go out now; see ``LocalDiscoverySchedule/maySend(now:)``.
    func maySend(now: ContinuousClock.Instant = .now) -> Bool {
        channel != nil && !interfaces.isEmpty && schedule.maySend(now: now)
    }

    /// Announces whichever of `active` are due (see ``LocalDiscoverySchedule``) on every interface.
    func announce(active: [InfoHash], listenPort: Int, now: ContinuousClock.Instant = .now) async {
        guard let channel, !interfaces.isEmpty, listenPort > 0 else { return }
        let due = schedule.due(active: active, now: now)
        guard !due.isEmpty else { return }
        let message = LocalDiscoveryMessage(port: UInt16(listenPort), infoHashes: due, cookie: cookie)
        guard let destination = try? SocketAddress(ipAddress: LocalDiscoveryMessage.ipv4Group, port: port) else { return }
        for interface in interfaces {
            do {
                // Send from this interface: with no default route the kernel would not know where.
                try await (channel as! SocketOptionProvider)
                    .unsafeSetSocketOption(level: .ip, name: .ip_multicast_if, value: interface.address).get()
                let buffer = channel.allocator.buffer(bytes: message.encoded())
                try await channel.writeAndFlush(AddressedEnvelope(remoteAddress: destination, data: buffer)).get()
            } catch {
                logger.info("LSD: announce on \(interface.name) failed: \(error)")
            }
        }
        logger.debug("LSD: announced \(due.count) torrents on \(interfaces.count) interfaces")
    }

    private func receive(_ datagram: Datagram) async {
        let message: LocalDiscoveryMessage
        do {
            message = try LocalDiscoveryMessage(decoding: datagram.bytes)
        } catch {
            droppedDatagrams += 1
            logger.trace("LSD: dropped a datagram from \(datagram.sender): \(error)")
            return
        }
        guard message.cookie != cookie else { return }
        let peer = PeerAddress(host: datagram.sender.host, port: message.port)
        for infoHash in message.infoHashes { await onPeer(infoHash, peer) }
    }
}
