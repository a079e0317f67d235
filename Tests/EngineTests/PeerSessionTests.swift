@testable import Engine
import PeerProtocol
import Testing

/// A peer's timers, rates, pipeline depth, snubbing and reject accounting, driven by
/// events and ticks with time passed in: no channel, no clock, no actor.
@Suite struct PeerSessionTests {
    let start = ContinuousClock.now
    let timeouts = EngineTimeouts()
    let request = BlockRequest(piece: 3, begin: 16384, length: 16384)

    func tick(_ session: inout PeerSession, at seconds: Int, inFlight: Int = 0, choking: Bool = false,
              reqq: Int = 250) -> [PeerSession.Action] {
        session.tick(now: start + .seconds(seconds), inFlight: inFlight, peerChoking: choking, requestLimit: reqq,
                     timeouts: timeouts)
    }

    @Test func aKeepAliveGoesOutAfterNinetySecondsOfOurSilence() {
        var session = PeerSession(now: start, supportsFast: true)
        session.receivedSomething(now: start + .seconds(80))
        #expect(tick(&session, at: 90).isEmpty)
        #expect(tick(&session, at: 91) == [.sendKeepAlive])
        session.sentSomething(now: start + .seconds(91))
        #expect(tick(&session, at: 92).isEmpty)
    }

    @Test func aPeerSilentForThreeMinutesIsDetached() {
        var session = PeerSession(now: start, supportsFast: true)
        session.sentSomething(now: start + .seconds(170))
        #expect(tick(&session, at: 180).isEmpty)
        #expect(tick(&session, at: 181) == [.detach(reason: "silent for 180 s")])
    }

    @Test func aPeerThatUnchokesButSendsNothingIsSnubbedOnce() {
        var session = PeerSession(now: start, supportsFast: true)
        session.startedWaiting(now: start)
        for second in stride(from: 10, through: 60, by: 10) {
            session.receivedSomething(now: start + .seconds(second))
            session.sentSomething(now: start + .seconds(second))
            #expect(tick(&session, at: second, inFlight: 10).isEmpty)
        }
        session.receivedSomething(now: start + .seconds(61))
        #expect(tick(&session, at: 61, inFlight: 10) == [.snub])
        #expect(session.snubbed)
        #expect(tick(&session, at: 62, inFlight: 1).isEmpty, "snubbed once, not every tick")
        // A block ends the snub.
        session.blockArrived(bytes: 16384, now: start + .seconds(63), inFlight: 0, requestLimit: 250)
        #expect(!session.snubbed)
    }

    @Test func nothingInFlightOrAChokeIsNoSnub() {
        var session = PeerSession(now: start, supportsFast: true)
        session.receivedSomething(now: start + .seconds(100))
        session.sentSomething(now: start + .seconds(100))
        #expect(tick(&session, at: 100, inFlight: 0).isEmpty)
        // Choked with requests held (fast extension): they are dropped after 30 s, not snubbed.
        #expect(tick(&session, at: 100, inFlight: 5, choking: true) == [.dropRequests])
        #expect(!session.snubbed)
    }

    @Test func requestsHeldByAChokeAreDroppedAfterThirtySeconds() {
        var session = PeerSession(now: start, supportsFast: true)
        session.startedWaiting(now: start)
        session.receivedSomething(now: start + .seconds(30))
        session.sentSomething(now: start + .seconds(30))
        #expect(tick(&session, at: 30, inFlight: 4, choking: true).isEmpty)
        #expect(tick(&session, at: 31, inFlight: 4, choking: true) == [.dropRequests])
    }

    @Test func ratesAreSmoothedAndThePipelineFollowsThem() {
        var session = PeerSession(now: start, supportsFast: true)
        #expect(session.queueDepth == PeerSession.minimumQueueDepth)
        session.blockArrived(bytes: 1_000_000, now: start, inFlight: 0, requestLimit: 250)
        _ = tick(&session, at: 1)
        #expect(session.downloadRate == 250_000)
        session.uploaded(bytes: 400)
        _ = tick(&session, at: 2)
        #expect(session.downloadRate == 187_500)
        #expect(session.uploadRate == 100)
        #expect(session.downloadedTotal == 1_000_000 && session.uploadedTotal == 400)
        // Two seconds of a fast peer's rate in flight, up to its reqq.
        for second in 3...20 {
            session.blockArrived(bytes: 50_000_000, now: start + .seconds(second), inFlight: 0, requestLimit: 500)
            _ = tick(&session, at: second, reqq: 500)
        }
        #expect(session.queueDepth == 500)
        // A peer that stops delivering falls back to the minimum as its rate decays.
        for second in 21...80 { _ = tick(&session, at: second, reqq: 500) }
        #expect(session.queueDepth == PeerSession.minimumQueueDepth)
    }

