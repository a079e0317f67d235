import TestSupport
@testable import Discovery
import Testing
import TorrentModel

/// The BEP 15 exchange driven with injected instants: no sockets, no sleeping.
@Suite struct UDPTrackerExchangeTests {
    let t0 = ContinuousClock.now

    func at(_ seconds: Int) -> ContinuousClock.Instant { t0.advanced(by: .seconds(seconds)) }

    func makeExchange(cached: UDPTrackerConnection? = nil, peerAddressLength: Int = 6,
                      configuration: UDPTrackerExchange.Configuration = .init(), seed: UInt64 = 1) -> UDPTrackerExchange {
        var random = SeededGenerator(seed: seed)
        return UDPTrackerExchange(request: sampleRequest(), cachedConnection: cached,
                                  peerAddressLength: peerAddressLength, configuration: configuration, random: &random)
    }

    /// The datagram in a `[.send, .waitUntil]` pair, checking the deadline.
    func sent(_ actions: [UDPTrackerExchange.Action], until deadline: ContinuousClock.Instant,
              sourceLocation: SourceLocation = #_sourceLocation) -> [UInt8] {
        guard actions.count == 2, case .send(let datagram) = actions[0], actions[1] == .waitUntil(deadline) else {
            Issue.record("expected send then waitUntil(\(deadline)), got \(actions)", sourceLocation: sourceLocation)
            return Array(repeating: 0, count: 16)
        }
        return datagram
    }

    func transactionID(_ datagram: [UInt8]) -> UInt32 { datagram.readBigEndian(UInt32.self, at: 12) }
    func isConnect(_ datagram: [UInt8]) -> Bool { datagram.count == 16 && Array(datagram[0..<8]) == be64(0x41727101980) }
    func isAnnounce(_ datagram: [UInt8], connectionID: UInt64) -> Bool {
        datagram.count == 98 && Array(datagram[0..<8]) == be64(connectionID) && Array(datagram[8..<12]) == be32(1)
    }

    func connectResponse(_ transactionID: UInt32, connectionID: UInt64) -> [UInt8] {
        be32(0) + be32(transactionID) + be64(connectionID)
    }

    func announceResponse(_ transactionID: UInt32, interval: UInt32 = 1800, leechers: Int32 = 2, seeders: Int32 = 3,
                          peers: [PeerAddress] = [ipv4(1, 2, 3, 4, port: 6881)]) -> [UInt8] {
        be32(1) + be32(transactionID) + be32(interval) + be32(UInt32(bitPattern: leechers))
            + be32(UInt32(bitPattern: seeders)) + compact(peers)
    }

