import Discovery
import Logging
import NIOConcurrencyHelpers
import NIOCore
import TorrentModel

/// One torrent as a WebSocket tracker client sees it: where its byte counts come from and
/// where its tracker status goes.
public struct WebSocketTrackerTorrent: Sendable {
    public let infoHash: InfoHash
    /// Byte counts for the next announce, read as it is sent.
    public let transfer: @Sendable () async -> WebSocketTrackerAnnouncer.Transfer
    /// The tracker's state for this torrent in words ("ws://…/announce: closed by the tracker"),
    /// or nil once the tracker answers an announce. Called on the client's actor, in order:
    /// keep it quick (store the text).
    public let statusChanged: @Sendable (String?) -> Void
    /// The swarm as the tracker counts it, from its scrape and announce replies. Called on the
    /// client's actor: keep it quick.
    public let swarmChanged: @Sendable (WebSocketTrackerSwarm) -> Void

    public init(infoHash: InfoHash, transfer: @escaping @Sendable () async -> WebSocketTrackerAnnouncer.Transfer,
                statusChanged: @escaping @Sendable (String?) -> Void,
                swarmChanged: @escaping @Sendable (WebSocketTrackerSwarm) -> Void = { _ in }) {
        self.infoHash = infoHash
        self.transfer = transfer
        self.statusChanged = statusChanged
        self.swarmChanged = swarmChanged
    }
}

/// A torrent's swarm as a tracker counts it: peers with the whole torrent, and the others.
public struct WebSocketTrackerSwarm: Equatable, Sendable, Codable {
    public var seeders: Int64
    public var leechers: Int64

    public init(seeders: Int64, leechers: Int64) {
        self.seeders = seeders
        self.leechers = leechers
    }
}

