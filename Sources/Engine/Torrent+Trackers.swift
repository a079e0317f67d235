import Discovery
import NIOCore
import TorrentModel

/// Announcing to trackers (BEP 3, 12, 15): `started` once, then on the tracker's
/// interval, `completed` when the download finishes, `stopped` when the torrent stops.
enum TrackerAnnouncer {
    struct State {
        var tiers: TrackerTiers?
        var nextAnnounce: ContinuousClock.Instant?
        var isAnnouncing = false
        /// Waiting for one of the session's announce slots.
        var isQueued = false
        var sentStarted = false
        var lastWorking: String?
        var udpConnections: [String: UDPTrackerConnection] = [:]
        var trackerIDs: [String: String] = [:]
        var key = UInt32.random(in: .min ... .max)
        var failures = 0
        /// An event to send at the next announce (`completed` while another announce was running).
        var pendingEvent: AnnounceEvent?
    }
}

extension Torrent {
    var trackerURLs: [[String]] {
        var tiers = metainfo?.trackerTiers ?? magnet.trackers.map { [$0] }
        if tiers.isEmpty { tiers = magnet.trackers.map { [$0] } }
        let extra = context.configuration.extraTrackers.filter { url in !tiers.joined().contains(url) }
        if !extra.isEmpty { tiers.append(extra) }
        return tiers
    }

    func startTrackers() {
        guard context.configuration.useTrackers, !trackerURLs.isEmpty else { return }
        var random = SystemRandomNumberGenerator()
        trackerState.tiers = TrackerTiers(tiers: trackerURLs, random: &random)
        trackerState.nextAnnounce = context.now
    }

    func trackerTick(now: ContinuousClock.Instant) {
        guard !trackerState.isAnnouncing, !trackerState.isQueued, let next = trackerState.nextAnnounce, now >= next else { return }
        trackerState.isQueued = true
        let slots = context.trackerSlots
        Task {
            await slots.acquire()
            trackerState.isQueued = false
            await announce(trackerState.pendingEvent ?? (trackerState.sentStarted ? .none : .started))
            slots.release()
            scheduleNextTick()
        }
    }

    func announceCompleted() {
        guard trackerState.tiers != nil else { return }
        // Sent at the next tick, after any announce already running.
        trackerState.pendingEvent = trackerState.sentStarted ? .completed : .started
        trackerState.nextAnnounce = context.now
    }

    func stopTrackers() async {
        guard let url = trackerState.lastWorking, let tracker = TrackerURL(url) else { return }
        // Best effort and brief: a stopped torrent must not wait on a slow tracker.
        let request = announceRequest(.stopped, url: url)
        let connection = trackerState.udpConnections[url]
        let group = context.group
        let limit = timeouts.trackerStopped
        _ = try? await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                _ = try await TrackerClients.announce(tracker, request: request, cachedConnection: connection,
                                                      group: group, timeout: TimeAmount(limit))
            }
            tasks.addTask { try await Task.sleep(for: limit) }
            _ = try await tasks.next()
            tasks.cancelAll()
        }
    }

    func announceRequest(_ event: AnnounceEvent, url: String) -> AnnounceRequest {
        let left = info.map { $0.totalLength - verifiedByteCount() } ?? (magnet.exactLength ?? 16384)
        let port = context.listenPort.withLockedValue { $0 }
        return AnnounceRequest(infoHash: infoHash, peerID: context.peerID, port: UInt16(clamping: port),
                               uploaded: statistics.uploadedBytes, downloaded: statistics.downloadedBytes, left: left, event: event,
                               numWant: 50, key: trackerState.key, trackerID: trackerState.trackerIDs[url])
    }

    /// Tries the trackers in BEP 12 order until one answers.
    func announce(_ event: AnnounceEvent) async {
        guard var tiers = trackerState.tiers, !trackerState.isAnnouncing, !isStopped else { return }
        trackerState.isAnnouncing = true
        defer { trackerState.isAnnouncing = false }
        var errors: [String] = []
        for url in tiers.orderedURLs {
            guard let tracker = TrackerURL(url) else {
                errors.append("\(url): not a tracker URL")
                continue
            }
            do {
                let (response, connection) = try await TrackerClients.announce(
                    tracker, request: announceRequest(event, url: url), cachedConnection: trackerState.udpConnections[url],
                    group: context.group, timeout: TimeAmount(timeouts.trackerAnnounce))
                tiers.markWorking(url)
                trackerState.tiers = tiers
                trackerState.lastWorking = url
                trackerState.failures = 0
                lastTrackerError = nil
                if let connection { trackerState.udpConnections[url] = connection }
                if let id = response.trackerID { trackerState.trackerIDs[url] = id }
                trackerState.sentStarted = true
                if trackerState.pendingEvent == event { trackerState.pendingEvent = nil }
                trackerState.nextAnnounce = context.now + .seconds(response.interval)
                logger.debug("\(url) gave \(response.peers.count) peers, next in \(response.interval) s")
                addPeers(response.peers, source: .tracker)
                return
            } catch {
                errors.append("\(url): \(error)")
            }
        }
        trackerState.failures += 1
        // Back off: 30 s, 60 s, … up to 30 minutes.
        let delay = min(30 * (1 << min(trackerState.failures - 1, 6)), 1800)
        trackerState.nextAnnounce = context.now + .seconds(delay)
        lastTrackerError = errors.joined(separator: "; ")
        logger.info("no tracker answered: \(lastTrackerError!)")
    }
}
