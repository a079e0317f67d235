@testable import Discovery
import Testing
import TorrentModel

/// The announce schedule of a WebTorrent tracker, with instants injected.
@Suite struct WebSocketTrackerAnnouncerTests {
    let t0 = ContinuousClock.now
    let transfer = WebSocketTrackerAnnouncer.Transfer(uploaded: 0, downloaded: 0, left: nil)
    let otherPeer = PeerID(bytes: Array("-WW0300-otherpeer123".utf8))!

    func at(_ seconds: Int) -> ContinuousClock.Instant { t0 + .seconds(seconds) }

    func offers(_ seed: UInt8, count: Int = 5) -> [WebRTCOffer] {
        (0..<count).map { WebRTCOffer(offerID: WebRTCOfferID(bytes: Array(repeating: seed &+ UInt8($0), count: 20))!, sdp: "v=0\r\n") }
    }

    func sent(_ actions: [WebSocketTrackerAnnouncer.Action]) throws -> [WebSocketTrackerAnnounce] {
        try actions.compactMap { if case .send(let text) = $0 { try WebSocketTrackerAnnounce(decoding: text) } else { nil } }
    }

    func reply(interval: Int) -> String {
        #"{"action":"announce","info_hash":\#(JSONText.quoted(BinaryString.string(from: capturedInfoHash.digest.bytes))),"complete":1,"incomplete":0,"interval":\#(interval)}"#
    }

    func answer(to offerID: WebRTCOfferID) -> String {
        let hash = JSONText.quoted(BinaryString.string(from: capturedInfoHash.digest.bytes))
        let offer = JSONText.quoted(BinaryString.string(from: offerID.bytes))
        return #"{"action":"announce","answer":{"type":"answer","sdp":"v=0\r\n"},"offer_id":\#(offer),"peer_id":"-WW0300-otherpeer123","info_hash":\#(hash)}"#
    }

    /// Started, connected, offers handed over: the first announce is out.
    func connectedMachine() throws -> (WebSocketTrackerAnnouncer, [WebRTCOffer]) {
        var machine = WebSocketTrackerAnnouncer(infoHash: capturedInfoHash, peerID: seederPeerID)
        #expect(machine.start(now: at(0)) == [.connect])
        #expect(machine.connected(transfer: transfer, now: at(1)) == [.makeOffers(count: 5)])
        let first = offers(1)
        let actions = machine.offersMade(first, transfer: transfer, now: at(2))
        let announces = try sent(actions)
        #expect(announces.count == 1 && announces[0].event == .started && announces[0].offers == first)
        #expect(actions.last == .waitUntil(at(52)), "the offers expire 50 s after they are sent")
        return (machine, first)
    }

    @Test func intervalFromTheReplyIsHonoured() throws {
        var (machine, _) = try connectedMachine()
        #expect(machine.received(reply(interval: 300), now: at(3)) == [.waitUntil(at(52))])
        _ = machine.timerFired(now: at(52))
        #expect(machine.timerFired(now: at(302)) == [.waitUntil(at(303))], "not yet: 3 + 300 s")
        #expect(machine.timerFired(now: at(303)) == [.makeOffers(count: 5)])
        let again = try sent(machine.offersMade(offers(10), transfer: transfer, now: at(304)))
        #expect(again.map(\.event) == [.none], "a regular re-announce has no event")
        #expect(machine.received(reply(interval: 0), now: at(305)).last == .waitUntil(at(335)), "interval 0 is raised to 30 s")
    }

    @Test func completedOnceAndStoppedAtTheEnd() throws {
        var (machine, first) = try connectedMachine()
        let done = WebSocketTrackerAnnouncer.Transfer(uploaded: 5, downloaded: 900, left: 0)
        let completed = try sent(machine.completed(transfer: done, now: at(10)))
        #expect(completed.map(\.event) == [.completed] && completed[0].offers.isEmpty && completed[0].left == 0)
        #expect(machine.completed(transfer: done, now: at(11)).isEmpty, "completed is sent once")
        let stopping = machine.stop(transfer: done, now: at(20))
        #expect(try sent(stopping).map(\.event) == [.stopped])
        #expect(Set(stopping.compactMap { if case .dropOffer(let id) = $0 { id } else { nil } }) == Set(first.map(\.offerID)))
        #expect(stopping.last == .close)
        #expect(machine.timerFired(now: at(500)).isEmpty && machine.stop(transfer: done, now: at(501)).isEmpty)
    }

