import Testing
import TestSupport
import PeerProtocol

/// The choker's rounds, driven by hand: instants made up from one start, a seeded generator.
struct ChokerTests {
    let start = ContinuousClock.now

    func at(_ seconds: Int) -> ContinuousClock.Instant { start + .seconds(seconds) }

    func peer(_ key: Int, interested: Bool = true, down: Double = 0, up: Double = 0, choked: Bool = true)
        -> ChokeCandidate<Int> {
        ChokeCandidate(key: key, isInterested: interested, downloadRate: down, uploadRate: up, isChoked: choked)
    }

    /// The candidates as they are once the caller carried out `decision`.
    func applying(_ decision: ChokeDecision<Int>, to candidates: [ChokeCandidate<Int>]) -> [ChokeCandidate<Int>] {
        candidates.map { candidate in
            var candidate = candidate
            if decision.unchoke.contains(candidate.key) { candidate.isChoked = false }
            if decision.choke.contains(candidate.key) { candidate.isChoked = true }
            return candidate
        }
    }

    /// Six interested peers whose download and upload rates rank them in opposite orders.
    var sixPeers: [ChokeCandidate<Int>] {
        (0..<6).map { peer($0, down: Double(100 * ($0 + 1)), up: Double(100 * (6 - $0))) }
    }

    @Test func downloadingGivesTheRegularSlotsToWhoSendsUsMost() throws {
        var choker = Choker<Int>(slots: 4, now: start)
        var rng = SeededGenerator(seed: 1)
        let decision = choker.round(sixPeers, now: at(10), seeding: false, rng: &rng)
        let optimistic = try #require(decision.optimistic)
        #expect([0, 1, 2].contains(optimistic))
        #expect(decision.unchoke == [3, 4, 5, optimistic])
        #expect(decision.choke.isEmpty)
    }

    @Test func seedingGivesTheRegularSlotsToWhoTakesFromUsMost() throws {
        var choker = Choker<Int>(slots: 4, now: start)
        var rng = SeededGenerator(seed: 1)
        let decision = choker.round(sixPeers, now: at(10), seeding: true, rng: &rng)
        let optimistic = try #require(decision.optimistic)
        #expect([3, 4, 5].contains(optimistic))
        #expect(decision.unchoke == [0, 1, 2, optimistic])
    }

    @Test func aPeerThatFallsBehindLosesItsRegularSlot() throws {
        var choker = Choker<Int>(slots: 2, now: start)
        var rng = SeededGenerator(seed: 2)
        var peers = [peer(0, interested: false), peer(1, down: 500), peer(2, down: 100), peer(3, down: 50)]
        peers = applying(choker.round(peers, now: at(10), seeding: false, rng: &rng), to: peers)
        let optimistic = try #require(choker.optimistic)
        let other = optimistic == 2 ? 3 : 2
        #expect(peers.map(\.isChoked) == [true, false, optimistic != 2, optimistic != 3])
        // The choked one overtakes peer 1; the optimistic peer keeps its slot for 30 s.
        peers[other].downloadRate = 1000
        let decision = choker.round(peers, now: at(20), seeding: false, rng: &rng)
        #expect(decision == ChokeDecision(unchoke: [other], choke: [1], optimistic: optimistic))
    }

    @Test func theOptimisticSlotRotatesAfterThirtySecondsAndNotBefore() {
        var choker = Choker<Int>(slots: 2, now: start)
        var rng = SeededGenerator(seed: 3)
        var peers = [peer(0, down: 1000)] + (1...5).map { peer($0) }
        var chosenAt: [Int] = []
        for second in stride(from: 10, through: 130, by: 10) {
            let before = choker.optimisticChosenAt
            let decision = choker.round(peers, now: at(second), seeding: false, rng: &rng)
            peers = applying(decision, to: peers)
            if choker.optimisticChosenAt != before { chosenAt.append(second) }
            #expect(decision.optimistic != nil && decision.optimistic != 0)
            #expect(peers.count { !$0.isChoked } == 2)
        }
        // Chosen at the first round, then every third round: 30 s apart.
        #expect(chosenAt == [10, 40, 70, 100, 130])
    }

    /// The optimistic peers a choker with `seed` picks over `rotations` rotations, among
    /// five peers with nothing to rank them by and one that holds the regular slot.
    func optimisticSequence(seed: UInt64, rotations: Int) -> [Int] {
        var choker = Choker<Int>(slots: 2, now: start)
        var rng = SeededGenerator(seed: seed)
        var peers = [peer(0, down: 1000)] + (1...5).map { peer($0) }
        var sequence: [Int] = []
        for rotation in 0..<rotations {
            let decision = choker.round(peers, now: at(10 + 30 * rotation), seeding: false, rng: &rng)
            peers = applying(decision, to: peers)
            sequence.append(decision.optimistic!)
        }
        return sequence
    }

    @Test func aSeededGeneratorRepeatsTheOptimisticPicksAndVisitsEveryone() {
        let first = optimisticSequence(seed: 42, rotations: 40)
        #expect(first == optimisticSequence(seed: 42, rotations: 40))
        #expect(first != optimisticSequence(seed: 43, rotations: 40))
        #expect(Set(first) == [1, 2, 3, 4, 5])
    }

    @Test func peersNotInterestedAreChoked() {
        var choker = Choker<Int>(slots: 8, now: start)
        var rng = SeededGenerator(seed: 4)
        let peers = [peer(1, interested: false, down: 900, choked: false), peer(2, down: 10, choked: false),
                     peer(3, interested: false, up: 900)]
        let decision = choker.round(peers, now: at(10), seeding: false, rng: &rng)
        #expect(decision.choke == [1])
        #expect(decision.unchoke.isEmpty)
    }

