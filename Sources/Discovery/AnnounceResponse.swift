import TorrentModel

/// What a tracker told us, whatever the transport, after sanity limits were applied.
public struct AnnounceResponse: Sendable, Equatable {
    /// Seconds to wait before the next regular announce, within ``acceptedIntervals``.
    public var interval: Int
    /// Seconds before which we must not re-announce even for an event, within ``acceptedIntervals``.
    public var minInterval: Int?
    /// At most ``maxPeers`` peers, without duplicates or port 0, IPv4 before IPv6 as sent.
    public var peers: [PeerAddress]
    /// Seeds (`complete`) and leechers (`incomplete`) in the swarm, when the tracker says.
    public var seeders: Int?
    public var leechers: Int?
    /// To be echoed as `trackerid` in later HTTP announces.
    public var trackerID: String?
    /// A `warning message`: the announce worked but the tracker wants a human to know something.
    public var warning: String?

    public init(interval: Int, minInterval: Int? = nil, peers: [PeerAddress], seeders: Int? = nil,
                leechers: Int? = nil, trackerID: String? = nil, warning: String? = nil) {
        self.interval = interval
        self.minInterval = minInterval
        self.peers = peers
        self.seeders = seeders
        self.leechers = leechers
        self.trackerID = trackerID
        self.warning = warning
    }

    /// The re-announce intervals we obey, in seconds. A tracker asking for less than a
    /// minute (or 0, or a negative number) would have us hammer it and gain nothing;
    /// one asking for more than two hours would leave a lazily read torrent without
    /// fresh peers for too long. Values outside are clamped, not refused.
    public static let acceptedIntervals: ClosedRange<Int> = 60...7200

    /// The most peers one response may add. A swarm needs far fewer to be useful
    /// (trackers usually send 50), and a hostile tracker must not make us queue
    /// millions of dial attempts. Extra peers are dropped, not an error.
    public static let maxPeers = 1000

    /// Clamps a tracker's interval into ``acceptedIntervals``.
    static func clampInterval(_ seconds: Int64) -> Int {
        let range = acceptedIntervals
        return Int(min(max(seconds, Int64(range.lowerBound)), Int64(range.upperBound)))
    }
}

/// Collects peers from the parts of a response, enforcing the cap, dropping port 0
/// (nobody listens there) and duplicates (some trackers repeat a peer in `peers` and `peers6`).
struct PeerCollector {
    private(set) var peers: [PeerAddress] = []
    private var seen: Set<PeerAddress> = []

    var isFull: Bool { peers.count >= AnnounceResponse.maxPeers }

    mutating func add(_ peer: PeerAddress) {
        guard !isFull, peer.port != 0, seen.insert(peer).inserted else { return }
        peers.append(peer)
    }

    /// Adds BEP 23 / BEP 7 compact entries: an IPv4 (4 bytes) or IPv6 (16 bytes)
    /// address then a big-endian port. Entries past the last whole one are ignored;
    /// callers decide whether such a tail is an error.
    mutating func addCompact(_ bytes: ArraySlice<UInt8>, addressLength: Int) {
        let entrySize = addressLength + 2
        var offset = bytes.startIndex
        while bytes.endIndex - offset >= entrySize && !isFull {
            let address = Array(bytes[offset..<(offset + addressLength)])
            let port = UInt16(bytes[offset + addressLength]) << 8 | UInt16(bytes[offset + addressLength + 1])
            add(PeerAddress(host: addressLength == 4 ? .ipv4(address) : .ipv6(address), port: port))
            offset += entrySize
        }
    }
}
