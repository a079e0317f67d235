@testable import Engine
import PeerProtocol
import Testing
import TorrentModel

/// The rules for peers that lie or stall (`PeerSession`, "Peers that lie or stall"): events
/// and ticks in, a ban, a drop or nothing out, with time passed in. Each rule next to the
/// real slow peer it must leave alone.
@Suite struct LyingPeerTests {
    let start = ContinuousClock.now
    let timeouts = EngineTimeouts()
    /// 10 pieces of 64 KiB, the last one 16 KiB.
    let geometry = PeerSession.Geometry(pieceCount: 10, pieceLength: 65536, totalLength: 9 * 65536 + 16384)

    func request(_ piece: UInt32, _ begin: UInt32 = 0) -> BlockRequest { BlockRequest(piece: piece, begin: begin, length: 16384) }

    func block(_ piece: UInt32, _ begin: UInt32 = 0, length: Int = 16384) -> PeerMessage {
        .piece(piece: piece, begin: begin, block: [UInt8](repeating: 7, count: length))
    }

    func at(_ seconds: Double) -> ContinuousClock.Instant { start + .milliseconds(Int(seconds * 1000)) }

    /// An unchoking peer we are interested in, both sides talking up to `seconds`.
    func unchokingPeer() -> PeerSession {
        var session = PeerSession(now: start, supportsFast: true, geometry: geometry)
        _ = session.received(.unchoke)
        _ = session.setAmInterested(true)
        return session
    }

    func keepTalking(_ session: inout PeerSession, at seconds: Double) {
        session.receivedSomething(now: at(seconds))
        session.sentSomething(now: at(seconds))
    }

    // MARK: blocks

