@testable import Engine
import Testing
import TorrentModel

/// The cache's policy alone: which verified pieces of shares go when they pass the limit.
@Suite struct CachePolicyTests {
    let start = ContinuousClock.now
    let a = InfoHash(SHA1.hash([1]))
    let b = InfoHash(SHA1.hash([2]))
    let c = InfoHash(SHA1.hash([3]))

    func at(_ seconds: Int) -> ContinuousClock.Instant { start + .seconds(seconds) }

    func pieces(_ victims: [(torrent: InfoHash, pieces: [Int])], of torrent: InfoHash) -> [Int] {
        victims.first { $0.torrent == torrent }?.pieces ?? []
    }

    @Test func withinTheLimitNothingGoes() {
        var policy = CachePolicy(limit: 400)
        policy.addShare(a, pieceCount: 10, pinned: false)
        for piece in 0..<4 { policy.verified(piece, of: a, bytes: 100, at: at(piece)) }
        #expect(policy.usedBytes == 400)
        #expect(!policy.isOverLimit)
        #expect(policy.victims().isEmpty)
        #expect(CachePolicy(limit: nil).victims().isEmpty)
    }

    @Test func theLeastRecentlyReadGoFirstAcrossShares() {
        var policy = CachePolicy(limit: 400)
        policy.addShare(a, pieceCount: 10, pinned: false)
        policy.addShare(b, pieceCount: 10, pinned: false)
        policy.verified(0, of: a, bytes: 100, at: at(0))
        policy.verified(0, of: b, bytes: 100, at: at(1))
        policy.verified(1, of: a, bytes: 100, at: at(2))
        policy.verified(1, of: b, bytes: 100, at: at(3))
        // Read again: a's piece 0 is now the most recent.
        policy.read(0..<1, of: a, at: at(4))
        policy.verified(2, of: a, bytes: 100, at: at(5))
        #expect(policy.usedBytes == 500)
        // Down to the target (400 - 400/16 = 375): two pieces, b's 0 then a's 1.
        let victims = policy.victims()
        #expect(victims.map(\.torrent) == [b, a])
        #expect(pieces(victims, of: b) == [0])
        #expect(pieces(victims, of: a) == [1])
        policy.evicted([0], of: b)
        policy.evicted([1], of: a)
        #expect(policy.usedBytes == 300)
        #expect(policy.victims().isEmpty)
    }

    @Test func piecesOfIncompleteSharesGoBeforeThoseOfCompleteOnes() {
        var policy = CachePolicy(limit: 300)
        policy.addShare(a, pieceCount: 2, pinned: false)    // complete below
        policy.addShare(b, pieceCount: 10, pinned: false)
        policy.verified(0, of: a, bytes: 100, at: at(0))
        policy.verified(1, of: a, bytes: 100, at: at(1))
        policy.verified(0, of: b, bytes: 100, at: at(2))
        policy.verified(1, of: b, bytes: 100, at: at(3))
        let victims = policy.victims()
        // The complete share's pieces are older, yet the incomplete share's go.
        #expect(victims.map(\.torrent) == [b])
        #expect(pieces(victims, of: b) == [0, 1])
    }

    @Test func heldPiecesAndPinnedSharesNeverGo() {
        var policy = CachePolicy(limit: 100)
        policy.addShare(a, pieceCount: 10, pinned: false)
        policy.addShare(b, pieceCount: 4, pinned: true)
        for piece in 0..<4 { policy.verified(piece, of: b, bytes: 100, at: at(piece)) }
        // A pinned share counts apart: it is not over any limit by itself.
        #expect(policy.usedBytes == 0)
        #expect(policy.pinnedBytes == 400)
        for piece in 0..<5 { policy.verified(piece, of: a, bytes: 100, at: at(10 + piece)) }
        // An open reader reads 0..<2 and reads ahead 2..<4; a waiting read holds 4.
        policy.setHeld([0..<2, 2..<4, 4..<5], of: a)
        #expect(policy.isOverLimit)
        #expect(policy.victims().isEmpty)
        // The reader moves on: what it read is no longer held, oldest first.
        policy.setHeld([3..<5], of: a)
        let victims = policy.victims()
        #expect(victims.map(\.torrent) == [a])
        #expect(pieces(victims, of: a) == [0, 1, 2])
    }

    @Test func unpinningCountsTheShareAgainAndPinningTakesItOut() {
        var policy = CachePolicy(limit: 150)
        policy.addShare(a, pieceCount: 4, pinned: true)
        for piece in 0..<3 { policy.verified(piece, of: a, bytes: 100, at: at(piece)) }
        #expect(policy.victims().isEmpty)
        policy.setPinned(a, false)
        #expect(policy.usage == CachePolicy.Usage(used: 300, limit: 150, pinned: 0))
        #expect(pieces(policy.victims(), of: a) == [0, 1])
        policy.setPinned(a, true)
        #expect(policy.usage == CachePolicy.Usage(used: 0, limit: 150, pinned: 300))
        #expect(policy.victims().isEmpty)
    }

    @Test func aLimitOfZeroKeepsOnlyWhatIsHeld() {
        var policy = CachePolicy(limit: 0)
        policy.addShare(a, pieceCount: 4, pinned: false)
        for piece in 0..<4 { policy.verified(piece, of: a, bytes: 100, at: at(piece)) }
        policy.setHeld([3..<4], of: a)
        #expect(pieces(policy.victims(), of: a) == [0, 1, 2])
    }

    @Test func unknownSharesRemovedSharesAndPiecesOutOfRangeCountNothing() {
        var policy = CachePolicy(limit: 100)
        // A recording never joins: its pieces are not counted.
        policy.verified(0, of: c, bytes: 1000, at: at(0))
        policy.addShare(a, pieceCount: 2, pinned: false)
        policy.verified(7, of: a, bytes: 1000, at: at(0))
        policy.verified(-1, of: a, bytes: 1000, at: at(0))
        #expect(policy.usedBytes == 0)
        policy.verified(0, of: a, bytes: 100, at: at(1))
        policy.verified(0, of: a, bytes: 100, at: at(2))  // the same piece again counts once
        policy.verified(1, of: a, bytes: 60, at: at(3))
        #expect(policy.usedBytes == 160)
        policy.removeShare(a)
        #expect(policy.usedBytes == 0)
        #expect(!policy.contains(a))
        #expect(policy.victims().isEmpty)
    }

    @Test func piecesReadAtTheSameInstantGoInTheOrderTheyWereTouched() {
        var policy = CachePolicy(limit: 200)
        policy.addShare(a, pieceCount: 10, pinned: false)
        for piece in [5, 3, 8, 1] { policy.verified(piece, of: a, bytes: 100, at: at(0)) }
        // Down to 188 bytes: three of them.
        #expect(pieces(policy.victims(), of: a) == [5, 3, 8])
    }
}
