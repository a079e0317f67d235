/// The trackers of a torrent in BEP 12 tiers, and the order to try them in.
///
/// BEP 12: shuffle each tier once when the torrent is loaded; try the tiers in order
/// and the URLs of a tier in order; when one answers, move it to the front of its
/// tier so it is tried first next time. Shuffling spreads clients over equivalent
/// trackers; promotion keeps us on one that works.
public struct TrackerTiers: Sendable, Equatable {
    /// The tiers in their current order. Empty tiers are dropped, and a URL that
    /// appears more than once is kept only where it appears first.
    public private(set) var tiers: [[String]]

    public init(tiers: [[String]], random: inout some RandomNumberGenerator) {
        var seen: Set<String> = []
        var result: [[String]] = []
        for tier in tiers {
            var kept = tier.filter { seen.insert($0).inserted }
            guard !kept.isEmpty else { continue }
            kept.shuffle(using: &random)
            result.append(kept)
        }
        self.tiers = result
    }

    /// Moves `url` to the front of its tier; does nothing for a URL we do not have.
    public mutating func markWorking(_ url: String) {
        for tierIndex in tiers.indices {
            if let index = tiers[tierIndex].firstIndex(of: url) {
                tiers[tierIndex].remove(at: index)
                tiers[tierIndex].insert(url, at: 0)
                return
            }
        }
    }

    /// Every URL in the order to try: the first tier's in order, then the next tier's.
    public var orderedURLs: [String] { Array(tiers.joined()) }
}
