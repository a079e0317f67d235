import Discovery
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import TorrentModel

/// A mainline DHT node (BEP 5): the UDP socket, the routing table, the queries we send
/// and the answers we give. The protocol's decisions live in `Discovery` (``RoutingTable``,
/// ``Lookup``, ``QueryResponder``); this actor moves datagrams and keeps time.
///
/// Everything it holds is bounded: queries in flight, the routing table, announced
/// peers, rate-limit entries and the queue of received datagrams.
public actor DHTNode {
    /// Queries we wait for at once; more are not sent.
    static let maxPendingQueries = 1024
    /// Pings sent to check a node that queried us or a questionable one, at once.
    static let maxVerificationPings = 16

    struct PendingQuery {
        let address: PeerAddress
        /// The id we believe the node has (nil for a bootstrap contact).
        let expectedID: NodeID?
        let sentAt: ContinuousClock.Instant
        let continuation: CheckedContinuation<KRPCResponse?, Never>
    }

    let settings: DHTSettings
    let group: EventLoopGroup
    let store: StateStore
    let logger: Logger
    public nonisolated let ownID: NodeID
    var table: RoutingTable
    var responder: QueryResponder
    var random = SystemRandomNumberGenerator()
    var channel: Channel?
    var inbox: DatagramInbox?
    var pending: [UInt16: PendingQuery] = [:]
    var nextTransaction: UInt16
    var verificationPings = 0
    var isShutDown = false
    var tasks: [Task<Void, Never>] = []
    var bootstrapAttempts = 0
    var nextBootstrap: ContinuousClock.Instant? = nil
    var isBootstrapping = false
    var bootstrapWaiters: [CheckedContinuation<Void, Never>] = []
    var lastSaved: ContinuousClock.Instant = .now
    var lastSweep: ContinuousClock.Instant = .now
    var lastRefresh: ContinuousClock.Instant = .now
    /// Datagrams we could not use, for the log and for tests.
    public private(set) var droppedDatagrams = 0
    /// Announces (lookups) running at once; the rest of the torrents wait for a slot, so
    /// thousands of recordings starting together do not start thousands of lookups.
    nonisolated let announceSlots = AnnounceSlots(limit: 8)
    private let nodeCountBox = NIOLockedValueBox(0)
    private let joinsBox = NIOLockedValueBox(0)
    private let bootstrappedBox = NIOLockedValueBox(false)
    private let portBox = NIOLockedValueBox(0)

    /// Whether the first bootstrap has ended (with or without a node).
    public nonisolated var bootstrapped: Bool { bootstrappedBox.withLockedValue { $0 } }

    nonisolated func markBootstrapped() {
        bootstrappedBox.withLockedValue { $0 = true }
    }


    /// True once the first bootstrap has ended with no node to talk to: an announce now
    /// would reach nobody.
    nonisolated var isAlone: Bool {
        bootstrapped && nodeCountBox.withLockedValue { $0 } == 0
    }

    /// How many good or questionable nodes the routing table holds.
    public nonisolated var nodeCount: Int { nodeCountBox.withLockedValue { $0 } }

    /// How many times the routing table went from empty to holding a node. The session wakes
    /// every torrent when it changes, so one that found the DHT empty announces at once
    /// instead of at its next (long) retry.
    nonisolated var joins: Int { joinsBox.withLockedValue { $0 } }

    /// Publishes the routing table's size, counting a join when it was empty.
    private func publishNodeCount() {
        let count = table.count
        let wasEmpty = nodeCountBox.withLockedValue { old in
            defer { old = count }
            return old == 0
        }
        if wasEmpty && count > 0 { joinsBox.withLockedValue { $0 += 1 } }
    }
    /// The UDP port the node listens on (0 before it starts).
    public nonisolated var port: Int { portBox.withLockedValue { $0 } }

    init(settings: DHTSettings, group: EventLoopGroup, store: StateStore, logger: Logger, savedID: NodeID?) {
        var random = SystemRandomNumberGenerator()
        let id = savedID ?? NodeID.random(using: &random)
        self.settings = settings
        self.group = group
        self.store = store
        var logger = logger
        logger[metadataKey: "dht"] = "\(id.description.prefix(8))"
        self.logger = logger
        self.ownID = id
        let now = ContinuousClock.now
        self.table = RoutingTable(ownID: id, now: now)
        self.responder = QueryResponder(ownID: id, now: now, using: &random)
        self.nextTransaction = UInt16.random(in: .min ... .max, using: &random)
    }

    /// Opens the state database's DHT tables and makes a node with the saved id.
    static func make(settings: DHTSettings, group: EventLoopGroup, store: StateStore, logger: Logger) async throws -> DHTNode {
        let saved = try await store.dhtState()
        return DHTNode(settings: settings, group: group, store: store, logger: logger, savedID: saved.id)
    }

    /// Binds the UDP socket on `host` and joins the network: saved nodes first, then the
    /// bootstrap nodes.
    func start(host: String, preferredPort: Int) async throws {
        let inbox = DatagramInbox()
        self.inbox = inbox
        let bootstrap = DatagramBootstrap(group: group)
            .channelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(inbox) }
            }
        let wanted = settings.port ?? preferredPort
        let channel: Channel
        do {
            channel = try await PortInUse.naming(.dht, host: host, port: wanted) {
                try await bootstrap.bind(host: host, port: wanted).get()
            }
        } catch where settings.port == nil && wanted != 0 {
            logger.info("DHT: UDP port \(wanted) is taken (\(error)); using a free one")
            channel = try await bootstrap.bind(host: host, port: 0).get()
        }
        self.channel = channel
        portBox.withLockedValue { $0 = channel.localAddress?.port ?? 0 }
        logger.info("DHT node \(ownID) on UDP \(host):\(port)")
        tasks.append(Task { [weak self] in
            for await datagram in inbox.datagrams {
                guard let self else { return }
                await self.receive(datagram)
            }
        })
        tasks.append(Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(250))
                guard let self else { return }
                await self.maintain()
            }
        })
        nextBootstrap = .now
    }

    /// Saves the routing table and closes the socket; every waiting query ends unanswered.
    func shutdown() async {
        guard !isShutDown else { return }
        isShutDown = true
        for task in tasks { task.cancel() }
        tasks = []
        for query in pending.values { query.continuation.resume(returning: nil) }
        pending = [:]
        wakeBootstrapWaiters()
        await save()
        try? await channel?.close()
        channel = nil
    }

    // MARK: sending queries

    /// Sends `query` to `address` and waits for the answer; nil on a KRPC error, a timeout,
    /// or when too many queries are already in flight.
    func send(_ query: KRPCQuery, to address: PeerAddress, expectedID: NodeID? = nil) async -> KRPCResponse? {
        guard !isShutDown, let channel, pending.count < Self.maxPendingQueries,
              let socketAddress = try? SocketAddress(ipAddress: address.hostText, port: Int(address.port)) else { return nil }
        var free = nextTransaction
        while pending[free] != nil { free &+= 1 }
        let transaction = free
        nextTransaction = transaction &+ 1
        let message = KRPCMessage(transactionID: [UInt8(transaction >> 8), UInt8(transaction & 0xff)],
                                  body: .query(query), version: QueryResponder.version)
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                pending[transaction] = PendingQuery(address: address, expectedID: expectedID, sentAt: .now,
                                                    continuation: continuation)
                write(message, to: socketAddress, on: channel)
            }
        } onCancel: {
            Task { await self.abandon(transaction) }
        }
    }

    /// Stops waiting for a query whose asker went away (a finished lookup).
    private func abandon(_ transaction: UInt16) {
        pending.removeValue(forKey: transaction)?.continuation.resume(returning: nil)
    }

    private func write(_ message: KRPCMessage, to address: SocketAddress, on channel: Channel) {
        let buffer = channel.allocator.buffer(bytes: message.encoded())
        channel.writeAndFlush(AddressedEnvelope(remoteAddress: address, data: buffer), promise: nil)
    }

    private func reply(_ message: KRPCMessage, to address: PeerAddress) {
        guard let channel, let socketAddress = try? SocketAddress(ipAddress: address.hostText, port: Int(address.port)) else { return }
        write(message, to: socketAddress, on: channel)
    }

    // MARK: receiving

    func receive(_ datagram: Datagram) {
        guard !isShutDown else { return }
        let now = ContinuousClock.now
        let message: KRPCMessage
        do {
            message = try KRPCMessage(decoding: datagram.bytes)
        } catch {
            droppedDatagrams += 1
            logger.trace("DHT: dropped a datagram from \(datagram.sender): \(error)")
            if let answer = responder.answer(undecodable: error, from: datagram.sender, now: now) {
                reply(answer, to: datagram.sender)
            }
            return
        }
        switch message.body {
        case .query(let query):
            guard let answer = responder.answer(query, transactionID: message.transactionID, from: datagram.sender,
                                                table: table, now: now, using: &random) else { return }
            reply(answer, to: datagram.sender)
            noteQuerier(query.senderID, at: datagram.sender)
        case .response(let response):
            guard let query = takePending(message.transactionID, from: datagram.sender) else { return }
            noteResponder(response.id, at: datagram.sender, now: now)
            query.continuation.resume(returning: response)
        case .error(let error):
            guard let query = takePending(message.transactionID, from: datagram.sender) else { return }
            logger.trace("DHT: \(datagram.sender) answered with error \(error.code) \(error.message)")
            query.continuation.resume(returning: nil)
        }
    }

    /// The query a response answers; only the address we asked can answer it, so a forged
    /// transaction id from anywhere else is ignored.
    private func takePending(_ transactionID: [UInt8], from sender: PeerAddress) -> PendingQuery? {
        guard transactionID.count == 2 else {
            droppedDatagrams += 1
            return nil
        }
        let transaction = UInt16(transactionID[0]) << 8 | UInt16(transactionID[1])
        guard let query = pending[transaction], query.address == sender else {
            droppedDatagrams += 1
            return nil
        }
        pending[transaction] = nil
        return query
    }

    /// A node that answered us is alive: it goes into the routing table.
    private func noteResponder(_ id: NodeID, at address: PeerAddress, now: ContinuousClock.Instant) {
        guard let node = NodeInfo(id: id, address: address) else { return }
        if case .pending(let questionable) = table.insert(node, now: now) {
            for candidate in questionable.prefix(2) { verify(candidate) }
        }
        publishNodeCount()
        if !bootstrapWaiters.isEmpty { wakeBootstrapWaiters() }
    }

    /// A node that queried us goes into the table only once it answers a ping of ours, so
    /// nobody can fill the table with ids that answer nothing.
    private func noteQuerier(_ id: NodeID, at address: PeerAddress) {
        guard table.status(of: id, now: .now) == nil, let node = NodeInfo(id: id, address: address) else { return }
        verify(node)
    }

    private func verify(_ node: NodeInfo) {
        guard verificationPings < Self.maxVerificationPings else { return }
        verificationPings += 1
        Task {
            _ = await send(.ping(id: ownID), to: node.address, expectedID: node.id)
            verificationPings -= 1
        }
    }

    // MARK: time

    func maintain() async {
        guard !isShutDown else { return }
        let now = ContinuousClock.now
        for (transaction, query) in pending where now - query.sentAt >= settings.queryTimeout {
            pending[transaction] = nil
            if let id = query.expectedID { table.markFailed(id) }
            query.continuation.resume(returning: nil)
        }
        publishNodeCount()
        if now - lastSweep >= .seconds(60) {
            lastSweep = now
            responder.sweep(now: now)
        }
        if let next = nextBootstrap, now >= next, !isBootstrapping {
            nextBootstrap = nil
            Task { await self.bootstrap() }
        }
        if now - lastRefresh >= .seconds(60), bootstrapped, !isBootstrapping {
            lastRefresh = now
            if let bucket = table.bucketsNeedingRefresh(now: now).first {
                table.noteRefreshed(bucket: bucket, now: now)
                let target = table.refreshTarget(forBucket: bucket, using: &random)
                Task { _ = await self.lookup(.findNode(target)) }
            }
        }
        if now - lastSaved >= .seconds(300) {
            lastSaved = now
            await save()
        }
    }

    private func save() async {
        do {
            try await store.saveDHT(id: ownID, nodes: table.nodes)
        } catch {
            logger.warning("DHT: could not save the routing table: \(error)")
        }
    }
}

extension DHTNode {
    /// What the node holds now: for `memofs status`, the log and tests that check it stays bounded.
    public struct Statistics: Sendable {
        public var nodes: Int
        public var buckets: Int
        public var pendingQueries: Int
        public var announcedInfoHashes: Int
        public var announcedPeers: Int
        public var rateLimitedHosts: Int
        /// Not KRPC, answers nobody asked for, or more than the receive queue holds.
        public var droppedDatagrams: Int
    }

    public func statistics() -> Statistics {
        Statistics(nodes: table.count, buckets: table.bucketCount, pendingQueries: pending.count,
                   announcedInfoHashes: responder.announced.infoHashCount, announcedPeers: responder.announced.peerCount,
                   rateLimitedHosts: responder.limiter.trackedHosts,
                   droppedDatagrams: droppedDatagrams + (inbox?.overflowed.withLockedValue { $0 } ?? 0))
    }
}