    /// A block one byte short of what we asked: its request goes back to the pool at once
    /// (another peer gets it now, not at a timeout), and the third such block is a ban.
    @Test func blocksOfTheWrongLengthGiveTheirRequestBackAndTheThirdIsABan() {
        var session = unchokingPeer()
        let asked = (0..<3).map { request(1, UInt32($0) * 16384) }
        session.sent(asked, now: start, timeout: timeouts.request)
        #expect(session.received(block(1, 0, length: 16383)) == [.discard(bytes: 16383), .requestAnsweredWrongly(asked[0])])
        #expect(session.inFlight.keys.sorted { $0.begin < $1.begin } == Array(asked[1...]))
        // Off the grid and answering nothing: counted all the same.
        #expect(session.received(block(2, 100)) == [.discard(bytes: 16384)])
        #expect(session.received(block(1, 16384, length: 16385)) == [
            .discard(bytes: 16385), .requestAnsweredWrongly(asked[1]),
            .ban(reason: "sends blocks of the wrong length (1:16384+16385 for a request of 16384)"),
        ])
    }

    /// The last block of the last piece is short, and right: not a wrong length.
    @Test func theShortLastBlockIsNoLie() {
        var session = unchokingPeer()
        let last = BlockRequest(piece: 9, begin: 0, length: 16384)
        session.sent([last], now: start, timeout: timeouts.request)
        #expect(session.received(block(9)) == [.blockArrived(.init(request: last, data: [UInt8](repeating: 7, count: 16384), late: false))])
        #expect(geometry.isBlock(piece: 8, begin: 49152, length: 16384))
        #expect(!geometry.isBlock(piece: 8, begin: 65536, length: 16384))
        #expect(!geometry.isBlock(piece: 8, begin: 8192, length: 16384))
    }

    /// Blocks we never asked for, one after another with none we asked for between, are a
    /// lie (an honest peer sends one only after our memory of cancels overflowed, a few
    /// among its answers): banned past the limit.
    @Test func unaskedBlocksInARowAreABan() {
        var session = unchokingPeer()
        session.sent([request(1)], now: start, timeout: timeouts.request)
        for _ in 0..<PeerSession.unaskedBlocksInARowBeforeBan {
            #expect(session.received(block(5)) == [.discard(bytes: 16384)])
        }
        #expect(session.received(block(5)) == [
            .discard(bytes: 16384), .ban(reason: "sends blocks nobody asked for (\(PeerSession.unaskedBlocksInARowBeforeBan + 1) in a row)"),
        ])
    }

    // MARK: stalls

    /// Unchoked, with requests out, and nothing comes: snubbed at `snub` (its requests go to
    /// the others), then dropped, not banned, `stalledPeer` later: 80 s after the request
    /// it left unanswered.
    @Test func aPeerThatSendsNothingIsSnubbedThenDropped() {
        var session = unchokingPeer()
        session.sent([request(1)], now: start, timeout: timeouts.request)
        var actions: [(Int, PeerSession.Action)] = []
        let end = Int((timeouts.snub + timeouts.stalledPeer).components.seconds) + 5
        for second in 1...end {
            keepTalking(&session, at: Double(second))
            // Snubbed, it gets one request at a time, as `requestMore` does.
            if session.snubbed && session.inFlight.isEmpty { session.sent([request(2)], now: at(Double(second)), timeout: timeouts.request) }
            for action in session.tick(now: at(Double(second)), timeouts: timeouts) { actions.append((second, action)) }
            if case .detach = actions.last?.1 { break }
        }
        let snub = Int(timeouts.snub.components.seconds) + 1
        let drop = Int((timeouts.snub + timeouts.stalledPeer).components.seconds) + 1
        #expect(actions.map(\.0) == [snub, drop], "\(actions)")
        #expect(actions.first?.1 == .snub)
        #expect(actions.last?.1 == .detach(reason: "answered no request in 80 s while unchoking us"))
    }

    /// A snubbed peer that chokes us is not stalling (rtorrent chokes for a 30 s round): it
    /// owes nothing from its choke, its clock starts again with the requests after its
    /// unchoke, and a block ends it all.
    @Test func aChokeHoldsTheStallClockAndABlockEndsIt() {
        var session = unchokingPeer()
        session.sent([request(1)], now: start, timeout: timeouts.request)
        keepTalking(&session, at: 21)
        #expect(session.tick(now: at(21), timeouts: timeouts) == [.snub])
        session.sent([request(2)], now: at(21), timeout: timeouts.request)
        keepTalking(&session, at: 30)
        _ = session.received(.choke)
        for second in stride(from: 40, through: 100, by: 10) {
            keepTalking(&session, at: Double(second))
            #expect(session.tick(now: at(Double(second)), timeouts: timeouts).filter { $0 != .dropRequests }.isEmpty)
        }
        keepTalking(&session, at: 101)
        _ = session.received(.unchoke)
        session.sent([request(3)], now: at(101), timeout: timeouts.request)
        keepTalking(&session, at: 160)
        #expect(session.tick(now: at(160), timeouts: timeouts).isEmpty, "60 s since the unchoke, not more")
        #expect(session.received(block(3))?.count == 1)
        session.blockAccepted(bytes: 16384, now: at(161))
        #expect(!session.snubbed && session.owingSince == nil)
        keepTalking(&session, at: 170)
        #expect(session.tick(now: at(170), timeouts: timeouts).isEmpty)
    }

    /// A slow real peer: a block every 10 s (Transmission batches what it sends every 10 s;
    /// a rate-limited seeder is slower still per block than on loopback): never snubbed, never dropped.
    @Test func aPeerWithABlockEveryTenSecondsIsNeverSnubbed() {
        var session = unchokingPeer()
        let queue = (0..<32).map { request(UInt32($0 / 4), UInt32($0 % 4) * 16384) }
        session.sent(Array(queue[0..<2]), now: start, timeout: timeouts.request)
        for second in 1...300 {
            if second % 10 == 0 {
                let next = queue[(second / 10 - 1) % queue.count]
                #expect(session.received(.piece(piece: next.piece, begin: next.begin, block: [UInt8](repeating: 1, count: 16384)))?.count == 1)
                session.blockAccepted(bytes: 16384, now: at(Double(second)))
                session.sent([queue[(second / 10 + 1) % queue.count]], now: at(Double(second)), timeout: timeouts.request)
            }
            keepTalking(&session, at: Double(second))
            #expect(session.tick(now: at(Double(second)), timeouts: timeouts).isEmpty, "second \(second)")
        }
    }

    /// Requests that go to others before the peer answers (another peer sent the blocks
    /// first, and we cancelled them here) still count: a peer that answers nothing is
    /// dropped even when nobody waits on it any more; one that answers the cancels is not.
    @Test func requestsCancelledUnansweredStillCount() {
        var silent = unchokingPeer()
        silent.sent([request(1), request(2)], now: start, timeout: timeouts.request)
        silent.cancelled([request(1), request(2)])
        keepTalking(&silent, at: 80)
        #expect(silent.tick(now: at(80), timeouts: timeouts).isEmpty)
        keepTalking(&silent, at: 81)
        #expect(silent.tick(now: at(81), timeouts: timeouts) == [.detach(reason: "answered no request in 80 s while unchoking us")])

        var answering = unchokingPeer()
        answering.sent([request(1), request(2)], now: start, timeout: timeouts.request)
        answering.cancelled([request(1), request(2)])
        answering.receivedSomething(now: at(1))
        #expect(answering.received(.rejectRequest(request(1))) == [])
        #expect(answering.received(block(2))?.count == 1, "a block that answers a cancel")
        keepTalking(&answering, at: 100)
        #expect(answering.tick(now: at(100), timeouts: timeouts).isEmpty)
    }

    // MARK: chokes

    /// Choke, unchoke, choke, … 20 times in a minute: dropped (a choke without the fast
    /// extension throws our requests away each time).
    @Test func aChokeStormIsDropped() {
        var session = PeerSession(now: start, supportsFast: false, geometry: geometry)
        var detached: Int?
        for flip in 1...100 {
            session.receivedSomething(now: at(Double(flip) * 0.04))
            _ = session.received(.unchoke)
            let actions = session.received(.choke)
            if actions?.contains(.detach(reason: "choked us 20 times in a minute")) == true {
                detached = flip
                break
            }
        }
        #expect(detached == PeerSession.chokesPerMinuteBeforeDropping)
    }

    /// Transmission's choking rounds (every 10 s) for ten minutes, with a redundant choke
    /// now and then: 6 chokes a minute are no storm.
    @Test func chokingRoundsAreNoStorm() {
        var session = PeerSession(now: start, supportsFast: false, geometry: geometry)
        for round in 1...60 {
            session.receivedSomething(now: at(Double(round) * 10))
            _ = session.received(.unchoke)
            #expect(session.received(.choke) == [.dropRequests])
            #expect(session.received(.choke) == [.dropRequests], "a choke while choked is no change")
        }
        #expect(session.recentChokes.count == PeerSession.chokesPerMinuteBeforeDropping)
    }

    // MARK: metadata

    @Test func aMetadataSizePastTheLimitIsABanAtTheExtensionHandshake() throws {
        var session = PeerSession(now: start, supportsFast: true)
        let huge = try ExtensionHandshake(decoding: Array("d1:md11:ut_metadatai3ee13:metadata_sizei524288000ee".utf8))
        #expect(session.receivedExtensionHandshake(huge) == [.ban(reason: "metadata_size 524288000 is over 16777216 bytes")])
        var honest = PeerSession(now: start, supportsFast: true)
        #expect(honest.receivedExtensionHandshake(ExtensionHandshake(requestQueueLength: 250, metadataSize: 31235)) == [])
        #expect(honest.requestLimit == PeerState.requestLimit(reqq: 250))
    }

    /// Asked for metadata, a peer that rejects or stays silent is dropped after
    /// `metadataPeer`; one that sends a piece now and then is not; once the metadata is
    /// here, nobody is waited on.
    @Test func aPeerThatNeverSendsTheMetadataIsDropped() {
        var silent = PeerSession(now: start, supportsFast: true)
        silent.askedForMetadata(now: start)
        silent.askedForMetadata(now: at(15))
        keepTalking(&silent, at: 30)
        #expect(silent.tick(now: at(30), timeouts: timeouts).isEmpty)
        keepTalking(&silent, at: 31)
        #expect(silent.tick(now: at(31), timeouts: timeouts) == [.detach(reason: "sent no metadata in 30 s")])

        var slow = PeerSession(now: start, supportsFast: true)
        for second in stride(from: 0, through: 120, by: 20) {
            slow.askedForMetadata(now: at(Double(second)))
            keepTalking(&slow, at: Double(second) + 19)
            #expect(slow.tick(now: at(Double(second) + 19), timeouts: timeouts).isEmpty)
            slow.metadataArrived()
        }

        var done = PeerSession(now: start, supportsFast: true)
        done.askedForMetadata(now: start)
        _ = done.learnedGeometry(geometry)
        keepTalking(&done, at: 100)
        #expect(done.tick(now: at(100), timeouts: timeouts).isEmpty)
    }
}
