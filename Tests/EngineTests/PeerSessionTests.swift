@testable import Engine
import PeerProtocol
import Testing
import TorrentModel

/// A peer's protocol state driven by messages and ticks with time passed in: no channel,
/// no clock, no actor.
@Suite struct PeerSessionTests {
    let start = ContinuousClock.now
    let timeouts = EngineTimeouts()
    /// 10 pieces of 64 KiB, the last one 16 KiB.
    let geometry = PeerSession.Geometry(pieceCount: 10, pieceLength: 65536, totalLength: 9 * 65536 + 16384)
    let request = BlockRequest(piece: 3, begin: 16384, length: 16384)

    func block(_ piece: UInt32, _ begin: UInt32 = 0, length: Int = 16384) -> PeerMessage {
        .piece(piece: piece, begin: begin, block: [UInt8](repeating: 7, count: length))
    }

    func block(answering request: BlockRequest) -> PeerMessage { block(request.piece, request.begin, length: Int(request.length)) }

    func arrival(_ request: BlockRequest, late: Bool) -> PeerSession.Action {
        .blockArrived(.init(request: request, data: [UInt8](repeating: 7, count: Int(request.length)), late: late))
    }

    func tick(_ session: inout PeerSession, at seconds: Int) -> [PeerSession.Action] {
        session.tick(now: start + .seconds(seconds), timeouts: timeouts)
    }

    /// A session that both sides keep busy up to `seconds`, so no silence or keep-alive
    /// timer fires.
    func keepTalking(_ session: inout PeerSession, at seconds: Int) {
        session.receivedSomething(now: start + .seconds(seconds))
        session.sentSomething(now: start + .seconds(seconds))
    }

