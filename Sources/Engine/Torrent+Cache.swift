import NIOConcurrencyHelpers
import PeerProtocol
import TorrentModel

/// Reads under way, from their start (waiting for pieces) until their bytes are read off
/// the actor: their pieces stay on disk until then. A value type in a lock
/// (``Torrent/readsInFlight``), since a read ends on the thread pool, not on the torrent's loop.
struct ReadsInFlight: Sendable {
    private var ranges: [Int: Range<Int>] = [:]
    private var nextToken = 0

    mutating func begin(_ pieces: Range<Int>) -> Int {
        nextToken += 1
        ranges[nextToken] = pieces
        return nextToken
    }

    mutating func end(_ token: Int) { ranges[token] = nil }

    func contains(_ piece: Int) -> Bool { ranges.values.contains { $0.contains(piece) } }
}

/// The torrent's part in the cache of shares (``CachePolicy``, kept by the session): it
/// reports its verified pieces and its readers' reads, says which pieces its readers hold,
/// and evicts what the session asks of it, unless a reader needs it after all.
extension Torrent {
    /// A share: a torrent downloaded into `<data>/torrents/`. Recordings, seeded where they
    /// are in `local/`, are the user's files and never part of the cache.
    nonisolated var isShare: Bool { root.hasPrefix(context.configuration.dataFolder + "/torrents/") }

    /// libtorrent's extension message for a piece a peer no longer has: the piece index, 4
    /// bytes big-endian.
    static let dontHaveExtension = "lt_donthave"

    /// Once the metadata is known: the share's pieces count from now on.
    func joinCache() {
        guard isShare, let info else { return }
        let hash = infoHash, pinned = downloadWhole
        context.cache.update { $0.addShare(hash, pieceCount: info.pieceCount, pinned: pinned) }
    }

    /// Pieces written (or found on disk at start): they count, as read now.
    func cacheVerified(_ pieces: [Int]) {
        guard isShare, let info, !pieces.isEmpty else { return }
        let hash = infoHash, now = context.now
        context.cache.update { policy in
            for piece in pieces where piece >= 0 && piece < info.pieceCount {
                policy.verified(piece, of: hash, bytes: Int64(info.length(ofPiece: piece)), at: now)
            }
        }
        context.cache.evictIfOverLimit()
    }

    /// A reader read these pieces now.
    func cacheRead(_ pieces: Range<Int>) {
        guard isShare else { return }
        let hash = infoHash, now = context.now
        context.cache.update { $0.read(pieces, of: hash, at: now) }
    }

    /// Tells the policy what the open readers hold; after a reader let go of pieces, the
    /// shares may be evicted down to the limit.
    func publishHeldPieces(released: Bool = false) {
        guard isShare else { return }
        let hash = infoHash, held = readers.heldRanges
        context.cache.update { $0.setHeld(held, of: hash) }
        if released { context.cache.evictIfOverLimit() }
    }

    /// Pinned (kept whole, not counted against the limit) or unpinned.
    func cachePinned(_ pinned: Bool) {
        guard isShare else { return }
        let hash = infoHash
        context.cache.update { $0.setPinned(hash, pinned) }
        if !pinned { context.cache.evictIfOverLimit() }
    }

    /// Evicts `candidates` (the session's choice, least recently read first) but those a
    /// reader needs after all: each is no longer had (the picker, new peers' bitfields,
    /// requests for it rejected), forgotten in the state database, then its bytes removed
    /// from disk; only then may it be fetched again. Returns whether any was evicted.
    func evict(_ candidates: [Int]) async -> Bool {
        guard !isStopped, isShare, !downloadWhole, picker != nil, let info, pipeline != nil else { return false }
        let hash = infoHash
        let unrecorded = pipeline!.unrecorded
        var chosen: [Int] = [], gone: [Int] = [], kept: [Int] = []
        readsInFlight.withLockedValue { reads in
            for piece in candidates where piece >= 0 && piece < info.pieceCount {
                if !picker!.have[piece] {
                    gone.append(piece)
                } else if readers.holds(piece) || reads.contains(piece) || unrecorded.contains(piece) {
                    kept.append(piece)
                } else {
                    // Under the lock: a read that finds its pieces from now on finds it gone.
                    picker!.evict(piece)
                    chosen.append(piece)
                }
            }
        }
        let now = context.now
        context.cache.update { policy in
            policy.evicted(chosen + gone, of: hash)
            // Being read this moment, or just written: as good as read now.
            for piece in kept { policy.read(piece..<(piece + 1), of: hash, at: now) }
        }
        guard !chosen.isEmpty else { return false }
        let evicted = Set(chosen)
        // BitTorrent has no "unhave"; libtorrent's `lt_donthave` extension is one (it sends it
        // for a piece it lost): peers that speak it hear of each piece, the others find out
        // when they ask. New peers' bitfields leave the pieces out.
        for key in Array(peers.keys) {
            guard let id = peers[key]?.extensionID(Self.dontHaveExtension) else { continue }
            for piece in chosen {
                let index = UInt32(piece)
                send(.extended(id: id, payload: [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: index >> $0) }), to: key)
            }
        }
        // Requests queued before are not served from a hole: rejected, as for any piece we lack.
        for key in Array(peers.keys) {
            guard let queue = peers[key]?.uploadQueue, queue.contains(where: { evicted.contains(Int($0.piece)) }) else { continue }
            peers[key]!.uploadQueue = queue.filter { !evicted.contains(Int($0.piece)) }
            if peers[key]!.supportsFast {
                for request in queue where evicted.contains(Int(request.piece)) { send(.rejectRequest(request), to: key) }
            }
        }
        pipeline!.evicted(chosen)
        applyReaderPriorities(evicted)
        let store = pipeline!.store, pieces = chosen
        let files = Set(pieces.flatMap { store.files(ofPiece: $0) }).sorted()
        do {
            // On record first: a crash before the hole is punched loses only good bytes, and
            // the pending mark explains the files' new mtime at the next start.
            try await context.store.evict(pieces, for: hash)
            let stamps = try await context.blocking {
                for piece in pieces { try store.discardPiece(piece) }
                return store.fileStamps(of: files)
            }
            pipeline?.punched(files: files, stamps: stamps)
            statistics.evicted(chosen.count)
            logger.debug("evicted \(chosen.count) piece(s) to stay within the cache limit")
        } catch {
            lastError = "could not evict \(chosen.count) piece(s): \(error)"
            logger.error("could not evict \(chosen.count) piece(s): \(error)")
        }
        for piece in chosen { picker?.evictionEnded(piece) }
        if !isStopped { updateInterestAndRequests() }
        return true
    }
}
