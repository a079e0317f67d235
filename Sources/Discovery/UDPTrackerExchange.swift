/// One announce to a UDP tracker (BEP 15) as a state machine: bytes and instants in,
/// actions out. The engine owns the socket and the timer and performs the actions;
/// this type never reads the clock.
///
/// The flow is connect → announce, or straight to announce with a cached connection
/// id younger than its lifetime. Each request is retransmitted when no answer arrives
/// in `baseTimeout · 2ⁿ`, n counting this request's retransmissions (capped at 8 as in
/// BEP 15). n starts again at 0 when the connect response arrives, except when the
/// connection id expired during announce retries and we had to reconnect: then it keeps
/// counting, so a tracker that answers connects but never announces still ends the
/// exchange. After `maxRetransmissions` unanswered retransmissions it fails with
/// ``TrackerError/timeout(request:attempts:)``.
///
/// Datagrams that do not decode, or carry a transaction id other than the one of the
/// request in flight, are ignored: on UDP anyone can send us anything, and a stray or
/// forged packet must not end an exchange. A tracker's `error` response ends it with
/// ``TrackerError/failure(reason:)``.
public struct UDPTrackerExchange: Sendable {
    public struct Configuration: Sendable, Equatable {
        /// The first timeout; BEP 15 says 15 s.
        public var baseTimeout: Duration
        /// How many times one request is sent again before giving up. BEP 15 goes up to
        /// 8 (over two hours in all); memofs has other trackers and the DHT to turn to, so
        /// it stops after 2: 15 + 30 + 60 s, under two minutes per phase.
        public var maxRetransmissions: Int
        /// How long a connection id may be used after it was obtained.
        public var connectionLifetime: Duration

        public init(baseTimeout: Duration = .seconds(15), maxRetransmissions: Int = 2,
                    connectionLifetime: Duration = UDPTrackerConnection.defaultLifetime) {
            precondition(maxRetransmissions >= 0, "maxRetransmissions must not be negative")
            self.baseTimeout = baseTimeout
            self.maxRetransmissions = maxRetransmissions
            self.connectionLifetime = connectionLifetime
        }
    }

    /// What the engine should do next, in order.
    public enum Action: Sendable, Equatable {
        /// Send this datagram to the tracker.
        case send([UInt8])
        /// (Re)arm the exchange's single timer; call ``timerFired(now:)`` at that instant.
        case waitUntil(ContinuousClock.Instant)
        /// Done: the response, and the connection id to cache for the next announce.
        case finished(AnnounceResponse, connection: UDPTrackerConnection)
        /// Done without a response.
        case failed(TrackerError)
    }

    private enum State: Sendable {
        case idle
        case connecting(transactionID: UInt32, datagram: [UInt8], deadline: ContinuousClock.Instant)
        case announcing(connection: UDPTrackerConnection, transactionID: UInt32, datagram: [UInt8],
                        deadline: ContinuousClock.Instant)
        case done
    }

    public let request: AnnounceRequest
    public let peerAddressLength: Int
    public let configuration: Configuration
    private let cachedConnection: UDPTrackerConnection?
    private var transactionIDs: TransactionIDs
    private var state: State = .idle
    /// Retransmissions of the request in flight (BEP 15's n).
    private var retransmissions = 0
    /// Set when a connection id expired mid-announce, so the reconnect does not reset n.
    private var reconnecting = false

    /// - Parameters:
    ///   - cachedConnection: the id from an earlier exchange with this tracker, used when
    ///     still within `configuration.connectionLifetime` at ``start(now:)``.
    ///   - peerAddressLength: 6 if the tracker's address is IPv4, 18 if IPv6.
    ///   - random: one value is drawn from it to seed the transaction ids.
    public init(request: AnnounceRequest, cachedConnection: UDPTrackerConnection?, peerAddressLength: Int,
                configuration: Configuration = Configuration(), random: inout some RandomNumberGenerator) {
        precondition(peerAddressLength == 6 || peerAddressLength == 18, "peer entries are 6 or 18 bytes")
        self.request = request
        self.cachedConnection = cachedConnection
        self.peerAddressLength = peerAddressLength
        self.configuration = configuration
        self.transactionIDs = TransactionIDs(seed: random.next())
    }

    /// Whether the exchange has finished or failed; it then ignores every further input.
    public var isDone: Bool {
        if case .done = state { return true }
        return false
    }