    // MARK: timers

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
        var session = PeerSession(now: start, supportsFast: true, geometry: geometry)
        _ = session.received(.unchoke)
        session.sent([request, BlockRequest(piece: 3, begin: 0, length: 16384)], now: start, timeout: timeouts.request)
        for second in stride(from: 5, through: 20, by: 5) {
            keepTalking(&session, at: second)
            #expect(tick(&session, at: second).isEmpty)
        }
        session.receivedSomething(now: start + .seconds(21))
        #expect(tick(&session, at: 21) == [.snub], "snubbed, and its requests do not time out besides")
        #expect(session.snubbed && session.inFlight.isEmpty)
        session.sent([BlockRequest(piece: 4, begin: 0, length: 16384)], now: start + .seconds(21), timeout: timeouts.request)
        #expect(tick(&session, at: 22).isEmpty, "snubbed once, not every tick")
        // A late block is welcome, and ends the snub once the picker takes it.
        #expect(session.received(block(answering: request)) == [arrival(request, late: true)])
        session.blockAccepted(bytes: 16384, now: start + .seconds(23))
        #expect(!session.snubbed)
        #expect(session.unrequestedBlocks == 0)
    }

    @Test func nothingInFlightOrAChokeIsNoSnub() {
        var session = PeerSession(now: start, supportsFast: true)
        keepTalking(&session, at: 100)
        #expect(tick(&session, at: 100).isEmpty)
        // Choked with requests held (fast extension): they are dropped after 30 s, not snubbed.
        session.sent([request], now: start + .seconds(100), timeout: timeouts.request)
        #expect(tick(&session, at: 131) == [.dropRequests])
        #expect(!session.snubbed && session.inFlight.isEmpty)
    }

    @Test func requestsHeldByAChokeAreDroppedAfterThirtySeconds() {
        var session = PeerSession(now: start, supportsFast: true)
        session.sent([request], now: start, timeout: timeouts.request)
        keepTalking(&session, at: 30)
        #expect(tick(&session, at: 30).isEmpty)
        #expect(tick(&session, at: 31) == [.dropRequests])
        #expect(tick(&session, at: 32).isEmpty, "dropped once")
    }

    // MARK: per-request timeouts

    /// A peer that delivers a block a second but never the one asked first: that one times
    /// out after `timeouts.request` and the time its queue takes at its rate, once; its late
    /// answer is still an answer, not a block nobody asked for.
    @Test func aRequestThePeerSkipsTimesOutOnceAndItsLateBlockIsWelcome() {
        var session = PeerSession(now: start, supportsFast: true, geometry: geometry)
        _ = session.received(.unchoke)
        let skipped = BlockRequest(piece: 0, begin: 0, length: 16384)
        session.sent([skipped], now: start, timeout: timeouts.request)
        var timedOut: [(second: Int, actions: [PeerSession.Action])] = []
        for second in 1...70 {
            let served = BlockRequest(piece: 1 + UInt32(second % 8), begin: UInt32(second / 8 % 4) * 16384, length: 16384)
            session.sent([served], now: start + .seconds(second), timeout: timeouts.request)
            #expect(session.received(block(answering: served)) == [arrival(served, late: false)])
            session.blockAccepted(bytes: 16384, now: start + .seconds(second))
            session.receivedSomething(now: start + .seconds(second))
            let actions = tick(&session, at: second)
            if !actions.isEmpty { timedOut.append((second, actions)) }
        }
        #expect(timedOut.count == 1)
        #expect(timedOut.first?.actions == [.requestsTimedOut([skipped])])
        // 60 s and the second its queue of one block takes at the rate assumed at first.
        #expect(timedOut.first.map { (61...62).contains($0.second) } == true, "\(timedOut.map(\.second))")
        #expect(session.inFlight.isEmpty && session.givenUp == [skipped])
        #expect(session.received(block(answering: skipped)) == [arrival(skipped, late: true)])
        #expect(session.unrequestedBlocks == 0 && session.givenUp.isEmpty)
        // Its answer came: a second copy is one nobody asked for.
        #expect(session.received(block(answering: skipped)) == [.discard(bytes: 16384)])
        #expect(session.unrequestedBlocks == 1)
    }

    /// A deep queue at a slow peer is not timed out while the peer works through it: the
    /// deadline grows with the time the queue takes at the peer's rate.
    @Test func aDeepQueueAtASlowPeerIsGivenTheTimeItTakes() {
        var session = PeerSession(now: start, supportsFast: true, geometry: geometry)
        _ = session.received(.unchoke)
        let queue = (0..<32).map { BlockRequest(piece: UInt32($0 / 4), begin: UInt32($0 % 4) * 16384, length: 16384) }
        session.sent(queue, now: start, timeout: timeouts.request)
        // One block every two seconds: 8 KiB/s, 64 s for the queue of 32.
        for second in 1...63 {
            if second % 2 == 0 {
                let next = queue[second / 2 - 1]
                #expect(session.received(block(answering: next)) == [arrival(next, late: false)])
                session.blockAccepted(bytes: 16384, now: start + .seconds(second))
            }
            session.receivedSomething(now: start + .seconds(second))
            #expect(tick(&session, at: second).isEmpty, "second \(second)")
        }
        #expect(session.inFlight.count == 1)
    }

    @Test func aPeerThatSendsNothingIsSnubbedNotTimedOut() {
        var session = PeerSession(now: start, supportsFast: true, geometry: geometry)
        _ = session.received(.unchoke)
        session.sent([request], now: start, timeout: timeouts.request)
        var actions: [PeerSession.Action] = []
        for second in 1...170 {
            keepTalking(&session, at: second)
            actions += tick(&session, at: second)
        }
        #expect(actions == [.snub])
    }

    // MARK: blocks and rejects

    @Test func aBlockWeAskedForArrivesAndLeavesTheQueue() {
        var session = PeerSession(now: start, supportsFast: true, geometry: geometry)
        session.sent([request], now: start, timeout: timeouts.request)
        // A minute, and the second one block takes at the rate assumed before the peer's is known.
        #expect(session.inFlight[request] == start + .seconds(61))
        #expect(session.received(block(answering: request)) == [arrival(request, late: false)])
        #expect(session.inFlight.isEmpty && session.unrequestedBlocks == 0)
    }

    /// Among blocks we asked for, one we have no record of is a race (our memory of cancels
    /// overflowed), wasted; past a limit in all the peer is dropped, not banned.
    @Test func aBlockNeverAskedForIsWastedAndDropsThePeerPastTheLimit() {
        var session = PeerSession(now: start, supportsFast: true, geometry: geometry)
        for count in 1...PeerSession.unrequestedBlocksBeforeDropping {
            #expect(session.received(block(2)) == [.discard(bytes: 16384)])
            if count % PeerSession.unaskedBlocksInARowBeforeBan == 0 {
                session.sent([request], now: start, timeout: timeouts.request)
                #expect(session.received(block(answering: request)) == [arrival(request, late: false)])
            }
        }
        #expect(session.received(block(2)) == [.discard(bytes: 16384), .detach(reason: "sends blocks nobody asked for")])
    }

    @Test func aBlockOutsideTheTorrentIsBanned() {
        var session = PeerSession(now: start, supportsFast: true, geometry: geometry)
        #expect(session.received(block(10)) == [.discard(bytes: 16384), .ban(reason: "block 10:0+16384 outside the torrent")])
        // The last piece is 16 KiB: a block past its end lies outside too, and one of the
        // wrong length inside a piece is counted (the third is a ban: LyingPeerTests).
        #expect(session.received(block(9, 16384)) == [.discard(bytes: 16384), .ban(reason: "block 9:16384+16384 outside the torrent")])
        #expect(session.received(block(8, 0, length: 16484)) == [.discard(bytes: 16484)])
    }

    @Test func aBlockBeforeTheMetadataIsBanned() {
        var session = PeerSession(now: start, supportsFast: true)
        #expect(session.received(block(0)) == [.ban(reason: "sent a block before we had the metadata")])
    }

    @Test func aRejectGivesTheBlockBackAndARejectOfNothingOnlyCounts() {
        var session = PeerSession(now: start, supportsFast: true, geometry: geometry)
        session.sent([request], now: start, timeout: timeouts.request)
        #expect(session.received(.rejectRequest(request)) == [.requestRejected(request)])
        #expect(session.inFlight.isEmpty && session.rejectsInARow == 1)
        #expect(session.received(.rejectRequest(request)) == [], "a reject of nothing changes nothing but the count")
        #expect(session.rejectsInARow == 2)
    }

    @Test func rejectsInARowDropAPeerButAnswersToCancelsDoNot() {
        var session = PeerSession(now: start, supportsFast: true, geometry: geometry)
        session.sent([request], now: start, timeout: timeouts.request)
        session.cancelled([request, request])
        #expect(session.inFlight.isEmpty)
        // Cancelled twice: two rejects answer it, and while cancels are open none counts.
        for _ in 0..<2 { #expect(session.received(.rejectRequest(request)) == []) }
        #expect(session.rejectsInARow == 0)
        for _ in 0..<PeerSession.rejectsBeforeDropping { #expect(session.received(.rejectRequest(request)) == []) }
        #expect(session.received(.rejectRequest(request)) == [.detach(reason: "rejects every request")])
        // A block resets the count.
        session.sent([request], now: start, timeout: timeouts.request)
        _ = session.received(block(answering: request))
        #expect(session.rejectsInARow == 0)
    }

    @Test func aBlockAnswersACancelToo() {
        var session = PeerSession(now: start, supportsFast: true, geometry: geometry)
        let other = BlockRequest(piece: 4, begin: 0, length: 16384)
        session.sent([request], now: start, timeout: timeouts.request)
        session.cancelled([request])
        #expect(session.received(block(answering: request)) == [arrival(request, late: true)])
        #expect(session.cancelledRequests.isEmpty && session.unrequestedBlocks == 0)
        #expect(session.received(.rejectRequest(other)) == [])
        #expect(session.rejectsInARow == 1, "with no cancel open, a reject is a refusal")
    }

    /// A seek cancels a request and it is asked for again: a reject answers the cancel and
    /// the block the new request; or the block comes twice, once for each. Neither copy is
    /// unasked, and the new request stays in flight until its own answer.
    @Test func aBlockCancelledAndAskedForAgainIsAnsweredOnceForEach() {
        var rejecting = PeerSession(now: start, supportsFast: true, geometry: geometry)
        rejecting.sent([request], now: start, timeout: timeouts.request)
        rejecting.cancelled([request])
        rejecting.sent([request], now: start, timeout: timeouts.request)
        #expect(rejecting.received(.rejectRequest(request)) == [], "the cancel's answer")
        #expect(rejecting.inFlight.keys.contains(request) && rejecting.rejectsInARow == 0)
        #expect(rejecting.received(block(answering: request)) == [arrival(request, late: false)])

        var sendingTwice = PeerSession(now: start, supportsFast: true, geometry: geometry)
        sendingTwice.sent([request], now: start, timeout: timeouts.request)
        sendingTwice.cancelled([request])
        sendingTwice.sent([request], now: start, timeout: timeouts.request)
        #expect(sendingTwice.received(block(answering: request)) == [arrival(request, late: false)])
        #expect(sendingTwice.received(block(answering: request)) == [arrival(request, late: true)])
        #expect(sendingTwice.unrequestedBlocks == 0 && sendingTwice.inFlight.isEmpty && sendingTwice.cancelledRequests.isEmpty)
    }

    @Test func cancelsAreRememberedWithinABound() {
        var session = PeerSession(now: start, supportsFast: true)
        for piece in 0...PeerSession.cancelsRemembered {
            session.cancelled([BlockRequest(piece: UInt32(piece), begin: 0, length: 16384)])
        }
        session.cancelled([request])
        #expect(session.cancelledRequests.count <= PeerSession.cancelsRemembered + 1)
    }

    // MARK: rates and the pipeline

    @Test func ratesAreSmoothedAndThePipelineFollowsThem() {
        var session = PeerSession(now: start, supportsFast: true)
        #expect(session.queueDepth == PeerSession.minimumQueueDepth)
        session.blockAccepted(bytes: 1_000_000, now: start)
        _ = tick(&session, at: 1)
        #expect(session.downloadRate == 250_000)
        session.uploaded(bytes: 400)
        _ = tick(&session, at: 2)
        #expect(session.downloadRate == 187_500)
        #expect(session.uploadRate == 100)
        #expect(session.downloadedTotal == 1_000_000 && session.uploadedTotal == 400)
        // Two seconds of a fast peer's rate in flight, up to its reqq.
        session.setRequestLimit(500)
        for second in 3...20 {
            session.blockAccepted(bytes: 50_000_000, now: start + .seconds(second))
            _ = tick(&session, at: second)
        }
        #expect(session.queueDepth == 500)
        // A peer that stops delivering falls back to the minimum as its rate decays.
        for second in 21...80 { _ = tick(&session, at: second) }
        #expect(session.queueDepth == PeerSession.minimumQueueDepth)
    }

    @Test func slowStartGrowsThePipelineWhileItIsHalfFull() {
        var session = PeerSession(now: start, supportsFast: true)
        let sixteen = (0..<16).map { BlockRequest(piece: UInt32($0), begin: 0, length: 16384) }
        session.sent(sixteen, now: start, timeout: timeouts.request)
        session.blockAccepted(bytes: 16384, now: start)
        #expect(session.queueDepth == 33)
        session.cancelled(Array(sixteen.dropFirst(2)))
        session.blockAccepted(bytes: 16384, now: start)
        #expect(session.queueDepth == 33, "a pipeline less than half full does not grow")
        session.setRequestLimit(40)
        session.sent((0..<1000).map { BlockRequest(piece: UInt32($0), begin: 0, length: 16384) }, now: start, timeout: timeouts.request)
        for _ in 0..<1000 { session.blockAccepted(bytes: 16384, now: start) }
        #expect(session.queueDepth == 40, "never past the peer's reqq")
    }

    @Test func aSmallReqqCutsThePipelineAtOnce() {
        var session = PeerSession(now: start, supportsFast: true)
        session.setRequestLimit(PeerState.requestLimit(reqq: 16))
        #expect(session.queueDepth == 15)
    }

    // MARK: what the peer has

    @Test func haveAddsAPieceOnceAndAHavePastTheEndIsBanned() {
        var session = PeerSession(now: start, supportsFast: true, geometry: geometry)
        #expect(session.received(.have(piece: 4)) == [.peerHas(piece: 4)])
        #expect(session.received(.have(piece: 4)) == [], "already counted")
        #expect(session.bitfield?.setIndices == [4])
        #expect(session.received(.have(piece: 10)) == [.ban(reason: "have for piece 10 of 10")])
    }

    @Test func aBitfieldOfTheWrongSizeOrWithSpareBitsIsBanned() {
        var session = PeerSession(now: start, supportsFast: true, geometry: geometry)
        #expect(session.received(.bitfield([0xff])) == [.ban(reason: "bitfield of 1 bytes for 10 pieces")])
        #expect(session.received(.bitfield([0xff, 0xff, 0])) == [.ban(reason: "bitfield of 3 bytes for 10 pieces")])
        #expect(session.received(.bitfield([0xff, 0xe0])) == [.ban(reason: "bitfield of 2 bytes for 10 pieces")],
                "a spare bit set")
        #expect(session.bitfield == nil)
    }

    @Test func aBitfieldThenHaveAllReplacesWhatItHadAndGivesUpItsRequests() {
        var session = PeerSession(now: start, supportsFast: true, geometry: geometry)
        let some = Bitfield(wireBytes: [0b1010_0000, 0], count: 10)!
        #expect(session.received(.bitfield(some.bytes)) == [.peerHasPieces(some, replacing: nil)])
        session.sent([request], now: start, timeout: timeouts.request)
        let all = Bitfield(count: 10, allSet: true)
        #expect(session.received(.haveAll) == [.peerHasPieces(all, replacing: some)])
        #expect(session.inFlight.isEmpty && session.givenUp == [request], "the picker forgets them with the old pieces")
        #expect(session.received(.haveNone) == [.peerHasPieces(Bitfield(count: 10), replacing: all)])
    }

    @Test func whatAPeerSaidBeforeTheMetadataIsCountedWhenItComes() {
        var session = PeerSession(now: start, supportsFast: true)
        #expect(session.received(.haveAll) == [])
        #expect(session.saidItHasAllEarly)
        #expect(session.received(.have(piece: 2)) == [])
        var expected = Bitfield(count: 10, allSet: true)
        #expect(session.learnedGeometry(geometry) == [.peerHasPieces(expected, replacing: nil)])
        #expect(session.learnedGeometry(geometry) == [], "once")

        var fromBytes = PeerSession(now: start, supportsFast: false)
        #expect(fromBytes.received(.bitfield([0b1000_0000, 0])) == [])
        #expect(fromBytes.received(.have(piece: 9)) == [])
        expected = Bitfield(count: 10)
        expected[0] = true
        expected[9] = true
        #expect(fromBytes.learnedGeometry(geometry) == [.peerHasPieces(expected, replacing: nil)])
    }

    @Test func earlyClaimsThatDoNotFitThePieceCountAreBanned() {
        var wrongSize = PeerSession(now: start, supportsFast: true)
        _ = wrongSize.received(.bitfield([0xff]))
        #expect(wrongSize.learnedGeometry(geometry) == [.ban(reason: "bitfield of 1 bytes for 10 pieces")])
        var pastTheEnd = PeerSession(now: start, supportsFast: true)
        _ = pastTheEnd.received(.have(piece: 12))
        #expect(pastTheEnd.learnedGeometry(geometry) == [.ban(reason: "have for piece 12")])
        var nothing = PeerSession(now: start, supportsFast: true)
        #expect(nothing.learnedGeometry(geometry) == [.peerHasPieces(Bitfield(count: 10), replacing: nil)])
    }

    @Test func allowedFastPiecesAreKeptWithinTheTorrentAndABound() {
        var session = PeerSession(now: start, supportsFast: true, geometry: geometry)
        #expect(session.received(.allowedFast(3)) == [])
        #expect(session.received(.allowedFast(10)) == [])
        #expect(session.allowedFast == [3])
        var early = PeerSession(now: start, supportsFast: true)
        for piece in 0..<100 { _ = early.received(.allowedFast(UInt32(piece))) }
        #expect(early.allowedFast.count == PeerSession.allowedFastKept)
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
        fast.sent([request], now: start, timeout: timeouts.request)
        plain.sent([request], now: start, timeout: timeouts.request)
        #expect(fast.received(.choke) == [], "a fast peer rejects what it will not serve, one by one")
        #expect(plain.received(.choke) == [.dropRequests])
        #expect(plain.peerChoking && fast.peerChoking)
        #expect(fast.inFlight.count == 1 && plain.inFlight.isEmpty && plain.givenUp == [request])
    }

    @Test func fastExtensionMessagesFromAPeerWithoutItAreBanned() {
        var plain = PeerSession(now: start, supportsFast: false)
        #expect(plain.received(.haveAll) == [.ban(reason: "have_all without the fast extension")])
        #expect(plain.received(.haveNone) == [.ban(reason: "have_none without the fast extension")])
        #expect(plain.received(.rejectRequest(request)) == [.ban(reason: "reject_request without the fast extension")])
        #expect(plain.received(.allowedFast(3)) == [.ban(reason: "allowed_fast without the fast extension")])
        var fast = PeerSession(now: start, supportsFast: true)
        for message: PeerMessage in [.keepAlive, .request(request), .cancel(request), .extended(id: 0, payload: [])] {
            #expect(fast.received(message) == nil, "the torrent handles \(message)")
        }
    }
}
