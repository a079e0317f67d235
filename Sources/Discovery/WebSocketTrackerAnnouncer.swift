import TorrentModel

/// One torrent's presence on one WebTorrent (WebSocket) tracker as a state machine: events,
/// text frames and instants in, actions out. The engine owns the socket, the timer and the
/// WebRTC connections; this type never reads the clock.
///
/// On every new connection it announces `started` with fresh offers, then again every
/// `interval` the tracker gave (`min interval` if that is all it gave, a default if neither;
/// never below `minimumInterval`, so `interval: 0` cannot make us hammer it). `completed` is sent
/// once, without offers, as soon as there is a connection; `stopped` at the end.
///
/// The engine makes the SDPs: the machine asks for N offers (``Action/makeOffers(count:)``) and
/// is handed them (``offersMade(_:transfer:now:)``). Each offer waits `offerTimeout` for its
/// answer (bittorrent-tracker: 50 s), then is dropped; offers also die with their socket, since
/// their answers can only come back on it. An answer for an offer we do not hold is ignored with
/// a reason: the tracker or a peer may be stale or wrong, and that must not end anything.
///
/// A closed socket is reopened after `reconnectMinimum · 2ⁿ`, capped at `reconnectMaximum`
/// (bittorrent-tracker: 10 s to 60 min). n counts closes since the last announce reply, so a
/// tracker that accepts the socket and then drops it still backs off; bittorrent-tracker resets
/// on connect instead, and adds up to 5 min of jitter, which the engine may add to the timer.
public struct WebSocketTrackerAnnouncer: Sendable {
    public struct Configuration: Sendable, Equatable {
        /// Offers (and `numwant`) per announce; bittorrent-tracker makes at most 5, older versions 10.
        public var offersPerAnnounce: Int
        public var offerTimeout: Duration
        /// When the tracker names no interval; the trackers seen here send 120 s.
        public var defaultInterval: Duration
        public var minimumInterval: Duration
        public var reconnectMinimum: Duration
        public var reconnectMaximum: Duration

        public init(offersPerAnnounce: Int = 5, offerTimeout: Duration = .seconds(50),
                    defaultInterval: Duration = .seconds(120), minimumInterval: Duration = .seconds(30),
                    reconnectMinimum: Duration = .seconds(10), reconnectMaximum: Duration = .seconds(3600)) {
            precondition((1...10).contains(offersPerAnnounce), "a WebTorrent announce carries 1 to 10 offers")
            self.offersPerAnnounce = offersPerAnnounce
            self.offerTimeout = offerTimeout
            self.defaultInterval = defaultInterval
            self.minimumInterval = minimumInterval
            self.reconnectMinimum = reconnectMinimum
            self.reconnectMaximum = reconnectMaximum
        }
    }

    /// Byte counts for an announce, as of the moment it is sent; `left` nil while the size is unknown.
    public struct Transfer: Sendable, Equatable {
        public var uploaded: Int64
        public var downloaded: Int64
        public var left: Int64?

        public init(uploaded: Int64, downloaded: Int64, left: Int64?) {
            self.uploaded = uploaded
            self.downloaded = downloaded
            self.left = left
        }
    }

    /// What the engine should do next, in order.
    public enum Action: Sendable, Equatable {
        /// Open the WebSocket; report ``connected(now:)`` or ``disconnected(now:)``.
        case connect
        /// Create this many WebRTC offers (non-trickle SDPs) and hand them to ``offersMade(_:transfer:now:)``.
        case makeOffers(count: Int)
        /// Send this text frame.
        case send(String)
        /// Close the WebRTC connection of this offer: it went unanswered or its socket closed.
        case dropOffer(WebRTCOfferID)
        /// Apply this answer to the connection of our offer `offerID`.
        case acceptAnswer(offerID: WebRTCOfferID, from: PeerID, sdp: String)
        /// Another peer offers: make an answer and hand it to ``answer(_:sdp:now:)``.
        case answerOffer(WebSocketTrackerMessage.RelayedDescription)
        /// (Re)arm the single timer; call ``timerFired(now:)`` at that instant.
        case waitUntil(ContinuousClock.Instant)
        /// The tracker's `failure reason` or `warning message`, for the log.
        case trackerSaid(String)
        /// Input that was not acted on, and why, for the log.
        case ignored(String)
        /// Close the socket: we are done with this tracker.
        case close
    }

    private enum Phase: Sendable, Equatable {
        case idle
        case connecting
        case connected
        case waitingToReconnect(until: ContinuousClock.Instant)
        case stopped
    }