    @Test func connectThenAnnounceThenFinished() {
        var exchange = makeExchange()
        let connect = sent(exchange.start(now: at(0)), until: at(15))
        #expect(isConnect(connect))
        let announce = sent(exchange.receive(connectResponse(transactionID(connect), connectionID: 0xABCD), now: at(1)),
                            until: at(16))
        #expect(isAnnounce(announce, connectionID: 0xABCD))
        #expect(announce == UDPTrackerMessage.announceRequest(connectionID: 0xABCD, transactionID: transactionID(announce),
                                                              request: sampleRequest()))
        #expect(transactionID(announce) != transactionID(connect))
        let done = exchange.receive(announceResponse(transactionID(announce)), now: at(2))
        #expect(done == [.finished(AnnounceResponse(interval: 1800, peers: [ipv4(1, 2, 3, 4, port: 6881)],
                                                    seeders: 3, leechers: 2),
                                   connection: UDPTrackerConnection(id: 0xABCD, obtained: at(1)))])
        #expect(exchange.isDone)
        #expect(exchange.receive(announceResponse(transactionID(announce)), now: at(3)) == [])
        #expect(exchange.timerFired(now: at(100)) == [])
        #expect(exchange.start(now: at(100)) == [])
    }

    @Test func timeoutsDoubleThenFail() {
        var exchange = makeExchange()
        let connect = sent(exchange.start(now: at(0)), until: at(15))
        #expect(sent(exchange.timerFired(now: at(15)), until: at(45)) == connect, "same request, same transaction id")
        #expect(sent(exchange.timerFired(now: at(45)), until: at(105)) == connect)
        #expect(exchange.timerFired(now: at(105)) == [.failed(.timeout(request: "connect", attempts: 3))])
        #expect(exchange.isDone)
        #expect(TrackerError.timeout(request: "connect", attempts: 3).description
            == "UDP tracker did not answer the connect request after 3 attempts")
    }

    @Test func retryLimitIsAParameter() {
        var none = makeExchange(configuration: .init(maxRetransmissions: 0))
        _ = sent(none.start(now: at(0)), until: at(15))
        #expect(none.timerFired(now: at(15)) == [.failed(.timeout(request: "connect", attempts: 1))])

        var many = makeExchange(configuration: .init(baseTimeout: .seconds(1), maxRetransmissions: 10))
        var now = 0
        _ = sent(many.start(now: at(now)), until: at(1))
        // BEP 15: n grows up to 8, then the timeout stays at base · 2⁸.
        for n in 1...10 {
            now += 1 << min(n - 1, 8)
            _ = sent(many.timerFired(now: at(now)), until: at(now + (1 << min(n, 8))))
        }
        now += 256
        #expect(many.timerFired(now: at(now)) == [.failed(.timeout(request: "connect", attempts: 11))])
    }

    @Test func announceTimeoutsRestartFromTheFirstTimeout() {
        var exchange = makeExchange()
        let connect = sent(exchange.start(now: at(0)), until: at(15))
        _ = sent(exchange.timerFired(now: at(15)), until: at(45))
        let announce = sent(exchange.receive(connectResponse(transactionID(connect), connectionID: 9), now: at(20)),
                            until: at(35))
        #expect(sent(exchange.timerFired(now: at(35)), until: at(65)) == announce)
        #expect(sent(exchange.timerFired(now: at(65)), until: at(125)) == announce)
        #expect(exchange.timerFired(now: at(125)) == [.failed(.timeout(request: "announce", attempts: 3))])
    }

    @Test func earlyTimerOnlyRearms() {
        var exchange = makeExchange()
        _ = sent(exchange.start(now: at(0)), until: at(15))
        #expect(exchange.timerFired(now: at(14)) == [.waitUntil(at(15))])
        #expect(!exchange.isDone)
    }

    @Test func freshCachedConnectionSkipsConnect() {
        var exchange = makeExchange(cached: UDPTrackerConnection(id: 0x5555, obtained: at(0)))
        let announce = sent(exchange.start(now: at(59)), until: at(74))
        #expect(isAnnounce(announce, connectionID: 0x5555))
        let done = exchange.receive(announceResponse(transactionID(announce)), now: at(60))
        guard case .finished(_, let connection) = done.first else { Issue.record("\(done)"); return }
        #expect(connection == UDPTrackerConnection(id: 0x5555, obtained: at(0)), "the cached id keeps its age")
    }

    @Test(arguments: [60, 61, 3600])
    func expiredCachedConnectionIsNotUsed(age: Int) {
        var exchange = makeExchange(cached: UDPTrackerConnection(id: 0x5555, obtained: at(0)))
        #expect(isConnect(sent(exchange.start(now: at(age)), until: at(age + 15))))
    }

    @Test func connectionLifetime() {
        let connection = UDPTrackerConnection(id: 1, obtained: at(10))
        #expect(connection.isUsable(at: at(10)))
        #expect(connection.isUsable(at: at(69)))
        #expect(!connection.isUsable(at: at(70)))
        #expect(!connection.isUsable(at: at(9)), "an id from the future is suspect")
        #expect(connection.isUsable(at: at(100), lifetime: .seconds(120)))
    }

    /// BEP 15's "announce times out" example: the connection id expires during the
    /// announce retries, so the next retry is a connect, and n keeps counting.
    @Test func expiredConnectionDuringAnnounceRetriesReconnects() {
        var exchange = makeExchange(configuration: .init(maxRetransmissions: 4))
        let connect = sent(exchange.start(now: at(0)), until: at(15))
        let announce = sent(exchange.receive(connectResponse(transactionID(connect), connectionID: 1), now: at(1)),
                            until: at(16))
        #expect(sent(exchange.timerFired(now: at(16)), until: at(46)) == announce)
        #expect(sent(exchange.timerFired(now: at(46)), until: at(106)) == announce)
        let reconnect = sent(exchange.timerFired(now: at(106)), until: at(226))
        #expect(isConnect(reconnect))
        #expect(transactionID(reconnect) != transactionID(connect))
        // A late answer to the first connect is not taken.
        #expect(exchange.receive(connectResponse(transactionID(connect), connectionID: 1), now: at(107)) == [])
        let announce2 = sent(exchange.receive(connectResponse(transactionID(reconnect), connectionID: 2), now: at(110)),
                             until: at(230))
        #expect(isAnnounce(announce2, connectionID: 2))
        // With n = 3 the timeout (120 s) outlives the id (60 s), so every retry from here is a connect.
        let reconnect2 = sent(exchange.timerFired(now: at(230)), until: at(470))
        #expect(isConnect(reconnect2))
        #expect(exchange.timerFired(now: at(470)) == [.failed(.timeout(request: "connect", attempts: 5))])
    }

    @Test func wrongTransactionIDIsIgnored() {
        var exchange = makeExchange()
        let connect = sent(exchange.start(now: at(0)), until: at(15))
        let id = transactionID(connect)
        #expect(exchange.receive(connectResponse(id &+ 1, connectionID: 7), now: at(1)) == [])
        #expect(exchange.receive(be32(3) + be32(id &+ 1) + Array("go away".utf8), now: at(1)) == [])
        #expect(exchange.receive(announceResponse(id), now: at(1)) == [], "an announce answer while connecting")
        let announce = sent(exchange.receive(connectResponse(id, connectionID: 7), now: at(2)), until: at(17))
        #expect(exchange.receive(connectResponse(id, connectionID: 8), now: at(3)) == [], "a duplicate connect answer")
        #expect(exchange.receive(announceResponse(transactionID(announce) &+ 1), now: at(3)) == [])
        #expect(exchange.receive(announceResponse(id), now: at(3)) == [])
        #expect(!exchange.isDone)
    }

    @Test func shortAndGarbageDatagramsAreIgnored() {
        var exchange = makeExchange()
        let connect = sent(exchange.start(now: at(0)), until: at(15))
        let id = transactionID(connect)
        for datagram in [[], [0, 0, 0], be32(0) + be32(id), be32(0) + be32(id) + [1, 2, 3], be32(2) + be32(id),
                         be32(99) + be32(id) + be64(1)] {
            #expect(exchange.receive(datagram, now: at(1)) == [])
        }
        #expect(!exchange.isDone)
        #expect(isAnnounce(sent(exchange.receive(connectResponse(id, connectionID: 3), now: at(2)), until: at(17)),
                           connectionID: 3))
    }

    @Test func lateAnswerToARetransmissionIsAccepted() {
        var exchange = makeExchange(cached: UDPTrackerConnection(id: 4, obtained: at(0)))
        let announce = sent(exchange.start(now: at(0)), until: at(15))
        _ = sent(exchange.timerFired(now: at(15)), until: at(45))
        let done = exchange.receive(announceResponse(transactionID(announce)), now: at(20))
        #expect(done.count == 1)
        guard case .finished = done.first else { Issue.record("\(done)"); return }
    }

    @Test func errorResponseFails() {
        var connecting = makeExchange()
        let connect = sent(connecting.start(now: at(0)), until: at(15))
        #expect(connecting.receive(be32(3) + be32(transactionID(connect)) + Array("banned".utf8), now: at(1))
            == [.failed(.failure(reason: "banned"))])
        #expect(connecting.isDone)

        var announcing = makeExchange(cached: UDPTrackerConnection(id: 4, obtained: at(0)))
        let announce = sent(announcing.start(now: at(0)), until: at(15))
        #expect(announcing.receive(be32(3) + be32(transactionID(announce)) + Array("unregistered torrent".utf8), now: at(1))
            == [.failed(.failure(reason: "unregistered torrent"))])
    }

    @Test func responseValuesAreSanitised() {
        var exchange = makeExchange(cached: UDPTrackerConnection(id: 4, obtained: at(0)))
        let announce = sent(exchange.start(now: at(0)), until: at(15))
        let datagram = announceResponse(transactionID(announce), interval: 5, leechers: -1, seeders: -3,
                                        peers: [ipv4(9, 9, 9, 9, port: 0), ipv4(9, 9, 9, 9, port: 9)])
        #expect(exchange.receive(datagram, now: at(1)) == [
            .finished(AnnounceResponse(interval: 60, peers: [ipv4(9, 9, 9, 9, port: 9)], seeders: nil, leechers: nil),
                      connection: UDPTrackerConnection(id: 4, obtained: at(0)))])
    }

    @Test func ipv6Tracker() {
        var exchange = makeExchange(cached: UDPTrackerConnection(id: 4, obtained: at(0)), peerAddressLength: 18)
        let announce = sent(exchange.start(now: at(0)), until: at(15))
        let peer = PeerAddress(host: .ipv6(Array(repeating: 0xfe, count: 16)), port: 51413)
        let done = exchange.receive(be32(1) + be32(transactionID(announce)) + be32(900) + be32(0) + be32(1)
                                        + compact([peer]), now: at(1))
        #expect(done == [.finished(AnnounceResponse(interval: 900, peers: [peer], seeders: 1, leechers: 0),
                                   connection: UDPTrackerConnection(id: 4, obtained: at(0)))])
    }

    @Test func transactionIDsDependOnTheSeed() {
        var a = makeExchange(seed: 1), b = makeExchange(seed: 1), c = makeExchange(seed: 2)
        let first = transactionID(sent(a.start(now: at(0)), until: at(15)))
        #expect(first == transactionID(sent(b.start(now: at(0)), until: at(15))))
        #expect(first != transactionID(sent(c.start(now: at(0)), until: at(15))))
    }
}