    @Test func slowStartGrowsThePipelineWhileItIsHalfFull() {
        var session = PeerSession(now: start, supportsFast: true)
        session.blockArrived(bytes: 16384, now: start, inFlight: 16, requestLimit: 250)
        #expect(session.queueDepth == 33)
        session.blockArrived(bytes: 16384, now: start, inFlight: 2, requestLimit: 250)
        #expect(session.queueDepth == 33, "a pipeline less than half full does not grow")
        for _ in 0..<1000 { session.blockArrived(bytes: 16384, now: start, inFlight: 1000, requestLimit: 40) }
        #expect(session.queueDepth == 40, "never past the peer's reqq")
    }

    @Test func rejectsInARowDropAPeerButAnswersToCancelsDoNot() {
        var session = PeerSession(now: start, supportsFast: true)
        session.cancelled([request, request])
        // Cancelled twice: two rejects answer it, and while cancels are open none counts.
        for _ in 0..<2 { #expect(session.rejected(request) == nil) }
        #expect(session.rejectsInARow == 0)
        for _ in 0..<PeerSession.rejectsBeforeDropping { #expect(session.rejected(request) == nil) }
        #expect(session.rejected(request) == .detach(reason: "rejects every request"))
        // A block resets the count.
        session.answered(request)
        #expect(session.rejectsInARow == 0)
    }

    @Test func aBlockAnswersACancelToo() {
        var session = PeerSession(now: start, supportsFast: true)
        let other = BlockRequest(piece: 4, begin: 0, length: 16384)
        session.cancelled([request])
        session.answered(request)
        #expect(session.cancelledRequests.isEmpty)
        #expect(session.rejected(other) == nil)
        #expect(session.rejectsInARow == 1, "with no cancel open, a reject is a refusal")
    }

    @Test func cancelsAreRememberedWithinABound() {
        var session = PeerSession(now: start, supportsFast: true)
        for piece in 0...PeerSession.cancelsRemembered {
            session.cancelled([BlockRequest(piece: UInt32(piece), begin: 0, length: 16384)])
        }
        session.cancelled([request])
        #expect(session.cancelledRequests.count <= PeerSession.cancelsRemembered + 1)
    }

    @Test func blocksNobodyAskedForDropAPeerPastTheLimit() {
        var session = PeerSession(now: start, supportsFast: true)
        for _ in 0..<PeerSession.unrequestedBlocksBeforeDropping { #expect(session.unrequestedBlockArrived() == nil) }
        #expect(session.unrequestedBlockArrived() == .detach(reason: "sends blocks nobody asked for"))
    }

    // MARK: choke and interest

    @Test func chokesAndInterestChangeTheFlagsAndAskForWhatFollows() {
        var session = PeerSession(now: start, supportsFast: true)
        #expect(session.peerChoking && !session.peerInterested && session.amChoking && !session.amInterested)
        #expect(session.received(.unchoke) == [])
        #expect(!session.peerChoking)
        // Interested while we choke it: offer it an upload slot; while we do not, nothing to do.
        #expect(session.received(.interested) == [.offerUploadSlot])
        let unchoked = session.setAmChoking(false), again = session.setAmChoking(false)
        #expect(unchoked)
        #expect(!again, "no change, no message")
        #expect(session.received(.interested) == [])
        // Not interested any more while unchoked: its slot goes back.
        #expect(session.received(.notInterested) == [.choke])
        let choked = session.setAmChoking(true)
        #expect(choked)
        #expect(session.received(.notInterested) == [])
        let interested = session.setAmInterested(true), stillInterested = session.setAmInterested(true)
        #expect(interested && !stillInterested && session.amInterested)
    }

    @Test func aChokeDropsOurRequestsOnlyWithoutTheFastExtension() {
        var fast = PeerSession(now: start, supportsFast: true)
        var plain = PeerSession(now: start, supportsFast: false)
        #expect(fast.received(.choke) == [], "a fast peer rejects what it will not serve, one by one")
        #expect(plain.received(.choke) == [.dropRequests])
        #expect(plain.peerChoking && fast.peerChoking)
    }

    @Test func fastExtensionMessagesFromAPeerWithoutItAreBanned() {
        var plain = PeerSession(now: start, supportsFast: false)
        #expect(plain.received(.haveAll) == [.ban(reason: "have_all without the fast extension")])
        #expect(plain.received(.haveNone) == [.ban(reason: "have_none without the fast extension")])
        #expect(plain.received(.rejectRequest(request)) == [.ban(reason: "reject_request without the fast extension")])
        #expect(plain.received(.allowedFast(3)) == [.ban(reason: "allowed_fast without the fast extension")])
        var fast = PeerSession(now: start, supportsFast: true)
        for message: PeerMessage in [.haveAll, .haveNone, .rejectRequest(request), .allowedFast(3), .have(piece: 1), .keepAlive] {
            #expect(fast.received(message) == nil, "the torrent handles \(message)")
        }
    }
}
