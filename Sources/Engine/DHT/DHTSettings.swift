/// How a session's DHT node (BEP 5) runs. A session without settings has no DHT.
public struct DHTSettings: Sendable {
    /// The routers everyone bootstraps from; memofs's default outside tests.
    public static let publicRouters = ["router.bittorrent.com:6881", "dht.transmissionbt.com:6881",
                                       "router.utorrent.com:6881", "dht.libtorrent.org:25401"]

    /// `host:port` of nodes to join through when the saved routing table is empty or stale.
    public var bootstrapNodes: [String]
    /// The UDP port; nil uses the peer port's number, or a free port if that is taken.
    public var port: Int?
    /// How long a query waits for its answer.
    public var queryTimeout: Duration
    /// How often each torrent is announced again (libtorrent: 15 minutes).
    public var announceInterval: Duration

    public init(bootstrapNodes: [String] = DHTSettings.publicRouters, port: Int? = nil,
                queryTimeout: Duration = .seconds(3), announceInterval: Duration = .seconds(15 * 60)) {
        self.bootstrapNodes = bootstrapNodes
        self.port = port
        self.queryTimeout = queryTimeout
        self.announceInterval = announceInterval
    }
}
