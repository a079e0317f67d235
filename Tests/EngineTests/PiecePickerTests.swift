import Engine
import PeerHarness
import Testing
import TorrentModel

@Suite struct PiecePickerTests {
    let a = PeerKey(1), b = PeerKey(2)

    func picker(pieces: Int = 8, pieceLength: Int = 32768, total: Int64? = nil, priority: UInt8 = PiecePicker.normal) -> PiecePicker {
        PiecePicker(pieceCount: pieces, pieceLength: pieceLength, totalLength: total ?? Int64(pieces * pieceLength),
                    defaultPriority: priority)
    }

    @Test func picksRarestPiecesFirst() {
        var picker = picker()
        let all = Bitfield(count: 8, allSet: true)
        var allButThree = all
        allButThree[3] = false
        picker.peerHas(all)
        picker.peerHas(allButThree)  // piece 3 has one holder, every other piece two
        let blocks = picker.pick(for: a, peerHas: all, count: 2)
        #expect(blocks.map(\.piece) == [3, 3])
    }

    @Test func deadlinesComeFirstInOrder() {
        var picker = picker()
        let all = Bitfield(count: 8, allSet: true)
        picker.peerHas(all)
        picker.setDeadline(2, for: 6)
        picker.setDeadline(1, for: 4)
        let blocks = picker.pick(for: a, peerHas: all, count: 4)
        #expect(blocks.map(\.piece) == [4, 4, 6, 6])
    }

    /// A random read whose blocks are checked one by one gets its own blocks, and nothing is
    /// asked before them; once they are in, the rest of the piece follows. A served piece
    /// waits while parked, and comes back when unparked.
    @Test func aRandomReadsOwnBlocksComeAloneFirst() {
        var picker = picker(pieces: 4, pieceLength: 8 * 16384)
        let all = Bitfield(count: 4, allSet: true)
        picker.peerHas(all)
        picker.setDeadline(1, for: 2, needing: 5..<7)
        let first = picker.pick(for: a, peerHas: all, count: 10)
        #expect(first == [Block(piece: 2, index: 5), Block(piece: 2, index: 6)])
        // Still in flight: nothing else is asked.
        #expect(picker.pick(for: a, peerHas: all, count: 10).isEmpty)
        for block in first { _ = picker.received(block, from: a) }
        let rest = picker.pick(for: a, peerHas: all, count: 6)
        #expect(rest.map(\.piece) == [2, 2, 2, 2, 2, 2])
        #expect(Set(rest.map(\.index)) == [0, 1, 2, 3, 4, 7])
        // The reader was served: the piece is parked, and other pieces come first.
        picker.clearDeadline(for: 2)
        picker.park(2)
        for block in rest { picker.requestFailed(block, peer: a) }
        #expect(!picker.pick(for: a, peerHas: all, count: 16).contains { $0.piece == 2 })
        picker.unparkAll()
        #expect(picker.pick(for: a, peerHas: all, count: 64).contains { $0.piece == 2 })
    }

    /// A peer that does not have a random read's piece goes on with other pieces meanwhile.
    @Test func aPeerWithoutTheReadsPieceIsNotHeldBack() {
        var picker = picker(pieces: 4, pieceLength: 8 * 16384)
        var withoutTwo = Bitfield(count: 4, allSet: true)
        withoutTwo[2] = false
        picker.peerHas(Bitfield(count: 4, allSet: true))
        picker.peerHas(withoutTwo)
        picker.setDeadline(1, for: 2, needing: 5..<7)
        #expect(picker.pick(for: b, peerHas: Bitfield(count: 4, allSet: true), count: 10).map(\.piece) == [2, 2])
        let others = picker.pick(for: a, peerHas: withoutTwo, count: 4)
        #expect(others.count == 4 && !others.contains { $0.piece == 2 })
    }

    /// Readahead is fetched nearest first, whatever the rarity or the shuffle says, so a
    /// streaming reader finds its next piece ready; pieces at normal priority stay rarest first.
    @Test func readaheadComesInFileOrder() {
        var picker = picker(pieces: 16)
        let all = Bitfield(count: 16, allSet: true)
        var rareHigh = all
        rareHigh[13] = false
        rareHigh[2] = false
        picker.peerHas(all)
        picker.peerHas(rareHigh)  // 2 and 13 are the rarest
        for piece in [13, 9, 11, 10, 12] { picker.raisePriority(PiecePicker.high, of: piece) }
        // Two blocks a piece: five pieces of readahead, in order, then the rarest normal one.
        let blocks = picker.pick(for: a, peerHas: all, count: 12)
        #expect(blocks.map(\.piece) == [9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 2, 2])
    }

    @Test func skippedPiecesAreNeverRequested() {
        var picker = picker(priority: PiecePicker.skip)
        let all = Bitfield(count: 8, allSet: true)
        #expect(picker.pick(for: a, peerHas: all, count: 10).isEmpty)
        #expect(!picker.isInterested(in: all))
        picker.raisePriority(PiecePicker.high, of: 7)
        #expect(picker.isInterested(in: all))
        #expect(Set(picker.pick(for: a, peerHas: all, count: 10).map(\.piece)) == [7])
    }

