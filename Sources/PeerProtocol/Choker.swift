/// One peer as a choke round sees it.
public struct ChokeCandidate<Key: Hashable & Comparable & Sendable>: Sendable, Equatable {
    public var key: Key
    /// Whether the peer wants to download from us: only interested peers get slots.
    public var isInterested: Bool
    /// Bytes per second the peer sends us: what ranks peers while we download.
    public var downloadRate: Double
    /// Bytes per second we send the peer: what ranks peers once we seed.
    public var uploadRate: Double
    /// Whether we choke the peer now, so the decision names only changes.
    public var isChoked: Bool

    public init(key: Key, isInterested: Bool, downloadRate: Double, uploadRate: Double, isChoked: Bool) {
        self.key = key
        self.isInterested = isInterested
        self.downloadRate = downloadRate
        self.uploadRate = uploadRate
        self.isChoked = isChoked
    }
}

/// What a choke round asks the caller to do: only the changes.
public struct ChokeDecision<Key: Hashable & Comparable & Sendable>: Sendable, Equatable {
    /// Peers we choke now and must unchoke.
    public var unchoke: Set<Key>
    /// Peers we leave unchoked now and must choke.
    public var choke: Set<Key>
    /// The peer in the optimistic slot after this round, if any.
    public var optimistic: Key?

    public init(unchoke: Set<Key> = [], choke: Set<Key> = [], optimistic: Key? = nil) {
        self.unchoke = unchoke
        self.choke = choke
        self.optimistic = optimistic
    }
}

/// Who we upload to (BEP 3's choking), as a value type: candidates, the time and a random
/// generator in, the peers to choke and unchoke out. The caller owns the peers and the
/// messages; nothing here reads a clock or touches a socket.
///
/// Each round, `slots - 1` regular slots go to the interested peers with the best rate:
/// the rate they send us at while we download (tit for tat: reward who gives), the rate we
/// send them at once we seed (nobody gives to a seed; serve those who take fastest). One
/// optimistic slot goes to a random interested peer that has no regular slot and is kept
/// for ``optimisticPeriod``, so a newcomer, which has given nothing yet, gets a chance to
/// prove itself. Everyone else is choked.
///
/// Generic over the key so it needs nothing of the engine (which names peers by its own
/// `PeerKey`).
public struct Choker<Key: Hashable & Comparable & Sendable>: Sendable {
    /// How often slots are reassigned: BEP 3's ten seconds, long enough for a newly
    /// unchoked peer's rate to show (TCP needs a few seconds to reach full speed) and short
    /// enough to follow peers whose rates change.
    public static var roundInterval: Duration { .seconds(10) }
    /// How long the optimistic slot stays with one peer: three rounds, as in BEP 3, so the
    /// peer has time to start downloading and, if it uploads, to earn a regular slot.
    public static var optimisticPeriod: Duration { .seconds(30) }

    /// Slots in all, the optimistic one included.
    public let slots: Int
    public private(set) var lastRound: ContinuousClock.Instant
    public private(set) var optimistic: Key?
    /// When the optimistic peer was chosen (or, while there is none, last looked for).
    public private(set) var optimisticChosenAt: ContinuousClock.Instant

    /// `slots` must be at least 1 (the optimistic slot); the first round is due a
    /// ``roundInterval`` after `now`, once peers had time to connect and say they are interested.
    public init(slots: Int, now: ContinuousClock.Instant) {
        precondition(slots >= 1, "a choker needs at least one slot (the optimistic one), not \(slots)")
        self.slots = slots
        self.lastRound = now
        self.optimisticChosenAt = now
    }

    public func isRoundDue(_ now: ContinuousClock.Instant) -> Bool {
        now - lastRound >= Self.roundInterval
    }

    /// Reassigns the slots. Ties in rate go first to a peer we already unchoke, so a round
    /// does not swap equal peers for nothing, then to the smaller key, so the same candidates
    /// give the same decision.
    public mutating func round(_ candidates: [ChokeCandidate<Key>], now: ContinuousClock.Instant, seeding: Bool,
                               rng: inout some RandomNumberGenerator) -> ChokeDecision<Key> {
        lastRound = now
        let interested = candidates.filter(\.isInterested).sorted { $0.key < $1.key }
        let rate: (ChokeCandidate<Key>) -> Double = seeding ? { $0.uploadRate } : { $0.downloadRate }
        let ranked = interested.sorted {
            let (left, right) = (rate($0), rate($1))
            if left != right { return left > right }
            if $0.isChoked != $1.isChoked { return !$0.isChoked }
            return $0.key < $1.key
        }
        var keep = Set(ranked.prefix(slots - 1).map(\.key))
        // A new optimistic peer when its time is up, and at once when the slot is empty or
        // its peer no longer fits it (left, lost interest, or earned a regular slot).
        let stillFits = optimistic.map { key in interested.contains { $0.key == key } && !keep.contains(key) } ?? false
        if !stillFits || now - optimisticChosenAt >= Self.optimisticPeriod {
            optimisticChosenAt = now
            optimistic = interested.filter { !keep.contains($0.key) }.randomElement(using: &rng)?.key
        }
        if let optimistic { keep.insert(optimistic) }
        var decision = ChokeDecision<Key>(optimistic: optimistic)
        for candidate in candidates {
            if keep.contains(candidate.key) {
                if candidate.isChoked { decision.unchoke.insert(candidate.key) }
            } else if !candidate.isChoked {
                decision.choke.insert(candidate.key)
            }
        }
        return decision
    }

    /// Whether a peer that just said it is interested may be unchoked at once, without
    /// waiting up to ten seconds for the next round: yes while a slot is free.
    public func unchokesAtOnce(unchokedCount: Int) -> Bool {
        unchokedCount < slots
    }

    /// Forgets a peer that disconnected: its optimistic slot is given again next round.
    public mutating func peerLeft(_ key: Key) {
        if optimistic == key { optimistic = nil }
    }
}