/// The socket side of one WebTorrent tracker URL, for every torrent announced to it: like
/// WebTorrent, one WebSocket per tracker URL, shared by all torrents. Each torrent has its own
/// ``WebSocketTrackerAnnouncer`` (Discovery), whose actions this actor carries out: it opens
/// the socket when any announcer asks, tells every announcer when it opens or closes (so each
/// backs off on its own, and the first due reconnects for all), routes each message by its
/// info hash, and passes offers and answers through ``WebRTCSignaling``. Timers read the
/// session's ``EngineClock``; the socket's own pings and timeouts are real time.
public actor WebSocketTrackerClient {
    public nonisolated let url: WebSocketTrackerURL
    private let peerID: PeerID
    private let signaling: any WebRTCSignaling
    private let group: EventLoopGroup
    private let clock: EngineClock
    private let options: WebSocketTrackerConnectionOptions
    private let configuration: WebSocketTrackerAnnouncer.Configuration
    private let logger: Logger
    /// How often due announcer timers are looked for (real time; the instants are the clock's).
    private let tickInterval: Duration

    private struct Entry {
        var announcer: WebSocketTrackerAnnouncer
        let torrent: WebSocketTrackerTorrent
        var timer: ContinuousClock.Instant?
        /// Asked to connect while no socket was open.
        var wantsSocket = false
        var status: String?
        var swarm: WebSocketTrackerSwarm?
    }

    private var entries: [InfoHash: Entry] = [:]
    private var connection: WebSocketTrackerConnection?
    private var isConnecting = false
    private var ticker: Task<Void, Never>?
    /// Sockets opened so far (reconnects included).
    private(set) var connectionsOpened = 0
    /// The last inputs not acted on, with the reason, newest last (for logs and tests).
    private(set) var ignored: [String] = []
    /// Messages received from the tracker so far (for tests: a reply has been taken in).
    private(set) var messagesReceived = 0

    public init(url: WebSocketTrackerURL, peerID: PeerID, signaling: any WebRTCSignaling, group: EventLoopGroup,
                clock: EngineClock = .continuous, options: WebSocketTrackerConnectionOptions = .init(),
                configuration: WebSocketTrackerAnnouncer.Configuration = .init(), logger: Logger,
                tickInterval: Duration = .milliseconds(250)) {
        self.url = url
        self.peerID = peerID
        self.signaling = signaling
        self.group = group
        self.clock = clock
        self.options = options
        self.configuration = configuration
        self.logger = logger
        self.tickInterval = tickInterval
    }

    /// Starts announcing `torrent` here (`started` with offers once the socket is open).
    public func add(_ torrent: WebSocketTrackerTorrent) {
        guard entries[torrent.infoHash] == nil else { return }
        var announcer = WebSocketTrackerAnnouncer(infoHash: torrent.infoHash, peerID: peerID, configuration: configuration)
        let actions = announcer.start(now: clock.now)
        entries[torrent.infoHash] = Entry(announcer: announcer, torrent: torrent)
        startTicker()
        perform(actions, for: torrent.infoHash)
    }

    /// The torrent became a seed: `completed`, now or on the next connection.
    public func completed(_ infoHash: InfoHash) async {
        guard let torrent = entries[infoHash]?.torrent else { return }
        let transfer = await torrent.transfer()
        guard entries[infoHash] != nil else { return }
        let actions = entries[infoHash]!.announcer.completed(transfer: transfer, now: clock.now)
        perform(actions, for: infoHash)
    }

    /// Stops announcing the torrent (`stopped` if connected); the socket closes with the last one.
    public func remove(_ infoHash: InfoHash) async {
        guard let torrent = entries[infoHash]?.torrent else { return }
        let transfer = await torrent.transfer()
        guard entries[infoHash] != nil else { return }
        let actions = entries[infoHash]!.announcer.stop(transfer: transfer, now: clock.now)
        perform(actions, for: infoHash)
    }

    /// Stops every torrent and closes the socket.
    public func shutdown() async {
        for infoHash in Array(entries.keys) { await remove(infoHash) }
        connection?.close()
        connection = nil
        ticker?.cancel()
        ticker = nil
    }

    /// The status last reported for the torrent (see ``WebSocketTrackerTorrent/statusChanged``).
    public func status(of infoHash: InfoHash) -> String? { entries[infoHash]?.status }

    /// The swarm as the tracker last counted it for the torrent.
    public func swarm(of infoHash: InfoHash) -> WebSocketTrackerSwarm? { entries[infoHash]?.swarm }

    /// Asks the tracker for the swarm counts of every torrent on this socket, in one message.
    public func scrape() {
        guard let connection, !entries.isEmpty else { return }
        connection.send(WebSocketTrackerScrape(infoHashes: entries.keys.sorted { $0.hex < $1.hex }).encoded())
    }

    /// Whether a socket is open now.
    var isConnected: Bool { connection != nil }

    // MARK: Carrying out the announcers' actions

    private func perform(_ actions: [WebSocketTrackerAnnouncer.Action], for infoHash: InfoHash) {
        let signaling = self.signaling
        for action in actions {
            switch action {
            case .connect:
                if connection != nil {
                    Task { await self.announceConnected(infoHash) }
                } else {
                    entries[infoHash]?.wantsSocket = true
                    openSocket()
                }
            case .makeOffers(let count):
                Task {
                    let offers = await signaling.makeOffers(count: count, infoHash: infoHash)
                    await self.offersMade(offers, for: infoHash)
                }
            case .send(let text):
                connection?.send(text)
            case .dropOffer(let offerID):
                Task { await signaling.dropOffer(offerID, infoHash: infoHash) }
            case .acceptAnswer(let offerID, let peer, let sdp):
                Task { await signaling.accept(answerSDP: sdp, offerID: offerID, from: peer, infoHash: infoHash) }
            case .answerOffer(let offer):
                Task {
                    do {
                        let sdp = try await signaling.answer(offer: offer)
                        self.answered(offer, sdp: sdp, for: infoHash)
                    } catch {
                        self.note("no answer to \(offer.peerID)'s offer \(offer.offerID): \(error)")
                    }
                }
            case .waitUntil(let instant):
                entries[infoHash]?.timer = instant
            case .trackerSaid(let text):
                logger.info("\(url): \(text)")
            case .ignored(let reason):
                note(reason)
            case .close:
                entries[infoHash] = nil
                if entries.isEmpty {
                    // Forgotten at once: a torrent added before the close is reported gets a new socket.
                    connection?.close()
                    connection = nil
                    ticker?.cancel()
                    ticker = nil
                }
            }
        }
    }

    private func announceConnected(_ infoHash: InfoHash) async {
        guard let torrent = entries[infoHash]?.torrent else { return }
        let transfer = await torrent.transfer()
        guard connection != nil, entries[infoHash] != nil else { return }
        perform(entries[infoHash]!.announcer.connected(transfer: transfer, now: clock.now), for: infoHash)
    }

    private func offersMade(_ offers: [WebRTCOffer], for infoHash: InfoHash) async {
        guard let torrent = entries[infoHash]?.torrent else {
            for offer in offers { await signaling.dropOffer(offer.offerID, infoHash: infoHash) }
            return
        }
        let transfer = await torrent.transfer()
        guard entries[infoHash] != nil else {
            for offer in offers { await signaling.dropOffer(offer.offerID, infoHash: infoHash) }
            return
        }
        perform(entries[infoHash]!.announcer.offersMade(offers, transfer: transfer, now: clock.now), for: infoHash)
    }

    private func answered(_ offer: WebSocketTrackerMessage.RelayedDescription, sdp: String, for infoHash: InfoHash) {
        guard entries[infoHash] != nil else { return }
        perform(entries[infoHash]!.announcer.answer(offer, sdp: sdp, now: clock.now), for: infoHash)
    }

    // MARK: The socket

    private func openSocket() {
        guard connection == nil, !isConnecting else { return }
        isConnecting = true
        let (url, options, group) = (self.url, self.options, self.group)
        Task {
            do throws(WebSocketTrackerConnectionError) {
                let opened = try await WebSocketTrackerConnection.connect(to: url, options: options, group: group)
                self.socketOpened(opened)
            } catch {
                self.socketFailed(error)
            }
        }
    }

    private func socketOpened(_ opened: WebSocketTrackerConnection) {
        isConnecting = false
        guard !entries.isEmpty else {
            opened.close()
            return
        }
        connection = opened
        connectionsOpened += 1
        logger.debug("\(url): connected")
        Task {
            for await event in opened.events { self.handle(event, from: opened) }
        }
        scrape()
        for infoHash in entries.keys where entries[infoHash]!.wantsSocket {
            entries[infoHash]!.wantsSocket = false
            Task { await self.announceConnected(infoHash) }
        }
    }

    private func socketFailed(_ error: WebSocketTrackerConnectionError) {
        isConnecting = false
        logger.info("\(url): \(error)")
        for infoHash in Array(entries.keys) where entries[infoHash]!.wantsSocket {
            entries[infoHash]!.wantsSocket = false
            setStatus("\(url): \(error)", for: infoHash)
            perform(entries[infoHash]!.announcer.disconnected(now: clock.now), for: infoHash)
        }
    }

    private func handle(_ event: WebSocketTrackerConnection.Event, from socket: WebSocketTrackerConnection) {
        guard socket === connection else { return }
        switch event {
        case .text(let text):
            route(text)
        case .closed(let error):
            connection = nil
            if error != .closedByUs { logger.info("\(url): \(error)") }
            for infoHash in Array(entries.keys) {
                if error != .closedByUs { setStatus("\(url): \(error)", for: infoHash) }
                perform(entries[infoHash]!.announcer.disconnected(now: clock.now), for: infoHash)
            }
        }
    }

    /// Hands a message to the announcer of the torrent it names. A message that does not parse,
    /// or a failure naming no torrent, is every torrent's status: the socket is theirs together.
    private func route(_ text: String) {
        messagesReceived += 1
        let message: WebSocketTrackerMessage
        do {
            message = try WebSocketTrackerMessage(decoding: text)
        } catch {
            note(error.description)
            for infoHash in entries.keys { setStatus("\(url): \(error)", for: infoHash) }
            return
        }
        let infoHash: InfoHash
        switch message {
        case .failure(let reason, nil):
            for infoHash in entries.keys { setStatus("\(url): failure reason: \(reason)", for: infoHash) }
            return
        case .failure(let reason, let hash?):
            if entries[hash] != nil { setStatus("\(url): failure reason: \(reason)", for: hash) }
            infoHash = hash
        case .announceReply(let reply):
            if entries[reply.infoHash] != nil { setStatus(nil, for: reply.infoHash) }
            if let complete = reply.complete, let incomplete = reply.incomplete {
                setSwarm(WebSocketTrackerSwarm(seeders: complete, leechers: incomplete), for: reply.infoHash)
            }
            infoHash = reply.infoHash
        case .offer(let relayed), .answer(let relayed):
            infoHash = relayed.infoHash
        case .scrapeReply(let entries):
            for entry in entries {
                guard let complete = entry.complete, let incomplete = entry.incomplete else { continue }
                setSwarm(WebSocketTrackerSwarm(seeders: complete, leechers: incomplete), for: entry.infoHash)
            }
            return
        }
        guard entries[infoHash] != nil else {
            note("message for info hash \(infoHash), which is not announced on this tracker")
            return
        }
        perform(entries[infoHash]!.announcer.received(text, now: clock.now), for: infoHash)
    }

    // MARK: Timers, status, notes

    private func startTicker() {
        guard ticker == nil else { return }
        let interval = tickInterval
        ticker = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                guard let self else { return }
                await self.fireDueTimers()
            }
        }
    }

    private func fireDueTimers() {
        let now = clock.now
        for infoHash in Array(entries.keys) {
            guard let due = entries[infoHash]?.timer, due <= now else { continue }
            entries[infoHash]!.timer = nil
            perform(entries[infoHash]!.announcer.timerFired(now: now), for: infoHash)
        }
    }

    private func setSwarm(_ swarm: WebSocketTrackerSwarm, for infoHash: InfoHash) {
        guard entries[infoHash] != nil, entries[infoHash]!.swarm != swarm else { return }
        entries[infoHash]!.swarm = swarm
        entries[infoHash]!.torrent.swarmChanged(swarm)
    }

    private func setStatus(_ status: String?, for infoHash: InfoHash) {
        guard let entry = entries[infoHash], entry.status != status else { return }
        entries[infoHash]!.status = status
        entry.torrent.statusChanged(status)
    }

    private func note(_ reason: String) {
        logger.debug("\(url): ignored: \(reason)")
        ignored.append(reason)
        if ignored.count > 32 { ignored.removeFirst(ignored.count - 32) }
    }
}