    @Test func finishesStartedPiecesAndReportsCompletion() {
        var picker = picker(pieces: 2)
        let all = Bitfield(count: 2, allSet: true)
        let first = picker.pick(for: a, peerHas: all, count: 1)
        #expect(first.count == 1)
        let next = picker.pick(for: b, peerHas: all, count: 1)
        #expect(next[0].piece == first[0].piece)  // the started piece is finished first
        #expect(picker.received(first[0], from: a) == .accepted(pieceComplete: false, cancelFrom: []))
        #expect(picker.received(next[0], from: b) == .accepted(pieceComplete: true, cancelFrom: []))
        #expect(picker.received(next[0], from: b) == .ignored)  // a duplicate
        picker.pieceVerified(first[0].piece)
        #expect(picker.have[first[0].piece])
    }

    @Test func endgameAsksASecondPeerAndCancelsTheFirst() {
        var picker = picker(pieces: 1, pieceLength: 16384)
        let all = Bitfield(count: 1, allSet: true)
        let fromA = picker.pick(for: a, peerHas: all, count: 5)
        #expect(fromA.count == 1)
        let fromB = picker.pick(for: b, peerHas: all, count: 5)
        #expect(fromB == fromA)  // endgame: the same block from another peer
        #expect(picker.received(fromB[0], from: b) == .accepted(pieceComplete: true, cancelFrom: [a]))
        #expect(picker.outstandingRequests(of: a).isEmpty)
    }

    /// A request that timed out is asked of another peer, never of the slow one again; the
    /// slow one's answer is still taken if it comes first, and the other peer gets a cancel.
    @Test func aTimedOutRequestIsAskedOfAnotherPeerAndTheLateAnswerIsStillTaken() {
        var picker = picker(pieces: 2, pieceLength: 32768)
        let all = Bitfield(count: 2, allSet: true)
        let c = PeerKey(3)
        let slow = picker.pick(for: a, peerHas: all, count: 1)[0]
        picker.requestTimedOut(slow, peer: a)
        #expect(picker.outstandingRequests(of: a).isEmpty, "the slow peer's pipeline has room again")
        #expect(!picker.pick(for: a, peerHas: all, count: 1).contains(slow), "not asked of the slow peer at once")
        #expect(picker.pick(for: b, peerHas: all, count: 1) == [slow], "asked of another peer")
        #expect(picker.received(slow, from: a) == .accepted(pieceComplete: false, cancelFrom: [b]))
        #expect(picker.outstandingRequests(of: b).isEmpty)

        // Another peer's answer first: the slow one gets a cancel, and its block is not taken.
        let next = picker.pick(for: c, peerHas: all, count: 1)[0]
        picker.requestTimedOut(next, peer: c)
        #expect(picker.pick(for: b, peerHas: all, count: 1) == [next])
        #expect(picker.received(next, from: b) == .accepted(pieceComplete: false, cancelFrom: [c]))
        #expect(picker.received(next, from: c) == .ignored)
    }

    /// A lone peer that lost a request is asked for the block again, after one pick of
    /// other blocks: never asking it again stalled the piece for good.
    @Test func aLonePeerIsAskedAgainForABlockItTimedOutOn() {
        var picker = picker(pieces: 1, pieceLength: 3 * 16384)
        let all = Bitfield(count: 1, allSet: true)
        let lost = picker.pick(for: a, peerHas: all, count: 1)[0]
        picker.requestTimedOut(lost, peer: a)
        let next = picker.pick(for: a, peerHas: all, count: 1)
        #expect(next.count == 1 && !next.contains(lost), "a new block first")
        #expect(picker.pick(for: a, peerHas: all, count: 2).contains(lost), "then the lost one again")
        #expect(picker.received(lost, from: a) == .accepted(pieceComplete: false, cancelFrom: []))
    }

    @Test func aFailedPieceIsFetchedAgainAndBlamesItsSenders() {
        var picker = picker(pieces: 1, pieceLength: 32768)
        let all = Bitfield(count: 1, allSet: true)
        let blocks = picker.pick(for: a, peerHas: all, count: 1) + picker.pick(for: b, peerHas: all, count: 1)
        _ = picker.received(blocks[0], from: a)
        _ = picker.received(blocks[1], from: b)
        #expect(picker.pieceFailed(0) == [a, b])
        #expect(!picker.have[0])
        #expect(picker.pick(for: a, peerHas: all, count: 4).count == 2)
    }

    @Test func aLostPeersRequestsReturnToThePool() {
        var picker = picker(pieces: 1, pieceLength: 65536)
        let all = Bitfield(count: 1, allSet: true)
        picker.peerHas(all)
        #expect(picker.pick(for: a, peerHas: all, count: 4).count == 4)
        picker.peerLeft(a, had: all)
        #expect(picker.availability(of: 0) == 0)
        #expect(picker.pick(for: b, peerHas: all, count: 4).count == 4)
    }

    @Test func blocksMustMatchTheGeometry() {
        let picker = picker(pieces: 2, pieceLength: 32768, total: 40000)
        #expect(picker.block(piece: 1, begin: 0, length: 7232) == Block(piece: 1, index: 0))
        #expect(picker.block(piece: 1, begin: 0, length: 16384) == nil)
        #expect(picker.block(piece: 0, begin: 100, length: 16384) == nil)
        #expect(picker.block(piece: 2, begin: 0, length: 16384) == nil)
        #expect(picker.block(piece: -1, begin: 0, length: 16384) == nil)
    }
}
