import TorrentModel

/// When to send local discovery announces (BEP 14): every torrent every 5 minutes, a new
/// torrent as soon as allowed, and never more than one datagram a minute, so a LAN full
/// of clients is not flooded. One datagram carries up to 25 info hashes; when more are
/// due, the ones waiting longest go first and the rest wait for the next minute.
public struct LocalDiscoverySchedule: Sendable {
    public static let reannounceInterval: Duration = .seconds(300)
    public static let minimumGap: Duration = .seconds(60)

    private var lastAnnounced: [InfoHash: ContinuousClock.Instant] = [:]
    private var lastSent: ContinuousClock.Instant?

    public init() {}

    /// Whether a datagram may go out now (a minute since the last); when not, the caller
    /// need not even gather its torrents.
    public func maySend(now: ContinuousClock.Instant) -> Bool {
        guard let lastSent else { return true }
        return now - lastSent >= Self.minimumGap
    }

    /// The info hashes to announce now out of `active`, or an empty list when nothing is
    /// due or the last datagram went out less than a minute ago. Records them as sent.
    public mutating func due(active: [InfoHash], now: ContinuousClock.Instant) -> [InfoHash] {
        guard maySend(now: now) else { return [] }
        let activeSet = Set(active)
        lastAnnounced = lastAnnounced.filter { activeSet.contains($0.key) }
        let waiting = active.filter { infoHash in
            guard let last = lastAnnounced[infoHash] else { return true }
            return now - last >= Self.reannounceInterval
        }
        // Never announced first, then the longest waiting; ties in the caller's order.
        let chosen = waiting.enumerated().sorted { a, b in
            let left = lastAnnounced[a.element], right = lastAnnounced[b.element]
            switch (left, right) {
            case (nil, nil): return a.offset < b.offset
            case (nil, _): return true
            case (_, nil): return false
            case (let l?, let r?): return l == r ? a.offset < b.offset : l < r
            }
        }.prefix(LocalDiscoveryMessage.maxInfoHashes).map(\.element)
        guard !chosen.isEmpty else { return [] }
        for infoHash in chosen { lastAnnounced[infoHash] = now }
        lastSent = now
        return chosen
    }
}