    public let infoHash: InfoHash
    public let peerID: PeerID
    public let configuration: Configuration
    private var phase: Phase = .idle
    private var nextAnnounce: ContinuousClock.Instant?
    private var awaitingOffers = false
    private var pendingOffers: [WebRTCOfferID: ContinuousClock.Instant] = [:]
    private var completedPending = false
    private var completedSent = false
    /// Closes since the last announce reply (the back-off's n).
    private var failures = 0

    public init(infoHash: InfoHash, peerID: PeerID, configuration: Configuration = Configuration()) {
        self.infoHash = infoHash
        self.peerID = peerID
        self.configuration = configuration
    }

    /// Offers sent and not yet answered, expired or dropped.
    public var pendingOfferIDs: Set<WebRTCOfferID> { Set(pendingOffers.keys) }

    /// Asks for the first connection. Calling it again does nothing.
    public mutating func start(now: ContinuousClock.Instant) -> [Action] {
        guard phase == .idle else { return [] }
        phase = .connecting
        return [.connect]
    }

    /// The socket is open: `completed` if it is owed, then `started` with offers.
    public mutating func connected(transfer: Transfer, now: ContinuousClock.Instant) -> [Action] {
        guard phase == .connecting else { return [.ignored("connected while not connecting")] }
        phase = .connected
        var actions = completedPending ? sendCompleted(transfer: transfer) : []
        actions += requestOffers()
        nextEvent = .started
        return actions
    }

    /// The event the next offer announce carries: `started` first on each connection, then none.
    private var nextEvent: AnnounceEvent = .started

    /// The engine's offers for the last ``Action/makeOffers(count:)``; sends the announce.
    public mutating func offersMade(_ offers: [WebRTCOffer], transfer: Transfer,
                                    now: ContinuousClock.Instant) -> [Action] {
        guard phase == .connected, awaitingOffers else {
            return offers.map { .dropOffer($0.offerID) } + [.ignored("offers arrived while no announce waits for them")]
        }
        awaitingOffers = false
        let announce = WebSocketTrackerAnnounce(infoHash: infoHash, peerID: peerID,
                                                numWant: configuration.offersPerAnnounce,
                                                uploaded: transfer.uploaded, downloaded: transfer.downloaded,
                                                left: transfer.left, event: nextEvent, offers: offers)
        let text: String
        do {
            text = try announce.encoded()
        } catch {
            nextAnnounce = now + configuration.minimumInterval
            return offers.map { .dropOffer($0.offerID) } + [.ignored("announce not sent: \(error)")] + timer()
        }
        nextEvent = .none
        for offer in offers { pendingOffers[offer.offerID] = now + configuration.offerTimeout }
        // Until a reply names an interval, the default keeps us announcing.
        nextAnnounce = now + configuration.defaultInterval
        return [.send(text)] + timer()
    }

    /// We became a seed: `completed` once, now or on the next connection.
    public mutating func completed(transfer: Transfer, now: ContinuousClock.Instant) -> [Action] {
        guard !completedSent, phase != .stopped else { return [] }
        guard phase == .connected else {
            completedPending = true
            return []
        }
        return sendCompleted(transfer: transfer)
    }

    /// We leave the swarm: drop our offers, say `stopped` if connected, close.
    public mutating func stop(transfer: Transfer, now: ContinuousClock.Instant) -> [Action] {
        guard phase != .stopped else { return [] }
        var actions = dropAllOffers()
        if phase == .connected {
            let announce = WebSocketTrackerAnnounce(infoHash: infoHash, peerID: peerID,
                                                    numWant: configuration.offersPerAnnounce,
                                                    uploaded: transfer.uploaded, downloaded: transfer.downloaded,
                                                    left: transfer.left, event: .stopped, offers: [])
            if let text = try? announce.encoded() { actions.append(.send(text)) }
        }
        phase = .stopped
        nextAnnounce = nil
        awaitingOffers = false
        return actions + [.close]
    }

