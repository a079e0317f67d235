import TestSupport
@testable import Discovery
import Testing

@Suite struct TrackerTiersTests {
    let input = [
        ["http://a1/announce", "http://a2/announce", "http://a3/announce", "http://a4/announce"],
        ["udp://b1:1", "udp://b2:2", "udp://b3:3"],
        ["http://c1/announce"],
    ]

    @Test func shufflesWithinTiersOnly() {
        var sawDifferentOrder = false
        for seed in 0..<50 as Range<UInt64> {
            var random = SeededGenerator(seed: seed)
            let tiers = TrackerTiers(tiers: input, random: &random)
            #expect(tiers.tiers.count == 3)
            for (shuffled, original) in zip(tiers.tiers, input) {
                #expect(shuffled.sorted() == original.sorted())
            }
            #expect(tiers.orderedURLs == Array(tiers.tiers.joined()))
            if tiers.tiers != input { sawDifferentOrder = true }
        }
        #expect(sawDifferentOrder)
    }

    @Test func sameSeedSameOrder() {
        var first = SeededGenerator(seed: 3), second = SeededGenerator(seed: 3)
        #expect(TrackerTiers(tiers: input, random: &first) == TrackerTiers(tiers: input, random: &second))
    }

    @Test func dropsEmptyTiersAndDuplicates() {
        var random = SeededGenerator(seed: 1)
        let tiers = TrackerTiers(tiers: [[], ["x", "x", "y"], ["y"], ["z", "x"]], random: &random)
        #expect(tiers.tiers.map { $0.sorted() } == [["x", "y"], ["z"]])
    }

    @Test func markWorkingMovesToTheFrontOfItsTier() {
        var random = SeededGenerator(seed: 11)
        var tiers = TrackerTiers(tiers: input, random: &random)
        let before = tiers.tiers
        let target = before[1].last!
        tiers.markWorking(target)
        #expect(tiers.tiers[0] == before[0])
        #expect(tiers.tiers[1] == [target] + before[1].dropLast())
        #expect(tiers.tiers[2] == before[2])
        #expect(tiers.orderedURLs == before[0] + [target] + before[1].dropLast() + before[2])

        tiers.markWorking("http://unknown/announce")
        #expect(tiers.tiers[1].first == target)
        tiers.markWorking(target)
        #expect(tiers.tiers[1].first == target)
    }

    @Test func empty() {
        var random = SeededGenerator(seed: 1)
        var tiers = TrackerTiers(tiers: [], random: &random)
        tiers.markWorking("x")
        #expect(tiers.orderedURLs.isEmpty)
    }
}