    @Test func anOptimisticPeerThatLosesInterestIsReplacedAtTheNextRound() throws {
        var choker = Choker<Int>(slots: 2, now: start)
        var rng = SeededGenerator(seed: 5)
        var peers = [peer(0, down: 1000), peer(1), peer(2)]
        peers = applying(choker.round(peers, now: at(10), seeding: false, rng: &rng), to: peers)
        let first = try #require(choker.optimistic)
        let other = first == 1 ? 2 : 1
        peers[first].isInterested = false
        let decision = choker.round(peers, now: at(20), seeding: false, rng: &rng)
        #expect(decision.optimistic == other)
        #expect(decision.choke == [first])
        #expect(decision.unchoke == [other])
    }

    @Test func anOptimisticPeerThatEarnsARegularSlotFreesTheOptimisticOne() throws {
        var choker = Choker<Int>(slots: 2, now: start)
        var rng = SeededGenerator(seed: 6)
        var peers = [peer(0, down: 1000), peer(1), peer(2)]
        peers = applying(choker.round(peers, now: at(10), seeding: false, rng: &rng), to: peers)
        let first = try #require(choker.optimistic)
        peers[first].downloadRate = 5000
        // Peer `first` takes peer 0's regular slot; the optimistic one goes at once (not 30 s
        // later) to one of the two others, so two peers stay unchoked, not one.
        let decision = choker.round(peers, now: at(20), seeding: false, rng: &rng)
        let second = try #require(decision.optimistic)
        #expect(second != first)
        #expect(choker.optimisticChosenAt == at(20))
        #expect(applying(decision, to: peers).filter { !$0.isChoked }.map(\.key).sorted() == [first, second].sorted())
    }

    @Test func aPeerThatLeavesFreesItsOptimisticSlot() throws {
        var choker = Choker<Int>(slots: 2, now: start)
        var rng = SeededGenerator(seed: 7)
        var peers = [peer(0, down: 1000), peer(1), peer(2)]
        peers = applying(choker.round(peers, now: at(10), seeding: false, rng: &rng), to: peers)
        let first = try #require(choker.optimistic)
        choker.peerLeft(0)
        #expect(choker.optimistic == first)  // another peer leaving changes nothing
        choker.peerLeft(first)
        #expect(choker.optimistic == nil)
        peers.removeAll { $0.key == first }
        let decision = choker.round(peers, now: at(20), seeding: false, rng: &rng)
        let other = first == 1 ? 2 : 1
        #expect(decision.optimistic == other)
        #expect(decision.unchoke == [other])
    }

    @Test func aNewlyInterestedPeerIsUnchokedAtOnceOnlyWhileASlotIsFree() {
        let choker = Choker<Int>(slots: 3, now: start)
        #expect(choker.unchokesAtOnce(unchokedCount: 0))
        #expect(choker.unchokesAtOnce(unchokedCount: 2))
        #expect(!choker.unchokesAtOnce(unchokedCount: 3))
        #expect(!choker.unchokesAtOnce(unchokedCount: 4))
    }

    @Test func tiesGoToWhoIsAlreadyUnchokedThenToTheSmallerKey() {
        var rng = SeededGenerator(seed: 8)
        var choker = Choker<Int>(slots: 3, now: start)
        // All equal and all choked: the smaller keys get the two regular slots.
        let fresh = (1...6).map { peer($0, down: 100) }
        let first = choker.round(fresh.reversed(), now: at(10), seeding: false, rng: &rng)
        #expect(first.unchoke.isSuperset(of: [1, 2]))
        #expect(first.unchoke.count == 3)
        // Peers 5 and 6 already unchoked keep their slots over equal peers 1 and 2.
        var other = Choker<Int>(slots: 3, now: start)
        var held = fresh
        held[4].isChoked = false
        held[5].isChoked = false
        let second = other.round(held, now: at(10), seeding: false, rng: &rng)
        #expect(!second.choke.contains(5) && !second.choke.contains(6))
        #expect(!second.unchoke.contains(1) || second.optimistic == 1)
        #expect(!second.unchoke.contains(2) || second.optimistic == 2)
    }

    @Test func theOrderOfTheCandidatesDoesNotChangeTheDecision() {
        let peers = (1...12).map { peer($0, down: Double($0 % 3), choked: $0 % 4 == 0) }
        var decisions: [ChokeDecision<Int>] = []
        var shuffler = SeededGenerator(seed: 9)
        for _ in 0..<5 {
            var choker = Choker<Int>(slots: 4, now: start)
            var rng = SeededGenerator(seed: 10)
            decisions.append(choker.round(peers.shuffled(using: &shuffler), now: at(10), seeding: false, rng: &rng))
        }
        #expect(decisions.allSatisfy { $0 == decisions[0] })
    }

    @Test func fewerInterestedPeersThanSlotsAreAllUnchoked() {
        var choker = Choker<Int>(slots: 8, now: start)
        var rng = SeededGenerator(seed: 11)
        let peers = [peer(1), peer(2, down: 5), peer(3, choked: false), peer(4, interested: false)]
        let decision = choker.round(peers, now: at(10), seeding: false, rng: &rng)
        #expect(decision.unchoke == [1, 2])
        #expect(decision.choke.isEmpty)
        #expect(decision.optimistic == nil)
    }

    @Test func aRoundIsDueEveryTenSeconds() {
        var choker = Choker<Int>(slots: 8, now: start)
        var rng = SeededGenerator(seed: 12)
        #expect(!choker.isRoundDue(at(9)))
        #expect(choker.isRoundDue(at(10)))
        _ = choker.round([], now: at(12), seeding: false, rng: &rng)
        #expect(!choker.isRoundDue(at(21)))
        #expect(choker.isRoundDue(at(22)))
    }
}
