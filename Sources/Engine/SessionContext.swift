import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import TorrentModel
import WebRTC

/// What every torrent of a session shares: threads, the state store, our identity.
final class SessionContext: Sendable {
    let group: EventLoopGroup
    /// Blocking work (hashing, file reads and writes) runs here, never on an event loop.
    let threadPool: NIOThreadPool
    let store: StateStore
    let peerID: PeerID
    let configuration: SessionConfiguration
    let logger: Logger
    /// Our listening port, once bound (0 before).
    let listenPort = NIOLockedValueBox(0)
    /// Bumped whenever a torrent's published status changes, so a status writer can tell
    /// that nothing did without looking at every torrent.
    let statusGeneration = NIOLockedValueBox(0)
    /// Tracker announces running at once, across all torrents.
    let trackerSlots = AnnounceSlots(limit: 16)
    /// The DHT node, when the configuration asks for one.
    let dht: DHTNode?
    /// WebSocket (WebTorrent) trackers, when the configuration has a WebRTC stack to signal for.
    let webSocketTrackers: WebSocketTrackerClients?
    /// The session's WebRTC peer connections (browser peers), unless WebRTC is off or a test
    /// put its own signaling in the configuration.
    let webRTCPeers: WebRTCPeers?
    /// Space kept back in the data folder for the database and the status (see ``SpaceReserve``).
    let spaceReserve: SpaceReserve
    /// What shares hold on disk, and which of their pieces to evict past the limit.
    let cache: CacheKeeper

    init(group: EventLoopGroup, threadPool: NIOThreadPool, store: StateStore, peerID: PeerID,
         configuration: SessionConfiguration, logger: Logger, dht: DHTNode?, webRTCPeers: WebRTCPeers?,
         spaceReserve: SpaceReserve) {
        self.spaceReserve = spaceReserve
        self.webRTCPeers = webRTCPeers
        self.cache = CacheKeeper(limit: configuration.cacheLimit)
        self.dht = dht
        self.group = group
        self.threadPool = threadPool
        self.store = store
        self.peerID = peerID
        self.configuration = configuration
        self.logger = logger
        webSocketTrackers = (configuration.webRTCSignaling ?? webRTCPeers).map {
            WebSocketTrackerClients(signaling: $0, peerID: peerID, group: group, clock: configuration.clock,
                                    options: configuration.webSocketTrackerOptions, logger: logger)
        }
    }

    /// Connections being dialled or read (a dial, a handshake, a pump), so that shutting the
    /// session down waits for them before it stops the thread pool and settles the files.
    /// (When each session had loops of its own and stopped them, a dial that scheduled work
    /// on a stopped loop left a promise unfulfilled, which NIO's debug builds trap on: a
    /// test process died of it in CI. The loops are NIO's shared ones now, never stopped.)
    private let connectionTasks = NIOLockedValueBox(0)

    /// Starts a task for a connection's life, counted in `connectionTasks` from before it
    /// starts until it ends.
    func connectionTask(_ work: @escaping @Sendable () async -> Void) {
        connectionTasks.withLockedValue { $0 += 1 }
        Task {
            await work()
            self.connectionTasks.withLockedValue { $0 -= 1 }
        }
    }

    /// Waits until no connection is being dialled or read, for at most `limit`.
    func connectionsEnded(within limit: Duration) async {
        let deadline = ContinuousClock.now + limit
        while connectionTasks.withLockedValue({ $0 }) > 0 && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    /// The session's time (see ``EngineClock``).
    var now: ContinuousClock.Instant { configuration.clock.now }

    /// Runs blocking work on the pool.
    func blocking<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await threadPool.runIfActive(work)
    }
}


/// How a session runs.
public struct SessionConfiguration: Sendable {
    /// Where state, downloads and seeded copies live.
    public var dataFolder: String
    /// The address to accept peers on (`127.0.0.1` in tests).
    public var listenHost: String
    /// The peer port; 0 picks a free one.
    public var listenPort: Int
    /// Connections per torrent.
    public var maxPeersPerTorrent: Int
    /// Peers we upload to at once (libtorrent's default is 8), one of them rotated optimistically.
    public var unchokeSlots: Int
    /// Trackers the session announces torrents to in addition to their own (tests and `--tracker`).
    public var extraTrackers: [String]
    /// Announce to trackers at all.
    public var useTrackers: Bool
    /// Every time limit of peers, trackers and reads, each with its reason.
    public var timeouts: EngineTimeouts
    /// The DHT node's settings; nil runs no DHT node (the default, so that nothing a test
    /// or a library user starts talks to the public DHT unless asked).
    public var dht: DHTSettings?
    /// Local peer discovery (BEP 14) by multicast on the LAN; off unless asked, for the same reason.
    public var localPeerDiscovery: Bool
    /// Where every timer of the engine reads the time; tests move a ``ManualClock``.
    public var clock: EngineClock
    /// How WebRTC peer connections are made (browser peers, found through `ws://`/`wss://`
    /// trackers); nil turns them off and skips those trackers.
    public var webRTC: WebRTCConfiguration?
    /// Signaling in place of the session's own WebRTC stack, for tests of the tracker client.
    public var webRTCSignaling: (any WebRTCSignaling)?
    /// TLS trust, message limit and pings of WebSocket tracker sockets.
    public var webSocketTrackerOptions: WebSocketTrackerConnectionOptions
    /// The most bytes the verified pieces of shares (torrents downloaded into
    /// `<data>/torrents/`, not pinned) may hold on disk; past it the least recently read
    /// are evicted (see ``CachePolicy``). nil: no limit (`memofs download`, library use).
    public var cacheLimit: Int64?

    public init(dataFolder: String, listenHost: String = "0.0.0.0", listenPort: Int = 6881,
                maxPeersPerTorrent: Int = 50, unchokeSlots: Int = 8, extraTrackers: [String] = [],
                useTrackers: Bool = true, timeouts: EngineTimeouts = EngineTimeouts(),
                dht: DHTSettings? = nil, localPeerDiscovery: Bool = false, clock: EngineClock = .continuous,
                webRTC: WebRTCConfiguration? = nil, webRTCSignaling: (any WebRTCSignaling)? = nil,
                webSocketTrackerOptions: WebSocketTrackerConnectionOptions = .init(), cacheLimit: Int64? = nil) {
        self.cacheLimit = cacheLimit
        self.clock = clock
        self.webRTC = webRTC
        self.webRTCSignaling = webRTCSignaling
        self.webSocketTrackerOptions = webSocketTrackerOptions
        self.dht = dht
        self.localPeerDiscovery = localPeerDiscovery
        self.dataFolder = dataFolder
        self.listenHost = listenHost
        self.listenPort = listenPort
        self.maxPeersPerTorrent = maxPeersPerTorrent
        self.unchokeSlots = unchokeSlots
        self.extraTrackers = extraTrackers
        self.useTrackers = useTrackers
        self.timeouts = timeouts
    }
}
