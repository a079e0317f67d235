/// Every time limit of the engine's peers, trackers and reads, in one place, each with the
/// reason for its length. A session takes them from its configuration; tests shorten them.
public struct EngineTimeouts: Sendable, Equatable {
    /// A TCP connect to a peer. Loopback and LAN peers answer in milliseconds; a host across
    /// the internet that has not answered in 10 s is almost never going to.
    public var connect: Duration = .seconds(10)
    /// From a connection to the peer's handshake. libtorrent allows 10 s after the TCP
    /// connect; a slow host behind a busy link still makes 20 s.
    public var handshake: Duration = .seconds(20)
    /// A peer that sends no block we asked for, while not choking us, is snubbed: its
    /// requests go to others and it gets one request at a time. libtorrent waits 60 s, for
    /// bulk downloads; memofs has readers waiting on those blocks, and a snub costs an
    /// honest peer little (one request at a time until its next block, no disconnect).
    /// 20 s is twice the gap of the slowest real peer seen between blocks: Transmission
    /// batches its messages every 10 s; a peer sharing a 50 KB/s upload among 20 peers
    /// sends a 16 KiB block every 7 s.
    public var snub: Duration = .seconds(20)
    /// A peer that has answered none of our requests (no block, no reject) for `snub` and
    /// this long again, while it unchokes us and we want something of it, is dropped (not
    /// banned: it is slow or stuck, not lying). Its requests went to others at the snub, or
    /// when they sent the blocks first; 80 s without an answer is no peer a reader can use.
    public var stalledPeer: Duration = .seconds(60)
    /// A block asked of a peer that has not come this long after the time the peer needs,
    /// at its rate, for it and the requests ahead of it (`PeerSession.sent`) is asked of
    /// another peer, and the slow peer's answer is still taken if it comes first
    /// (libtorrent's `request_timeout`, 60 s: re-requested from a different peer). It
    /// catches a peer that delivers but skipped a request, which the snub never does. A
    /// peer that sends nothing at all is snubbed first (`snub` after its last block, never
    /// later than that after the request) and gives every request back then, so no
    /// request is given back twice; on loopback nothing comes near it.
    public var request: Duration = .seconds(60)
    /// With the fast extension a choke keeps our requests until the peer rejects them; a
    /// peer that never rejects would hold them for good.
    public var requestsHeldByAChoke: Duration = .seconds(30)
    /// A peer that sends nothing at all, not even a keep-alive (sent every 2 minutes by
    /// libtorrent, 90 s by us), is gone.
    public var silentPeer: Duration = .seconds(180)
    /// How long we stay silent before a keep-alive, well inside everyone's silent-peer limit.
    public var keepAlive: Duration = .seconds(90)
    /// A metadata piece (BEP 9) not answered in this time is asked of another peer.
    public var metadataRequest: Duration = .seconds(10)
    /// A peer asked for metadata that sends no piece of it in this time (it rejects, or
    /// stays silent) is dropped, not banned: it may not have the metadata yet. Three
    /// request timeouts: libtorrent answers in milliseconds, and a whole 16 MiB info
    /// dictionary is over in seconds on any link a reader could use.
    public var metadataPeer: Duration = .seconds(30)
    /// A BEP 52 hash request not answered in this time sends its reads back to whole
    /// pieces (libtorrent answers in milliseconds; one that stays silent never answers).
    public var hashRequest: Duration = .seconds(5)
    /// A peer that stops reading what we upload, with this much unsent, is dropped
    /// rather than waited on forever.
    public var uploadDrain: Duration = .seconds(30)
    /// An HTTP or UDP tracker announce.
    public var trackerAnnounce: Duration = .seconds(15)
    /// The `stopped` announces at shutdown: best effort, so an unmount never hangs on a
    /// tracker that went away.
    public var trackerStopped: Duration = .seconds(2)
    /// After a torrent's last reader, how long it stays interested in every peer with a
    /// piece it lacks (see `Torrent.keepsInterest`): a reopen within it starts at once. A
    /// `not_interested` at each close cost 30 s with rtorrent, which unchokes only in its
    /// 30 s round.
    public var keepInterestAfterReads: Duration = .seconds(600)
    /// At shutdown, how long to wait for connections being dialled or read to end.
    public var connectionsAtShutdown: Duration = .seconds(5)

    public init() {}
}
