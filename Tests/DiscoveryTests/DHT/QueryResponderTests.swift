import TestSupport
@testable import Discovery
import Testing
import TorrentModel

@Suite struct AnnouncedPeersTests {
    let start = ContinuousClock.now
    let hash = InfoHash(bytes: exampleHashBytes)!

    @Test func peersExpireAfterTheirLifetime() {
        var store = AnnouncedPeers(lifetime: .seconds(60))
        var generator = SeededGenerator(seed: 1)
        store.add(ipv4(10, 0, 0, 1, port: 1), for: hash, now: start)
        store.add(ipv4(10, 0, 0, 2, port: 2), for: hash, now: start + .seconds(30))
        #expect(Set(store.peers(for: hash, now: start + .seconds(59), using: &generator)).count == 2)
        #expect(store.peers(for: hash, now: start + .seconds(61), using: &generator) == [ipv4(10, 0, 0, 2, port: 2)])
        store.expire(now: start + .seconds(200))
        #expect(store.infoHashCount == 0 && store.peerCount == 0)
    }

    @Test func everyAxisIsBounded() {
        var store = AnnouncedPeers(maxInfoHashes: 10, maxPeersPerInfoHash: 5)
        var generator = SeededGenerator(seed: 2)
        for index in 0..<1000 {
            let infoHash = InfoHash(bytes: (0..<20).map { _ in UInt8.random(in: 0...255, using: &generator) })!
            store.add(ipv4(10, 0, UInt8(index >> 8), UInt8(index & 0xff), port: 1), for: infoHash, now: start + .milliseconds(index))
        }
        for index in 0..<1000 {
            store.add(ipv4(10, 1, UInt8(index >> 8), UInt8(index & 0xff), port: 1), for: hash, now: start + .seconds(2 + index))
        }
        #expect(store.infoHashCount <= 10)
        #expect(store.peerCount <= 10 * 5)
        // The newest announcements win the room.
        let kept = store.peers(for: hash, now: start + .seconds(1002), limit: 100, using: &generator)
        #expect(Set(kept) == Set((995..<1000).map { ipv4(10, 1, UInt8($0 >> 8), UInt8($0 & 0xff), port: 1) }))
    }

    @Test func answersAreCapped() {
        var store = AnnouncedPeers()
        var generator = SeededGenerator(seed: 3)
        for index in 0..<100 { store.add(ipv4(10, 0, 0, UInt8(index), port: 1), for: hash, now: start) }
        #expect(store.peers(for: hash, now: start, using: &generator).count == AnnouncedPeers.maxPeersPerAnswer)
    }
}

@Suite struct QueryRateLimiterTests {
    let start = ContinuousClock.now

    @Test func aHostGetsItsBurstThenItsRate() {
        var limiter = QueryRateLimiter(limits: .init(perHostRate: 2, perHostBurst: 4), now: start)
        let host = ipv4(10, 0, 0, 1, port: 1)
        #expect((0..<10).filter { _ in limiter.allow(host, now: start) }.count == 4)
        let later = start + .milliseconds(500)
        let refilled = limiter.allow(host, now: later)
        let overLimit = limiter.allow(host, now: later)
        // Another port on the same host shares the bucket; another host has its own.
        let otherPort = limiter.allow(ipv4(10, 0, 0, 1, port: 2), now: later)
        let otherHost = limiter.allow(ipv4(10, 0, 0, 2, port: 1), now: later)
        #expect(refilled && !overLimit && !otherPort && otherHost)
    }

    @Test func theTotalIsCappedAcrossHosts() {
        var limiter = QueryRateLimiter(limits: .init(totalRate: 10, totalBurst: 20), now: start)
        let allowed = (0..<100).filter { limiter.allow(ipv4(10, 0, 0, UInt8($0), port: 1), now: start) }.count
        #expect(allowed == 20)
    }

    @Test func theHostTableIsBounded() {
        var limiter = QueryRateLimiter(limits: .init(maxHosts: 100), now: start)
        for index in 0..<10_000 {
            _ = limiter.allow(ipv4(10, UInt8(index >> 16), UInt8((index >> 8) & 0xff), UInt8(index & 0xff), port: 1),
                              now: start + .milliseconds(index / 100))
        }
        #expect(limiter.trackedHosts <= 100)
        // Once they have been quiet long enough, the sweep frees the room.
        limiter.sweep(now: start + .seconds(3600))
        #expect(limiter.trackedHosts == 0)
    }
}

@Suite struct QueryResponderTests {
    let start = ContinuousClock.now
    let hash = InfoHash(bytes: exampleHashBytes)!

    func makeResponder(_ generator: inout SeededGenerator) -> (QueryResponder, RoutingTable) {
        let own = NodeID.random(using: &generator)
        var table = RoutingTable(ownID: own, now: start)
        for index in 0..<40 {
            _ = table.insert(NodeInfo(id: .random(using: &generator), address: ipv4(10, 0, 1, UInt8(index), port: 6881))!, now: start)
        }
        _ = table.insert(NodeInfo(id: .random(using: &generator),
                                  address: PeerAddress(host: .ipv6(Array(repeating: 0, count: 15) + [1]), port: 6881))!, now: start)
        return (QueryResponder(ownID: own, now: start, using: &generator), table)
    }