    /// A text frame from the tracker.
    public mutating func received(_ text: String, now: ContinuousClock.Instant) -> [Action] {
        guard phase == .connected else { return [.ignored("message while not connected")] }
        let message: WebSocketTrackerMessage
        do {
            message = try WebSocketTrackerMessage(decoding: text)
        } catch {
            return [.ignored(error.description)]
        }
        switch message {
        case .failure(let reason, let hash):
            if let hash, hash != infoHash { return [.ignored("failure for another torrent \(hash)")] }
            return [.trackerSaid("tracker refused: \(reason)")]
        case .announceReply(let reply):
            guard reply.infoHash == infoHash else { return [.ignored("reply for another torrent \(reply.infoHash)")] }
            failures = 0
            let seconds = reply.interval ?? reply.minInterval
            let interval = seconds.map { Duration.seconds($0) } ?? configuration.defaultInterval
            nextAnnounce = now + max(interval, configuration.minimumInterval)
            return (reply.warning.map { [.trackerSaid("tracker warns: \($0)")] } ?? []) + timer()
        case .offer(let offer):
            guard offer.infoHash == infoHash else { return [.ignored("offer for another torrent \(offer.infoHash)")] }
            guard offer.peerID != peerID else { return [.ignored("our own offer relayed back")] }
            return [.answerOffer(offer)]
        case .answer(let answer):
            guard answer.infoHash == infoHash else { return [.ignored("answer for another torrent \(answer.infoHash)")] }
            guard pendingOffers.removeValue(forKey: answer.offerID) != nil else {
                return [.ignored("answer from \(answer.peerID) to offer \(answer.offerID), which is not pending (expired or never ours)")]
            }
            return [.acceptAnswer(offerID: answer.offerID, from: answer.peerID, sdp: answer.sdp)] + timer()
        case .scrapeReply:
            return [.ignored("scrape reply, which we did not ask for")]
        }
    }

    /// Our answer SDP for an offer from ``Action/answerOffer(_:)``.
    public mutating func answer(_ offer: WebSocketTrackerMessage.RelayedDescription, sdp: String,
                                now: ContinuousClock.Instant) -> [Action] {
        guard phase == .connected else { return [.ignored("answer made while not connected")] }
        let answer = WebSocketTrackerAnswer(infoHash: infoHash, peerID: peerID, toPeerID: offer.peerID,
                                            offerID: offer.offerID, sdp: sdp)
        do {
            return [.send(try answer.encoded())]
        } catch {
            return [.ignored("answer not sent: \(error)")]
        }
    }

    /// The socket closed or could not open: drop its offers and wait before reconnecting.
    public mutating func disconnected(now: ContinuousClock.Instant) -> [Action] {
        guard phase == .connected || phase == .connecting else { return [] }
        let actions = dropAllOffers()
        awaitingOffers = false
        nextAnnounce = nil
        phase = .waitingToReconnect(until: now + reconnectDelay())
        failures += 1
        return actions + timer()
    }

    /// The wait before the next reconnect, from the number of closes since the last reply.
    public func reconnectDelay() -> Duration {
        var delay = configuration.reconnectMinimum
        for _ in 0..<min(failures, 32) where delay < configuration.reconnectMaximum { delay *= 2 }
        return min(delay, configuration.reconnectMaximum)
    }

    /// The timer set by the last ``Action/waitUntil(_:)``: expired offers, a due announce or reconnect.
    public mutating func timerFired(now: ContinuousClock.Instant) -> [Action] {
        var actions: [Action] = []
        for (offerID, deadline) in pendingOffers.sorted(by: { $0.value < $1.value }) where deadline <= now {
            pendingOffers[offerID] = nil
            actions.append(.dropOffer(offerID))
        }
        switch phase {
        case .waitingToReconnect(let until) where until <= now:
            phase = .connecting
            actions.append(.connect)
        case .connected:
            if let due = nextAnnounce, due <= now, !awaitingOffers {
                nextAnnounce = nil
                actions += requestOffers()
            }
        default:
            break
        }
        return actions + timer()
    }

    private mutating func requestOffers() -> [Action] {
        awaitingOffers = true
        return [.makeOffers(count: configuration.offersPerAnnounce)]
    }

    private mutating func sendCompleted(transfer: Transfer) -> [Action] {
        completedPending = false
        completedSent = true
        let announce = WebSocketTrackerAnnounce(infoHash: infoHash, peerID: peerID,
                                                numWant: configuration.offersPerAnnounce,
                                                uploaded: transfer.uploaded, downloaded: transfer.downloaded,
                                                left: transfer.left, event: .completed, offers: [])
        guard let text = try? announce.encoded() else { return [] }
        return [.send(text)]
    }

    private mutating func dropAllOffers() -> [Action] {
        let dropped = pendingOffers.sorted { $0.value < $1.value }.map { Action.dropOffer($0.key) }
        pendingOffers = [:]
        return dropped
    }

    /// The single timer at the earliest instant anything is due, if anything is.
    private func timer() -> [Action] {
        var deadlines = Array(pendingOffers.values)
        if phase == .connected, !awaitingOffers, let nextAnnounce { deadlines.append(nextAnnounce) }
        if case .waitingToReconnect(let until) = phase { deadlines.append(until) }
        return deadlines.min().map { [.waitUntil($0)] } ?? []
    }
}