    /// Sends the first request. Calling it again does nothing.
    public mutating func start(now: ContinuousClock.Instant) -> [Action] {
        guard case .idle = state else { return [] }
        if let cachedConnection, cachedConnection.isUsable(at: now, lifetime: configuration.connectionLifetime) {
            return sendAnnounce(on: cachedConnection, now: now)
        }
        return sendConnect(now: now)
    }

    /// Handles a datagram from the tracker's address.
    public mutating func receive(_ datagram: [UInt8], now: ContinuousClock.Instant) -> [Action] {
        guard let response = try? UDPTrackerResponse(decoding: datagram, peerAddressLength: peerAddressLength)
        else { return [] }
        switch (state, response) {
        case (.connecting(let expected, _, _), .connect(let id, let connectionID)) where id == expected:
            if !reconnecting { retransmissions = 0 }
            reconnecting = false
            return sendAnnounce(on: UDPTrackerConnection(id: connectionID, obtained: now), now: now)
        case (.announcing(let connection, let expected, _, _),
              .announce(let id, let interval, let leechers, let seeders, let peers)) where id == expected:
            state = .done
            let response = AnnounceResponse(interval: AnnounceResponse.clampInterval(Int64(interval)),
                                            peers: peers,
                                            seeders: seeders >= 0 ? seeders : nil,
                                            leechers: leechers >= 0 ? leechers : nil)
            return [.finished(response, connection: connection)]
        case (.connecting(let expected, _, _), .error(let id, let message)) where id == expected,
             (.announcing(_, let expected, _, _), .error(let id, let message)) where id == expected:
            state = .done
            return [.failed(.failure(reason: message))]
        default:
            return []
        }
    }

    /// Handles the timer set by the last ``Action/waitUntil(_:)``. A call before that
    /// instant (a timer that fired early) only re-arms it.
    public mutating func timerFired(now: ContinuousClock.Instant) -> [Action] {
        switch state {
        case .idle, .done:
            return []
        case .connecting(_, let datagram, let deadline):
            if now < deadline { return [.waitUntil(deadline)] }
            if let failure = giveUpIfExhausted(request: "connect") { return failure }
            retransmissions += 1
            return send(datagram, now: now) { .connecting(transactionID: $0, datagram: datagram, deadline: $1) }
        case .announcing(let connection, _, let datagram, let deadline):
            if now < deadline { return [.waitUntil(deadline)] }
            if let failure = giveUpIfExhausted(request: "announce") { return failure }
            retransmissions += 1
            if !connection.isUsable(at: now, lifetime: configuration.connectionLifetime) {
                reconnecting = true
                return sendConnect(now: now)
            }
            return send(datagram, now: now) {
                .announcing(connection: connection, transactionID: $0, datagram: datagram, deadline: $1)
            }
        }
    }

    private mutating func giveUpIfExhausted(request: String) -> [Action]? {
        guard retransmissions >= configuration.maxRetransmissions else { return nil }
        state = .done
        return [.failed(.timeout(request: request, attempts: retransmissions + 1))]
    }

    private var timeout: Duration {
        configuration.baseTimeout * (1 << min(retransmissions, 8))
    }

    private mutating func sendConnect(now: ContinuousClock.Instant) -> [Action] {
        let transactionID = transactionIDs.next()
        let datagram = UDPTrackerMessage.connectRequest(transactionID: transactionID)
        let deadline = now.advanced(by: timeout)
        state = .connecting(transactionID: transactionID, datagram: datagram, deadline: deadline)
        return [.send(datagram), .waitUntil(deadline)]
    }

    private mutating func sendAnnounce(on connection: UDPTrackerConnection, now: ContinuousClock.Instant) -> [Action] {
        let transactionID = transactionIDs.next()
        let datagram = UDPTrackerMessage.announceRequest(connectionID: connection.id, transactionID: transactionID,
                                                         request: request)
        let deadline = now.advanced(by: timeout)
        state = .announcing(connection: connection, transactionID: transactionID, datagram: datagram,
                            deadline: deadline)
        return [.send(datagram), .waitUntil(deadline)]
    }

    /// Retransmits the request in flight with the same transaction id, so a late answer
    /// to an earlier copy is still accepted.
    private mutating func send(_ datagram: [UInt8], now: ContinuousClock.Instant,
                               state makeState: (UInt32, ContinuousClock.Instant) -> State) -> [Action] {
        let transactionID = datagram.readBigEndian(UInt32.self, at: 12)
        let deadline = now.advanced(by: timeout)
        state = makeState(transactionID, deadline)
        return [.send(datagram), .waitUntil(deadline)]
    }
}
