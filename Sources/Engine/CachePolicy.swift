import TorrentModel

/// Which verified pieces of shares to give back when the bytes they hold on disk pass the
/// cache's limit (`memofs mount --cache-size`): a session-wide least-recently-read policy.
///
/// Pure: events in ("piece verified", "pieces read at t", "pinned", "readers hold these
/// pieces"), pieces to evict out; the torrents do the evicting. Only shares are known to
/// it (torrents downloaded into `<data>/torrents/`); recordings in `local/` are the user's
/// files, never registered, never counted, never evicted.
///
/// - A pinned share's pieces are never evicted and do not count against the limit (the
///   user asked to keep that share whole; counted, a pinned share larger than the limit
///   would leave no room at all for streaming); they are counted apart, as `pinnedBytes`.
/// - Pieces readers hold (under an open reader's window or a waiting read, a complete file
///   open for reading) are never evicted.
/// - Pieces of incomplete shares go first, least recently read first; pieces of complete
///   shares only when those are not enough (a complete share is usable by any program).
/// - Evicting stops at ``target``, a little below the limit, so that the next pieces to
///   arrive do not each set off an eviction of their own.
public struct CachePolicy: Sendable {
    /// What is held on disk, and the limit.
    public struct Usage: Sendable, Equatable, Codable {
        /// Bytes of verified pieces of shares that are not pinned: what the limit applies to.
        public var used: Int64
        /// The limit; nil when there is none.
        public var limit: Int64?
        /// Bytes of verified pieces of pinned shares, which are kept whatever the limit.
        public var pinned: Int64

        public init(used: Int64, limit: Int64?, pinned: Int64) {
            self.used = used
            self.limit = limit
            self.pinned = pinned
        }
    }

    struct Entry: Sendable {
        let bytes: Int64
        var lastRead: ContinuousClock.Instant
        /// Breaks ties between pieces read at the same instant: the one touched first goes first.
        var sequence: UInt64
    }

    struct Share: Sendable {
        let pieceCount: Int
        var pieces: [Int: Entry] = [:]
        var bytes: Int64 = 0
        var pinned: Bool
        var held: [Range<Int>] = []

        var isComplete: Bool { pieces.count == pieceCount }
        func isHeld(_ piece: Int) -> Bool { held.contains { $0.contains(piece) } }
    }

    /// The most bytes of unpinned shares to keep; nil: no limit.
    public let limit: Int64?
    private var shares: [InfoHash: Share] = [:]
    private var sequence: UInt64 = 0
    public private(set) var usedBytes: Int64 = 0
    public private(set) var pinnedBytes: Int64 = 0

    public init(limit: Int64?) {
        self.limit = limit.map { max(0, $0) }
    }

    public var usage: Usage { Usage(used: usedBytes, limit: limit, pinned: pinnedBytes) }

    public var isOverLimit: Bool { limit.map { usedBytes > $0 } ?? false }

    /// Where an eviction stops: 1/16 below the limit (64 MiB under a 1 GiB limit).
    public var target: Int64? { limit.map { $0 - $0 / 16 } }

    // MARK: events

    /// A share whose pieces may be evicted (once its metadata is known).
    public mutating func addShare(_ torrent: InfoHash, pieceCount: Int, pinned: Bool) {
        guard shares[torrent] == nil else { return }
        shares[torrent] = Share(pieceCount: pieceCount, pinned: pinned)
    }

    /// The share was removed (with its files, or its pieces are none of ours any more).
    public mutating func removeShare(_ torrent: InfoHash) {
        guard let share = shares.removeValue(forKey: torrent) else { return }
        account(share, sign: -1)
    }

    public func contains(_ torrent: InfoHash) -> Bool { shares[torrent] != nil }

    /// A piece of `bytes` was verified and is on disk; it counts as read now.
    public mutating func verified(_ piece: Int, of torrent: InfoHash, bytes: Int64, at now: ContinuousClock.Instant) {
        guard var share = shares[torrent], piece >= 0, piece < share.pieceCount else { return }
        sequence += 1
        let old = share.pieces.updateValue(Entry(bytes: bytes, lastRead: now, sequence: sequence), forKey: piece)
        let change = bytes - (old?.bytes ?? 0)
        share.bytes += change
        shares[torrent] = share
        if share.pinned { pinnedBytes += change } else { usedBytes += change }
    }

    /// A reader read `pieces` at `now`: they become the most recently read.
    public mutating func read(_ pieces: Range<Int>, of torrent: InfoHash, at now: ContinuousClock.Instant) {
        guard shares[torrent] != nil else { return }
        for piece in pieces where shares[torrent]!.pieces[piece] != nil {
            sequence += 1
            shares[torrent]!.pieces[piece]!.lastRead = now
            shares[torrent]!.pieces[piece]!.sequence = sequence
        }
    }

    /// Pinned: kept whole, not counted against the limit; unpinned: counted and evictable again.
    public mutating func setPinned(_ torrent: InfoHash, _ pinned: Bool) {
        guard let share = shares[torrent], share.pinned != pinned else { return }
        account(share, sign: -1)
        shares[torrent]!.pinned = pinned
        account(shares[torrent]!, sign: 1)
    }

    /// The pieces the share's readers hold now (open readers' windows, waiting reads, complete
    /// files open for reading): never evicted while held. Replaces what was held before.
    public mutating func setHeld(_ ranges: [Range<Int>], of torrent: InfoHash) {
        guard shares[torrent] != nil else { return }
        shares[torrent]!.held = ranges.filter { !$0.isEmpty }
    }

    /// The pieces were evicted (or were found gone): they no longer count.
    public mutating func evicted(_ pieces: [Int], of torrent: InfoHash) {
        guard var share = shares[torrent] else { return }
        for piece in pieces {
            guard let entry = share.pieces.removeValue(forKey: piece) else { continue }
            share.bytes -= entry.bytes
            if share.pinned { pinnedBytes -= entry.bytes } else { usedBytes -= entry.bytes }
        }
        shares[torrent] = share
    }

    // MARK: decision

    /// The pieces to evict to come down to ``target``, by share, each share's in the order
    /// they should go: of incomplete shares before complete ones, least recently read first,
    /// never a pinned share's or a held piece. Empty when within the limit, or when nothing
    /// may go.
    public func victims() -> [(torrent: InfoHash, pieces: [Int])] {
        guard isOverLimit, let target else { return [] }
        var candidates: [(complete: Bool, lastRead: ContinuousClock.Instant, sequence: UInt64, torrent: InfoHash,
                          piece: Int, bytes: Int64)] = []
        for (torrent, share) in shares where !share.pinned {
            let complete = share.isComplete
            for (piece, entry) in share.pieces where !share.isHeld(piece) {
                candidates.append((complete, entry.lastRead, entry.sequence, torrent, piece, entry.bytes))
            }
        }
        candidates.sort { a, b in
            if a.complete != b.complete { return !a.complete }
            if a.lastRead != b.lastRead { return a.lastRead < b.lastRead }
            return a.sequence < b.sequence
        }
        var toFree = usedBytes - target
        var chosen: [InfoHash: [Int]] = [:]
        var order: [InfoHash] = []
        for candidate in candidates where toFree > 0 {
            if chosen[candidate.torrent] == nil { order.append(candidate.torrent) }
            chosen[candidate.torrent, default: []].append(candidate.piece)
            toFree -= candidate.bytes
        }
        return order.map { ($0, chosen[$0]!) }
    }

    private mutating func account(_ share: Share, sign: Int64) {
        if share.pinned { pinnedBytes += sign * share.bytes } else { usedBytes += sign * share.bytes }
    }
}
