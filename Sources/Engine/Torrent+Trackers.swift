import Discovery
import NIOConcurrencyHelpers
import NIOCore
import TorrentModel

/// Announcing to trackers (BEP 3, 12, 15): `started` once, then on the tracker's
/// interval, `completed` when the download finishes, `stopped` when the torrent stops.
/// `ws://` and `wss://` (WebTorrent) trackers are not in the tiers: the session's
/// ``WebSocketTrackerClient`` for each URL announces there, when the session has a
/// ``WebRTCSignaling``; without one they are skipped.
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
        /// The WebSocket trackers this torrent announces to.
        var webSocketClients: [WebSocketTrackerClient] = []
        /// Each WebSocket tracker's status ("URL: reason"), set from its client's actor.
        let webSocketErrors = NIOLockedValueBox<[String: String]>([:])
        /// Each WebSocket tracker's count of the swarm, set from its client's actor.
        let webSocketSwarms = NIOLockedValueBox<[String: WebSocketTrackerSwarm]>([:])
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
        let tiers = trackerURLs.map { $0.filter { !WebSocketTrackerURL.isWebSocket($0) } }.filter { !$0.isEmpty }
        startWebSocketTrackers(Set(trackerURLs.joined().filter(WebSocketTrackerURL.isWebSocket)).sorted())
        guard !tiers.isEmpty else { return }
        var random = SystemRandomNumberGenerator()
        trackerState.tiers = TrackerTiers(tiers: tiers, random: &random)
        trackerState.nextAnnounce = context.now
    }

    /// Announces on each WebSocket tracker through the session's shared client for its URL.
    private func startWebSocketTrackers(_ urls: [String]) {
        guard !urls.isEmpty else { return }
        guard let clients = context.webSocketTrackers else {
            logger.debug("WebSocket trackers skipped (no WebRTC stack): \(urls.joined(separator: ", "))")
            return
        }
        let errors = trackerState.webSocketErrors
        let swarms = trackerState.webSocketSwarms
        for text in urls {
            guard let url = WebSocketTrackerURL(text) else {
                errors.withLockedValue { $0[text] = "\(text): not a WebSocket tracker URL" }
                continue
            }
            let client = clients.client(for: url)
            trackerState.webSocketClients.append(client)
            let torrent = WebSocketTrackerTorrent(
                infoHash: infoHash,
                transfer: { [weak self] in
                    await self?.webSocketTransfer() ?? .init(uploaded: 0, downloaded: 0, left: nil)
                },
                statusChanged: { status in errors.withLockedValue { $0[text] = status } },
                swarmChanged: { swarm in swarms.withLockedValue { $0[text] = swarm } })
            Task { await client.add(torrent) }
        }
    }

    /// Byte counts for a WebSocket announce; `left` unknown until the metadata is.
    func webSocketTransfer() -> WebSocketTrackerAnnouncer.Transfer {
        .init(uploaded: statistics.uploadedBytes, downloaded: statistics.downloadedBytes,
              left: info.map { $0.totalLength - verifiedByteCount() })
    }

    /// The largest swarm a WebSocket tracker counts for this torrent (others included, us too
    /// once announced), for the status.
    var webSocketTrackerSwarm: WebSocketTrackerSwarm? {
        trackerState.webSocketSwarms.withLockedValue { $0.values.max { $0.seeders + $0.leechers < $1.seeders + $1.leechers } }
    }

    /// The trackers' errors for the status: HTTP/UDP's last failed round, then each WebSocket tracker's.
    var trackerErrorText: String? {
        let parts = [lastTrackerError].compactMap { $0 }
            + trackerState.webSocketErrors.withLockedValue { $0 }.sorted { $0.key < $1.key }.map(\.value)
        return parts.isEmpty ? nil : parts.joined(separator: "; ")
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
        for client in trackerState.webSocketClients {
            Task { [infoHash] in await client.completed(infoHash) }
        }
        guard trackerState.tiers != nil else { return }
        // Sent at the next tick, after any announce already running.
        trackerState.pendingEvent = trackerState.sentStarted ? .completed : .started
        trackerState.nextAnnounce = context.now
    }

    func stopTrackers() async {
        for client in trackerState.webSocketClients { await client.remove(infoHash) }
        trackerState.webSocketClients = []
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
