import PeerProtocol

/// The protocol bookkeeping of one connected peer that does not depend on its connection
/// or on the torrent: choke and interest both ways, the fast extension's rules, its timers,
/// rates and request pipeline depth, snubbing, and the accounting of rejects, cancels and
/// blocks nobody asked for. A value type in the manner
/// of Discovery's state machines: events and ticks in, actions out; time is passed in,
/// so every limit is tested without a channel, a clock or an actor.
///
/// (Part of issue 14's `PeerSession`: what a peer has (bitfields, haves), extension
/// messages and blocks are still handled in `Torrent+Messages`.)
struct PeerSession: Sendable {
    /// What the torrent must do for this peer.
    enum Action: Equatable, Sendable {
        case sendKeepAlive
        /// It sent nothing we asked for in `timeouts.snub` while unchoking us: its requests
        /// go back to the pool, and it gets one request at a time until a block comes.
        case snub
        /// It choked us and, with the fast extension, still holds our requests without
        /// rejecting them: they go back to the pool.
        case dropRequests
        case detach(reason: String)
        /// It broke the protocol: cut it off for good.
        case ban(reason: String)
        /// It became interested while we choke it: unchoke it if an upload slot is free.
        case offerUploadSlot
        /// It lost interest while we unchoke it: its upload slot goes back.
        case choke
    }

    let supportsFast: Bool
    private(set) var amChoking = true
    private(set) var amInterested = false
    private(set) var peerChoking = true
    private(set) var peerInterested = false

    /// Rejects in a row (not answers to our cancels) after which a peer is dropped: it
    /// refuses everything we ask.
    static let rejectsBeforeDropping = 200
    /// Blocks nobody asked for (late, or never requested) after which a peer is dropped.
    static let unrequestedBlocksBeforeDropping = 100
    /// The request pipeline's depth: at least this many blocks in flight.
    static let minimumQueueDepth = 32
    /// At most this many in flight, whatever the peer's `reqq` says.
    static let maximumQueueDepth = 1000

    var queueDepth = PeerSession.minimumQueueDepth
    private(set) var snubbed = false
    private(set) var lastBlockAt: ContinuousClock.Instant
    private(set) var lastReceivedAt: ContinuousClock.Instant
    private(set) var lastSentAt: ContinuousClock.Instant

    /// Payload bytes since the last tick, and smoothed rates in bytes per second.
    private(set) var downloadedThisTick = 0
    private(set) var uploadedThisTick = 0
    private(set) var downloadRate: Double = 0
    private(set) var uploadRate: Double = 0
    private(set) var downloadedTotal: Int64 = 0
    private(set) var uploadedTotal: Int64 = 0

    private(set) var rejectsInARow = 0
    private(set) var unrequestedBlocks = 0
    /// Requests we cancelled and how many times (a block may be asked for and cancelled
    /// again before the first answer comes): the rejects a fast-extension peer answers
    /// them with are not refusals (see `Torrent.cancelRequestsNobodyWaitsFor`).
    private(set) var cancelledRequests: [BlockRequest: Int] = [:]

    init(now: ContinuousClock.Instant, supportsFast: Bool) {
        self.supportsFast = supportsFast
        lastBlockAt = now
        lastReceivedAt = now
        lastSentAt = now
    }

    // MARK: choke and interest

    /// What a choke, unchoke, interested or not-interested message changes, and the fast
    /// extension's rule that only a peer that announced it may send its messages; nil for
    /// any other message (the torrent handles those).
    mutating func received(_ message: PeerMessage) -> [Action]? {
        switch message {
        case .choke:
            peerChoking = true
            // Without the fast extension a choke drops every request; with it, the peer
            // rejects them one by one.
            return supportsFast ? [] : [.dropRequests]
        case .unchoke:
            peerChoking = false
            return []
        case .interested:
            peerInterested = true
            return amChoking ? [.offerUploadSlot] : []
        case .notInterested:
            peerInterested = false
            return amChoking ? [] : [.choke]
        case .haveAll, .haveNone, .rejectRequest, .allowedFast:
            guard supportsFast else { return [.ban(reason: "\(message.fastExtensionName) without the fast extension")] }
            return nil
        default:
            return nil
        }
    }

    /// Sets whether we choke the peer; whether that changed anything (a message to send).
    mutating func setAmChoking(_ choking: Bool) -> Bool {
        defer { amChoking = choking }
        return amChoking != choking
    }

    /// Sets whether we are interested in the peer; whether that changed anything.
    mutating func setAmInterested(_ interested: Bool) -> Bool {
        defer { amInterested = interested }
        return amInterested != interested
    }

    // MARK: events

    mutating func receivedSomething(now: ContinuousClock.Instant) { lastReceivedAt = now }
    mutating func sentSomething(now: ContinuousClock.Instant) { lastSentAt = now }

    /// We asked for blocks with none in flight: the snub clock starts now, not at the last block.
    mutating func startedWaiting(now: ContinuousClock.Instant) { lastBlockAt = now }