    @Test func completedBeforeAConnectionWaitsForIt() throws {
        var machine = WebSocketTrackerAnnouncer(infoHash: capturedInfoHash, peerID: seederPeerID)
        _ = machine.start(now: at(0))
        #expect(machine.completed(transfer: transfer, now: at(0)).isEmpty)
        let actions = machine.connected(transfer: transfer, now: at(1))
        #expect(try sent(actions).map(\.event) == [.completed])
        #expect(actions.last == .makeOffers(count: 5))
    }

    @Test func answersAreMatchedAndOffersExpire() throws {
        var (machine, first) = try connectedMachine()
        #expect(machine.received(answer(to: first[0].offerID), now: at(10))
            == [.acceptAnswer(offerID: first[0].offerID, from: otherPeer, sdp: "v=0\r\n"), .waitUntil(at(52))])
        let again = machine.received(answer(to: first[0].offerID), now: at(11))
        guard case .ignored(let reason) = again.first else { Issue.record("\(again)"); return }
        #expect(reason.contains("not pending"))
        let expired = machine.timerFired(now: at(52))
        #expect(Set(expired.compactMap { if case .dropOffer(let id) = $0 { id } else { nil } }) == Set(first.dropFirst().map(\.offerID)))
        #expect(machine.pendingOfferIDs.isEmpty)
        #expect(machine.received(answer(to: first[1].offerID), now: at(53)).count == 1, "too late: ignored")
    }

    @Test func relayedOffersAreHandedToTheEngineAndAnswered() throws {
        var (machine, _) = try connectedMachine()
        let actions = machine.received(CapturedWebTorrentTraffic.relayedOffer, now: at(5))
        guard case .answerOffer(let offer) = actions.first else { Issue.record("\(actions)"); return }
        let reply = machine.answer(offer, sdp: "v=0\r\na=setup:active\r\n", now: at(6))
        guard case .send(let text) = reply.first else { Issue.record("\(reply)"); return }
        let answer = try WebSocketTrackerAnswer(decoding: text)
        #expect(answer.toPeerID == leecherPeerID && answer.offerID == capturedOfferID && answer.peerID == seederPeerID)
    }

    @Test func backOffGrowsAndResetsOnAReply() throws {
        var (machine, first) = try connectedMachine()
        let closed = machine.disconnected(now: at(10))
        #expect(closed.count == first.count + 1 && closed.last == .waitUntil(at(20)), "offers die with their socket; 10 s")
        #expect(machine.timerFired(now: at(20)) == [.connect])
        #expect(machine.disconnected(now: at(21)) == [.waitUntil(at(41))], "20 s")
        _ = machine.timerFired(now: at(41))
        #expect(machine.disconnected(now: at(42)) == [.waitUntil(at(82))], "40 s")
        var delays: [Duration] = []
        for round in 0..<12 {
            delays.append(machine.reconnectDelay())
            #expect(machine.timerFired(now: at(100_000 + round * 4000)) == [.connect])
            _ = machine.disconnected(now: at(100_000 + round * 4000))
        }
        #expect(delays.first == .seconds(80) && delays.last == .seconds(3600), "capped at 60 min: \(delays)")
        _ = machine.timerFired(now: at(200_000))
        #expect(machine.connected(transfer: transfer, now: at(200_001)) == [.makeOffers(count: 5)])
        #expect(try sent(machine.offersMade(offers(20), transfer: transfer, now: at(200_002))).map(\.event) == [.started],
                "a new connection announces started again")
        _ = machine.received(reply(interval: 120), now: at(200_003))
        #expect(machine.reconnectDelay() == .seconds(10), "a reply resets the back-off")
    }

    @Test func strayInputIsIgnoredWithAReason() throws {
        var (machine, _) = try connectedMachine()
        let other = InfoHash(bytes: Array(repeating: 7, count: 20))!
        let foreign = #"{"action":"announce","info_hash":\#(JSONText.quoted(BinaryString.string(from: other.digest.bytes))),"interval":5}"#
        for text in [foreign, "nonsense", #"{"action":"scrape","files":{}}"#] {
            let actions = machine.received(text, now: at(3))
            guard case .ignored = actions.first else { Issue.record("\(text): \(actions)"); continue }
        }
        #expect(machine.received(#"{"failure reason":"go away"}"#, now: at(3)) == [.trackerSaid("tracker refused: go away")])
        #expect(machine.timerFired(now: at(51)) == [.waitUntil(at(52))], "nothing due: the foreign interval of 5 s was not taken")
    }
}
