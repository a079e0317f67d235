import Foundation
import Logging
import NIOCore
import NIOPosix
import PeerProtocol
import TorrentModel

/// The BitTorrent engine: every torrent, the listening socket, the state database.
///
/// Downloads are laid out under `<data>/torrents/<info hash>/`; a seeded local file
/// stays where it is. State lives in `<data>/state.sqlite`.
public actor Session {
    let context: SessionContext
    private var torrents: [InfoHash: Torrent] = [:]
    private var server: Channel?
    private var isShutDown = false
    private var ticker: Task<Void, Never>?
    private var lsd: LocalPeerDiscovery?
    private var lsdTask: Task<Void, Never>?

    public nonisolated var listenPort: Int { context.listenPort.withLockedValue { $0 } }
    public nonisolated var peerID: PeerID { context.peerID }
    public nonisolated var dataFolder: String { context.configuration.dataFolder }
    /// Room kept back in the data folder, given back when the disk fills (see ``SpaceReserve``).
    public nonisolated var spaceReserve: SpaceReserve { context.spaceReserve }
    /// The DHT node, if the session runs one.
    public nonisolated var dht: DHTNode? { context.dht }

    private init(context: SessionContext) {
        self.context = context
    }

    /// Opens the state database, starts listening and resumes every saved torrent.
    public static func start(configuration: SessionConfiguration, logger: Logger = Logger(label: "memofs.engine")) async throws -> Session {
        try FileManager.default.createDirectory(atPath: configuration.dataFolder + "/torrents", withIntermediateDirectories: true)
        // Before the database opens: on a full disk its first commit needs the reserve's room.
        let spaceReserve = SpaceReserve(dataFolder: configuration.dataFolder, logger: logger)
        spaceReserve.prepare()
        let store = try StateStore(path: configuration.dataFolder + "/state.sqlite")
        // NIO's process-wide loops, never shut down: a torrent's actor runs on one of them
        // (see `Torrent.eventLoop`), so a call made to a torrent after its session stopped
        // still runs (and finds it stopped) rather than being dropped by a stopped loop.
        let group = MultiThreadedEventLoopGroup.singleton
        let threadPool = NIOThreadPool(numberOfThreads: 2)
        threadPool.start()
        var dht: DHTNode?
        if let settings = configuration.dht {
            dht = try await DHTNode.make(settings: settings, group: group, store: store, logger: logger)
        }
        let webRTCPeers = try configuration.webRTC.flatMap { webRTC in
            configuration.webRTCSignaling == nil ? try WebRTCPeers(configuration: webRTC, group: group, logger: logger) : nil
        }
        let context = SessionContext(group: group, threadPool: threadPool, store: store, peerID: PeerID.random(),
                                     configuration: configuration, logger: logger, dht: dht, webRTCPeers: webRTCPeers,
                                     spaceReserve: spaceReserve)
        let session = Session(context: context)
        webRTCPeers?.attach(to: session)
        do {
            try await session.listen()
            try await dht?.start(host: configuration.listenHost, preferredPort: session.listenPort)
            if configuration.localPeerDiscovery { await session.startLocalPeerDiscovery() }
            await session.startTicker()
            try await session.resume()
            // Evicting starts once every saved torrent is back (the pieces of those back first
            // are not to go for those still on their way), and a limit lowered since the last
            // run applies at once.
            context.cache.setStarter { [weak session] in Task { await session?.evictOverLimit() } }
            context.cache.evictIfOverLimit()
        } catch {
            await session.shutdown()
            throw error
        }
        return session
    }

    private func listen() async throws {
        let bootstrap = ServerBootstrap(group: context.group)
            .serverChannelOption(ChannelOptions.backlog, value: 64)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(ChannelOptions.writeBufferWaterMark, value: .init(low: 1 << 20, high: 4 << 20))
            .childChannelOption(ChannelOptions.recvAllocator, value: PeerLink.receiveBuffers)
            .childChannelInitializer { [weak self] channel in
                guard let remote = PeerAddress(socketAddress: channel.remoteAddress) else {
                    return channel.close()
                }
                let session = self, context = self?.context
                return PeerLink.attach(to: channel, remote: remote).map { link in
                    context?.connectionTask { await session?.acceptIncoming(link) }
                }
            }
        let host = context.configuration.listenHost, port = context.configuration.listenPort
        let channel = try await PortInUse.naming(.peers, host: host, port: port) {
            try await bootstrap.bind(host: host, port: port).get()
        }
        server = channel
        context.listenPort.withLockedValue { $0 = channel.localAddress?.port ?? 0 }
        context.logger.info("listening for peers on \(context.configuration.listenHost):\(listenPort)")
    }

    /// One ticker for every torrent: each second it ticks the torrents whose next tick is due
    /// (see ``Torrent/tick()``), reading their schedules without entering them.
    private func startTicker() {
        let dht = context.dht
        ticker = Task { [weak self] in
            var joinsSeen = 0
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                if let joins = dht?.joins, joins != joinsSeen {
                    joinsSeen = joins
                    await self?.wakeAll()
                }
                guard let due = await self?.dueTorrents() else { return }
                await withDiscardingTaskGroup { group in
                    for torrent in due { group.addTask { await torrent.tick() } }
                }
            }
        }
    }

    /// Every torrent ticks within the second (the DHT just gained its first node).
    private func wakeAll() {
        let now = context.now
        for torrent in torrents.values { torrent.nextTick.withLockedValue { $0 = now } }
    }

    private func dueTorrents() -> [Torrent] {
        let now = context.now
        return torrents.values.filter { $0.nextTick.withLockedValue { $0 } <= now }
    }

    /// Changes whenever any torrent's published status changes.
    public nonisolated var statusGeneration: Int { context.statusGeneration.withLockedValue { $0 } }

    /// Joins the LSD multicast group and announces our torrents on its schedule. A port that
    /// cannot be bound leaves LSD off with a log line; it is no reason not to run.
    private func startLocalPeerDiscovery() async {
        let discovery = LocalPeerDiscovery(group: context.group, logger: context.logger) { [weak self] infoHash, peer in
            await self?.torrent(infoHash)?.addPeers([peer], source: .lsd)
        }
        do {
            try await discovery.start()
        } catch {
            context.logger.warning("local peer discovery is off: \(error)")
            return
        }
        lsd = discovery
        lsdTask = Task { [weak self] in
            while !Task.isCancelled {
                await self?.announceLocally()
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    private func announceLocally() async {
        guard let lsd, await lsd.maySend() else { return }
        var active: [InfoHash] = []
        for torrent in torrents.values where await !(torrent.torrentInfo?.isPrivate ?? false) { active.append(torrent.infoHash) }
        await lsd.announce(active: active, listenPort: listenPort)
    }

    /// Reads an incoming connection's handshake, finds its torrent and hands the connection over.
    nonisolated func acceptIncoming(_ link: PeerLink, source: PeerSource = .incoming) async {
        let timeout = link.eventLoop.scheduleTask(in: TimeAmount(context.configuration.timeouts.handshake)) { link.close() }
        guard case .events(let events)? = await link.items.next(), case .handshake(let handshake)? = events.first else {
            timeout.cancel()
            link.close()
            return
        }
        timeout.cancel()
        var named = await torrent(handshake.infoHash)
        if named == nil { named = await torrent(namedByV2: handshake.infoHash) }
        guard let torrent = named else {
            link.close()
            return
        }
        await Torrent.pump(link: link, torrent: torrent, outgoing: false, source: source,
                           firstEvents: events)
    }

    // MARK: adding torrents

    /// Adds a torrent from a magnet link; its metadata comes from peers.
    @discardableResult
    public func add(magnet: MagnetLink, downloadWhole: Bool = false) async throws -> Torrent {
        if let existing = torrents[magnet.infoHash] {
            await existing.addPeers(magnet.peers, source: .magnet)
            return existing
        }
        let root = downloadRoot(for: magnet.infoHash)
        let addedAt = Int64(Date().timeIntervalSince1970)
        try await context.store.save(TorrentRecord(infoHash: magnet.infoHash, magnet: magnet.uri, metainfo: nil, root: root,
                                                   downloadWhole: downloadWhole, addedAt: addedAt))
        if let existing = torrents[magnet.infoHash] { return existing }  // added while we waited
        let torrent = await Torrent(context: context, magnet: magnet, metainfo: nil, root: root, downloadWhole: downloadWhole,
                                    addedAt: addedAt)
        return await register(torrent)
    }

    /// Adds a torrent whose metainfo we have (a `.torrent` file). `store` keeps its pieces
    /// (``InMemoryPieceStore`` in tests); nil: files under the data folder.
    @discardableResult
    public func add(metainfo: Metainfo, downloadWhole: Bool = false, peers: [PeerAddress] = [],
                    store: (any PieceStore)? = nil) async throws -> Torrent {
        if let existing = torrents[metainfo.infoHash] { return existing }
        let magnet = MagnetLink(metainfo: metainfo, peers: peers)
        let root = downloadRoot(for: metainfo.infoHash)
        let addedAt = Int64(Date().timeIntervalSince1970)
        try await context.store.save(TorrentRecord(infoHash: metainfo.infoHash, magnet: magnet.uri, metainfo: metainfo.encoded(),
                                                   root: root, downloadWhole: downloadWhole, addedAt: addedAt))
        if let existing = torrents[metainfo.infoHash] { return existing }  // added while we waited
        let torrent = await Torrent(context: context, magnet: magnet, metainfo: metainfo, root: root, downloadWhole: downloadWhole,
                                    addedAt: addedAt, store: store)
        return await register(torrent)
    }

    /// Seeds a file or folder where it is: hashes it into a torrent, records every piece as
    /// verified, and starts announcing it. No copy is made.
    @discardableResult
    public func seed(path: String, options: TorrentCreator.Options = .init()) async throws -> Torrent {
        var options = options
        if options.trackers.isEmpty && !context.configuration.extraTrackers.isEmpty {
            options.trackers = context.configuration.extraTrackers.map { [$0] }
        }
        let metainfo = try await TorrentCreator.create(from: path, options: options)
        let trimmed = path.hasSuffix("/") ? String(path.dropLast()) : path
        let root = trimmed.contains("/") ? String(trimmed[..<trimmed.lastIndex(of: "/")!]) : "."
        if let existing = torrents[metainfo.infoHash] { return existing }
        let magnet = MagnetLink(metainfo: metainfo)
        let addedAt = Int64(Date().timeIntervalSince1970)
        let torrent = await Torrent(context: context, magnet: magnet, metainfo: metainfo, root: root, downloadWhole: false,
                                    addedAt: addedAt)
        let storage = TorrentStorage(root: root, info: metainfo.info)
        let stamps = storage.fileStamps()
        try await context.store.save(TorrentRecord(infoHash: metainfo.infoHash, magnet: magnet.uri, metainfo: metainfo.encoded(),
                                                   root: root, downloadWhole: false, addedAt: addedAt, fileStamps: stamps))
        let all = Array(0..<metainfo.info.pieceCount)
        try await context.store.markVerified(all, for: metainfo.infoHash, fileStamps: stamps)
        await torrent.adoptVerified(all, stamps: stamps)
        return await register(torrent)
    }

    private func register(_ torrent: Torrent) async -> Torrent {
        if let existing = torrents[torrent.infoHash] {
            await torrent.stop(reason: "added twice")
            return existing
        }
        torrents[torrent.infoHash] = torrent
        context.statusGeneration.withLockedValue { $0 += 1 }
        await torrent.start()
        return torrent
    }

    private func downloadRoot(for infoHash: InfoHash) -> String {
        context.configuration.dataFolder + "/torrents/" + infoHash.hex
    }

    // MARK: resuming

    /// Brings back every saved torrent. Pieces recorded as verified are trusted when their
    /// files' size and mtime are what was recorded; pieces in changed files are hashed again.
    private func resume() async throws {
        // Several at a time: each torrent waits on the database, the thread pool and its
        // actor's event loop in turn, and 10,000 one after another took seconds longer.
        let records = try await context.store.torrents()
        try await withThrowingTaskGroup(of: Void.self) { group in
            var running = 0
            for record in records {
                if running == Self.resumingAtOnce {
                    try await group.next()
                    running -= 1
                }
                group.addTask { try await self.resume(record) }
                running += 1
            }
            try await group.waitForAll()
        }
    }

    static let resumingAtOnce = 8

    private func resume(_ record: TorrentRecord) async throws {
        let metainfo = record.metainfo.flatMap { try? Metainfo(bytes: $0) }
        let magnet = (try? MagnetLink(parsing: record.magnet)) ?? MagnetLink(infoHash: record.infoHash)
        // Only torrents under <data>/torrents are downloaded into; a seeded file found changed
        // is never overwritten with what peers have.
        let ours = record.root.hasPrefix(context.configuration.dataFolder + "/torrents/")
        let torrent = await Torrent(context: context, magnet: magnet, metainfo: metainfo, root: record.root,
                                    downloadWhole: ours && record.downloadWhole, addedAt: record.addedAt)
        if let metainfo {
            let verified = try await context.store.verifiedPieces(of: record.infoHash)
            let pending = try await context.store.pendingPieces(of: record.infoHash)
            let kept = try await recheck(verified, of: metainfo.info, root: record.root, recorded: record.fileStamps,
                                         pending: pending)
            do {
                try await context.store.clearPending(of: record.infoHash)
            } catch {
                // A full disk must not stop the mount (the user mounts to free space): the
                // marks only excuse our own writes' mtimes, and are cleared at a later start.
                context.logger.warning("\(metainfo.info.name): could not clear its pending-write marks: \(error)")
            }
            await torrent.adoptVerified(kept.pieces, stamps: kept.stamps, rechecked: kept.rechecked)
            if kept.pieces.count != verified.count {
                let lost = Set(verified).subtracting(kept.pieces)
                try await context.store.forgetPieces(Array(lost), for: record.infoHash, fileStamps: kept.stamps)
                context.logger.warning("\(metainfo.info.name): \(lost.count) pieces changed on disk and will be fetched again")
            }
        }
        _ = await register(torrent)
    }

    /// A file whose size or mtime differs from the record changed behind our back, unless a
    /// pending write of ours (cut short by a crash) touched it: then only that write is lost,
    /// and the pending piece, never recorded as verified, is simply fetched again.
    private func recheck(_ verified: [Int], of info: TorrentInfo, root: String, recorded: [FileStamp?],
                         pending: [Int]) async throws -> (pieces: [Int], stamps: [FileStamp?], rechecked: Int) {
        let storage = TorrentStorage(root: root, info: info)
        defer { storage.close() }
        return try await context.blocking {
            let current = storage.fileStamps()
            let touchedByUs = Set(pending.filter { $0 >= 0 && $0 < info.pieceCount }.flatMap { storage.files(ofPiece: $0) })
            let changed = Set(info.files.indices.filter { index in
                guard index < recorded.count, let old = recorded[index], let new = current[index] else { return true }
                if old == new { return false }
                return !(touchedByUs.contains(index) && old.size == new.size)
            })
            var kept: [Int] = []
            var rechecked = 0
            for piece in verified where piece >= 0 && piece < info.pieceCount {
                let files = storage.files(ofPiece: piece)
                if files.allSatisfy({ !changed.contains($0) }) {
                    kept.append(piece)
                    continue
                }
                rechecked += 1
                if let bytes = try? storage.readPiece(piece), SHA1.hash(bytes) == info.pieceHashes[piece] {
                    kept.append(piece)
                }
            }
            return (kept, current, rechecked)
        }
    }

    /// Records a stopped torrent's files as they are and forgets its pending writes, if it
    /// wrote any this run (see ``StateStore/settle(_:fileStamps:)``).
    private func settle(_ torrent: Torrent) async {
        guard let info = await torrent.torrentInfo,
              let pending = try? await context.store.pendingPieces(of: torrent.infoHash), !pending.isEmpty else { return }
        let storage = TorrentStorage(root: torrent.root, info: info)
        defer { storage.close() }
        try? await context.store.settle(torrent.infoHash, fileStamps: storage.fileStamps())
    }

    // MARK: the cache of shares

    /// What shares hold on disk, and the limit (`memofs status`).
    public nonisolated var cacheUsage: CachePolicy.Usage { context.cache.usage }

    /// Evicts the least recently read pieces of shares until they are within the cache's
    /// limit (see ``CachePolicy``): a round asks each torrent to evict its part, which it
    /// does unless a reader needs a piece after all; another round follows while pieces
    /// were freed, or something changed meanwhile, and the shares are still over.
    func evictOverLimit() async {
        var freedAny = false
        repeat {
            freedAny = false
            guard !isShutDown else { break }
            for (hash, pieces) in context.cache.update({ $0.victims() }) {
                guard let torrent = torrents[hash] else { continue }  // being added or removed
                if await torrent.evict(pieces) { freedAny = true }
            }
        } while context.cache.roundEnded(freedAny: freedAny)
    }

    // MARK: finding and removing

    public func torrent(_ infoHash: InfoHash) -> Torrent? { torrents[infoHash] }

    /// Pins a torrent (every piece is downloaded in the background and kept) or unpins it
    /// (only what is read is fetched); kept across restarts. Recordings, seeded where they
    /// are, are complete already and cannot be pinned.
    public func setPinned(_ infoHash: InfoHash, _ pinned: Bool) async throws {
        guard let torrent = torrents[infoHash] else { throw TorrentError.removed("no torrent \(infoHash.hex)") }
        guard torrent.root.hasPrefix(context.configuration.dataFolder + "/torrents/") else {
            throw TorrentError.outOfRange("a torrent seeded where it is cannot be pinned")
        }
        try await context.store.setDownloadWhole(pinned, for: infoHash)
        await torrent.setDownloadWhole(pinned)
    }

    /// The hybrid torrent whose v2 hash begins with `hash` (BEP 52 peers may name it so).
    func torrent(namedByV2 hash: InfoHash) -> Torrent? {
        torrents.values.first { $0.magnetLink.v2InfoHash != nil && $0.names(hash) }
    }

    public var allTorrents: [Torrent] { Array(torrents.values) }

    /// Stops a torrent and forgets it; `deleteFiles` also removes what it downloaded.
    public func remove(_ infoHash: InfoHash, deleteFiles: Bool) async throws {
        guard let torrent = torrents.removeValue(forKey: infoHash) else { return }
        context.statusGeneration.withLockedValue { $0 += 1 }
        await torrent.stop(reason: "removed")
        context.cache.update { $0.removeShare(infoHash) }
        try await context.store.remove(infoHash)
        if deleteFiles, let info = await torrent.torrentInfo {
            let storage = TorrentStorage(root: torrent.root, info: info)
            storage.removeFiles()
            if storage.root.hasPrefix(context.configuration.dataFolder + "/torrents/") { rmdir(storage.root) }
        }
    }

    /// Stops every torrent (telling trackers), closes the socket and the threads.
    public func shutdown() async {
        guard !isShutDown else { return }
        isShutDown = true
        context.cache.setStarter(nil)
        ticker?.cancel()
        let stopped = Array(torrents.values)
        for torrent in stopped { await torrent.stop(reason: "shutting down") }
        torrents = [:]
        await context.webSocketTrackers?.shutdown()
        context.webRTCPeers?.closeAll()
        await context.dht?.shutdown()
        lsdTask?.cancel()
        await lsd?.stop()
        try? await server?.close()
        // Closed links end their pumps at once; a dial or handshake under way ends within
        // its timeout, before the pool its writes would use is stopped.
        await context.connectionsEnded(within: context.configuration.timeouts.connectionsAtShutdown)
        // Every queued write has run once the pool is down: record the files as they are.
        try? await context.threadPool.shutdownGracefully()
        for torrent in stopped { await settle(torrent) }
    }
}