    /// A block we asked for arrived; `inFlight` blocks are still asked of this peer and
    /// `requestLimit` is the most it takes at once (`PeerState.requestLimit`).
    mutating func blockArrived(bytes: Int, now: ContinuousClock.Instant, inFlight: Int, requestLimit: Int) {
        lastBlockAt = now
        snubbed = false
        rejectsInARow = 0
        downloadedThisTick += bytes
        downloadedTotal += Int64(bytes)
        // Slow start: one more request in flight for every block that arrives while the
        // pipeline is at least half full, so the depth doubles each round trip until it meets
        // the peer's reqq; the once-a-second rate estimate alone ramps up far too slowly for
        // a transfer that is over in a second.
        if queueDepth < min(requestLimit, Self.maximumQueueDepth), inFlight * 2 >= queueDepth {
            queueDepth += 1
        }
    }

    /// Any block that answers a request of ours, wanted or not any more: it answers a cancel too.
    mutating func answered(_ request: BlockRequest) {
        rejectsInARow = 0
        if !cancelledRequests.isEmpty { _ = settleCancel(of: request) }
    }

    /// A block nobody asked for (or asked for no longer); drops the peer past the limit.
    mutating func unrequestedBlockArrived() -> Action? {
        unrequestedBlocks += 1
        return unrequestedBlocks > Self.unrequestedBlocksBeforeDropping ? .detach(reason: "sends blocks nobody asked for") : nil
    }

    mutating func uploaded(bytes: Int) {
        uploadedThisTick += bytes
        uploadedTotal += Int64(bytes)
    }

    /// We cancelled `requests` (a seek jumps the queue): the rejects that answer them are
    /// not refusals, and the count of refusals starts again.
    mutating func cancelled(_ requests: [BlockRequest]) {
        // A peer that answers no cancel at all must not grow this without end.
        if cancelledRequests.count > Self.cancelsRemembered { cancelledRequests = [:] }
        for request in requests { cancelledRequests[request, default: 0] += 1 }
        rejectsInARow = 0
    }

    /// Cancels remembered at most per peer.
    static let cancelsRemembered = 4096

    /// A reject of one of our requests (BEP 6). While cancels are unanswered, rejects are
    /// their answers, in whatever order the peer sends them: none counts as a refusal.
    mutating func rejected(_ request: BlockRequest) -> Action? {
        if !settleCancel(of: request) && cancelledRequests.isEmpty {
            rejectsInARow += 1
            if rejectsInARow > Self.rejectsBeforeDropping { return .detach(reason: "rejects every request") }
        }
        return nil
    }

    /// Takes one cancel of `request` off the books; whether there was one.
    private mutating func settleCancel(of request: BlockRequest) -> Bool {
        guard let count = cancelledRequests[request] else { return false }
        cancelledRequests[request] = count > 1 ? count - 1 : nil
        return true
    }

    // MARK: time

    /// Once a second: rates, the pipeline's depth, and every timer. `inFlight` is how many
    /// blocks are asked of the peer, `peerChoking` whether it chokes us.
    mutating func tick(now: ContinuousClock.Instant, inFlight: Int, peerChoking: Bool, requestLimit: Int,
                       timeouts: EngineTimeouts) -> [Action] {
        // Smoothed rates: a quarter of the new second, three quarters of the past.
        downloadRate = downloadRate * 0.75 + Double(downloadedThisTick) * 0.25
        uploadRate = uploadRate * 0.75 + Double(uploadedThisTick) * 0.25
        let delivered = downloadedThisTick > 0
        downloadedThisTick = 0
        uploadedThisTick = 0
        // Keep about two seconds of the peer's rate in flight, as libtorrent does; while the
        // peer keeps delivering, the depth its blocks grew (see blockArrived) is kept.
        let wanted = Int(downloadRate * 2 / Double(PiecePicker.blockSize))
        let cap = min(requestLimit, Self.maximumQueueDepth)
        queueDepth = min(max(Self.minimumQueueDepth, wanted, delivered ? queueDepth : 0), max(1, cap))

        if now - lastReceivedAt > timeouts.silentPeer {
            return [.detach(reason: "silent for \(timeouts.silentPeer.components.seconds) s")]
        }
        var actions: [Action] = []
        if inFlight > 0, !peerChoking, !snubbed, now - lastBlockAt > timeouts.snub {
            snubbed = true
            actions.append(.snub)
        }
        // With the fast extension a choke keeps requests until the peer rejects them; one that
        // never does would hold them for good.
        if inFlight > 0, peerChoking, now - lastBlockAt > timeouts.requestsHeldByAChoke {
            actions.append(.dropRequests)
        }
        if now - lastSentAt > timeouts.keepAlive { actions.append(.sendKeepAlive) }
        return actions
    }
}

private extension PeerMessage {
    /// The BEP 6 name of a fast-extension message, for a ban's reason.
    var fastExtensionName: String {
        switch self {
        case .haveAll: "have_all"
        case .haveNone: "have_none"
        case .rejectRequest: "reject_request"
        case .allowedFast: "allowed_fast"
        default: "\(self)"
        }
    }
}