    func response(_ message: KRPCMessage?) -> KRPCResponse? {
        if case .response(let response)? = message?.body { return response }
        return nil
    }

    @Test func findNodeAnswersTheClosestInTheAskersFamily() throws {
        var generator = SeededGenerator(seed: 4)
        var (responder, table) = makeResponder(&generator)
        let asker = ipv4(10, 9, 9, 9, port: 1234)
        let target = NodeID.random(using: &generator)
        let answer = responder.answer(.findNode(id: .random(using: &generator), target: target), transactionID: [7, 7],
                                      from: asker, table: table, now: start, using: &generator)
        #expect(answer?.transactionID == [7, 7])
        let nodes = try #require(response(answer)).nodes
        #expect(nodes.count == 8)
        #expect(nodes.allSatisfy { !$0.address.isIPv6 })
        let expected = table.nodes.filter { !$0.address.isIPv6 }.sorted { target.isCloser($0.id, than: $1.id) }.prefix(8)
        #expect(nodes == Array(expected))
        // And the bytes decode again as what was meant.
        #expect(try KRPCMessage(decoding: answer!.encoded()) == answer)
    }

    @Test func getPeersGivesATokenThatAnnounceAccepts() throws {
        var generator = SeededGenerator(seed: 5)
        var (responder, table) = makeResponder(&generator)
        let asker = ipv4(10, 9, 9, 9, port: 1234)
        let other = ipv4(10, 9, 9, 8, port: 1234)
        let id = NodeID.random(using: &generator)
        let first = try #require(response(responder.answer(.getPeers(id: id, infoHash: hash), transactionID: [1],
                                                            from: asker, table: table, now: start, using: &generator)))
        #expect(first.values.isEmpty)
        let token = try #require(first.token)

        // A token is good only for the address it was given to.
        let stolen = responder.answer(.announcePeer(id: id, infoHash: hash, port: 7000, token: token, impliedPort: false),
                                      transactionID: [2], from: other, table: table, now: start, using: &generator)
        guard case .error(let error)? = stolen?.body else { Issue.record("a stolen token was accepted"); return }
        #expect(error.code == KRPCError.protocolError)
        #expect(responder.announced.peerCount == 0)

        let accepted = responder.answer(.announcePeer(id: id, infoHash: hash, port: 7000, token: token, impliedPort: false),
                                        transactionID: [3], from: asker, table: table, now: start, using: &generator)
        #expect(response(accepted)?.id == responder.ownID)
        // implied_port takes the datagram's source port.
        let implied = responder.answer(.announcePeer(id: id, infoHash: hash, port: 1, token: token, impliedPort: true),
                                       transactionID: [4], from: asker, table: table, now: start, using: &generator)
        #expect(response(implied) != nil)

        let later = try #require(response(responder.answer(.getPeers(id: id, infoHash: hash), transactionID: [5],
                                                            from: other, table: table, now: start + .seconds(1), using: &generator)))
        #expect(Set(later.values) == [ipv4(10, 9, 9, 9, port: 7000), ipv4(10, 9, 9, 9, port: 1234)])

        // Tokens die after two rotations.
        let expired = responder.answer(.announcePeer(id: id, infoHash: hash, port: 7000, token: token, impliedPort: false),
                                       transactionID: [6], from: asker, table: table, now: start + .seconds(601), using: &generator)
        guard case .error? = expired?.body else { Issue.record("an expired token was accepted"); return }
    }

    @Test func aFloodFromOneHostGoesUnanswered() {
        var generator = SeededGenerator(seed: 6)
        var (responder, table) = makeResponder(&generator)
        let asker = ipv4(10, 9, 9, 9, port: 1234)
        let answered = (0..<1000).filter { _ in
            responder.answer(.ping(id: .random(using: &generator)), transactionID: [1], from: asker, table: table,
                             now: start, using: &generator) != nil
        }.count
        #expect(answered == Int(QueryRateLimiter.Limits().perHostBurst))
    }

    @Test func unknownMethodsGet204AndOtherGarbageNothing() {
        var generator = SeededGenerator(seed: 7)
        var (responder, _) = makeResponder(&generator)
        let asker = ipv4(10, 9, 9, 9, port: 1234)
        let unknown = responder.answer(undecodable: .unknownMethod("vote", transactionID: [9, 9]), from: asker, now: start)
        guard case .error(let error)? = unknown?.body else { Issue.record("no 204"); return }
        #expect(error.code == KRPCError.methodUnknown && unknown?.transactionID == [9, 9])
        #expect(responder.answer(undecodable: .missingField("t"), from: asker, now: start) == nil)
    }
}
