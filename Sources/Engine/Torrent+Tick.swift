import PeerProtocol
import TorrentModel

/// The housekeeping of a torrent: once a second while it has peers, readers or work in
/// hand; an idle one (no peers, nobody waiting, nothing to dial) only when its tracker or
/// DHT announce is due, and at least every two minutes. Whatever gives an idle torrent
/// work (a peer, a reader, an address to dial) wakes it (``wake()``).
extension Torrent {
    static let idleTickInterval: Duration = .seconds(120)

    /// Asks the session's ticker for a tick within the second: something happened.
    func wake() {
        nextTick.withLockedValue { $0 = min($0, context.now + .seconds(1)) }
    }

    var isBusy: Bool {
        !table.isIdle || info == nil || !pieceWaiters.isEmpty || storageHealth.holdsDownloads
            || !metadataWaiters.isEmpty || !completionWaiters.isEmpty
    }

    func tick() {
        // A stopped torrent stays in the session only when it failed (its metadata refused,
        // until `rm`): it has nothing to do, and is not asked every second.
        guard !isStopped else { return nextTick.withLockedValue { $0 = context.now + Self.idleTickInterval } }
        defer { scheduleNextTick() }
        let now = context.now
        expireHashRequests(now: now)
        noteStalledReads(blocksArrived: peers.values.contains { $0.session.downloadedThisTick > 0 })
        for key in Array(peers.keys) {
            if let actions = peers[key]?.session.tick(now: now, timeouts: timeouts) { perform(actions, for: key) }
        }
        if choker.isRoundDue(now) {
            var random = SystemRandomNumberGenerator()
            chokeRound(now: now, rng: &random)
        }
        if info == nil { requestMetadataFromAnyone() }
        checkStorage()
        sendPex(now: now)
        updateInterestAndRequests()
        connectToCandidates()
        trackerTick(now: now)
        dhtTick(now: now)
    }

    /// Sets when the next tick is due; also called when an announce ends, since its
    /// result (a retry time, new peers) may want a tick sooner.
    func scheduleNextTick() {
        let now = context.now
        var next = now + .seconds(1)
        if !isBusy {
            next = now + Self.idleTickInterval
            if let tracker = trackerState.nextAnnounce { next = min(next, max(tracker, now + .seconds(1))) }
            if context.dht != nil, let dht = dhtState.nextAnnounce { next = min(next, max(dht, now + .seconds(1))) }
        }
        nextTick.withLockedValue { $0 = next }
        publishStatus()
    }

    /// Publishes the status if it changed, and tells the session something did.
    func publishStatus() {
        let current = status
        let changed = publishedStatus.withLockedValue { published in
            guard published != current else { return false }
            published = current
            return true
        }
        if changed { context.statusGeneration.withLockedValue { $0 += 1 } }
    }
}
