import PeerProtocol
import TorrentModel

/// The once-a-second housekeeping of a torrent.
extension Torrent {
    func tick() {
        guard !isStopped else { return }
        let now = ContinuousClock.now
        for key in Array(peers.keys) {
            guard var peer = peers[key] else { continue }
            // Smoothed rates: a quarter of the new second, three quarters of the past.
            peer.downloadRate = peer.downloadRate * 0.75 + Double(peer.downloadedThisTick) * 0.25
            peer.uploadRate = peer.uploadRate * 0.75 + Double(peer.uploadedThisTick) * 0.25
            peer.downloadedThisTick = 0
            peer.uploadedThisTick = 0
            // Keep about two seconds of the peer's rate in flight, as libtorrent does.
            let wanted = Int(peer.downloadRate * 2 / Double(PiecePicker.blockSize))
            let cap = min(peer.extensions?.requestQueueLength ?? 250, 1000)
            peer.queueDepth = min(max(32, wanted), max(1, cap))
            peers[key] = peer

            let outstanding = picker?.outstandingRequests(of: key).count ?? 0
            if outstanding > 0, !peer.peerChoking, !peer.snubbed, now - peer.lastBlockAt > context.configuration.snubTimeout {
                peers[key]!.snubbed = true
                picker?.dropRequests(of: key)
                logger.info("\(peer.address) is snubbing us")
            }
            // With the fast extension a choke keeps requests until the peer rejects them; one that
            // never does would hold them for good.
            if outstanding > 0, peer.peerChoking, now - peer.lastBlockAt > .seconds(30) {
                picker?.dropRequests(of: key)
            }
            if now - peer.lastReceivedAt > .seconds(180) {
                detach(key, reason: "silent for 3 minutes")
                continue
            }
            if now - peer.lastSentAt > .seconds(90) { send(.keepAlive, to: key) }
        }
        if now - lastChokeRound >= .seconds(10) {
            lastChokeRound = now
            chokeRound(now: now)
        }
        if info == nil { requestMetadataFromAnyone() }
        sendPex(now: now)
        updateInterestAndRequests()
        connectToCandidates()
        trackerTick(now: now)
        dhtTick(now: now)
    }
}
