import TorrentModel

/// The peers other nodes announced to us with `announce_peer` (BEP 5), which we hand
/// out in `get_peers` answers.
///
/// Anyone can announce anything, so the store is bounded on every axis: a fixed number
/// of info hashes (the least recently announced is dropped first), a fixed number of
/// peers per info hash, and an expiry after which a peer that did not announce again
/// is forgotten. Time is passed in.
public struct AnnouncedPeers: Sendable {
    public static let defaultMaxInfoHashes = 2000
    public static let defaultMaxPeersPerInfoHash = 100
    /// Clients re-announce about every 15 to 30 minutes.
    public static let defaultLifetime: Duration = .seconds(30 * 60)
    /// The most peers one `get_peers` answer carries, so it fits in one datagram.
    public static let maxPeersPerAnswer = 50

    public let maxInfoHashes: Int
    public let maxPeersPerInfoHash: Int
    public let lifetime: Duration
    private var peersByHash: [InfoHash: [PeerAddress: ContinuousClock.Instant]] = [:]
    private var lastAnnounce: [InfoHash: ContinuousClock.Instant] = [:]

    public init(maxInfoHashes: Int = defaultMaxInfoHashes, maxPeersPerInfoHash: Int = defaultMaxPeersPerInfoHash,
                lifetime: Duration = defaultLifetime) {
        self.maxInfoHashes = maxInfoHashes
        self.maxPeersPerInfoHash = maxPeersPerInfoHash
        self.lifetime = lifetime
    }

    public var infoHashCount: Int { peersByHash.count }
    public var peerCount: Int { peersByHash.values.reduce(0) { $0 + $1.count } }

    /// Records that `peer` has `infoHash` as of `now`.
    public mutating func add(_ peer: PeerAddress, for infoHash: InfoHash, now: ContinuousClock.Instant) {
        if peersByHash[infoHash] == nil, peersByHash.count >= maxInfoHashes {
            expire(now: now)
            if peersByHash.count >= maxInfoHashes, let oldest = lastAnnounce.min(by: { $0.value < $1.value })?.key {
                peersByHash[oldest] = nil
                lastAnnounce[oldest] = nil
            }
        }
        var peers = peersByHash[infoHash, default: [:]]
        if peers[peer] == nil, peers.count >= maxPeersPerInfoHash {
            // Full: the peer heard from longest ago makes room.
            if let stalest = peers.min(by: { $0.value < $1.value })?.key { peers[stalest] = nil }
        }
        peers[peer] = now
        peersByHash[infoHash] = peers
        lastAnnounce[infoHash] = now
    }

    /// Up to `limit` peers announced for `infoHash` within the lifetime, in random order.
    public func peers(for infoHash: InfoHash, now: ContinuousClock.Instant, limit: Int = maxPeersPerAnswer,
                      using generator: inout some RandomNumberGenerator) -> [PeerAddress] {
        guard let peers = peersByHash[infoHash] else { return [] }
        let fresh = peers.filter { now - $0.value < lifetime }.map(\.key)
        return Array(fresh.shuffled(using: &generator).prefix(max(0, limit)))
    }

    /// Forgets peers older than the lifetime, and info hashes left with none.
    public mutating func expire(now: ContinuousClock.Instant) {
        for (infoHash, peers) in peersByHash {
            let fresh = peers.filter { now - $0.value < lifetime }
            if fresh.isEmpty {
                peersByHash[infoHash] = nil
                lastAnnounce[infoHash] = nil
            } else if fresh.count != peers.count {
                peersByHash[infoHash] = fresh
            }
        }
    }
}
