import TestSupport
@testable import Discovery
import Testing
import TorrentModel

@Suite struct RoutingTableTests {
    let start = ContinuousClock.now
    static let zero = NodeID(bytes: Array(repeating: 0, count: 20))!

    /// A node whose id shares exactly `prefix` bits with `base`.
    static func node(near base: NodeID, prefix: Int, _ generator: inout SeededGenerator, port: UInt16 = 6881) -> NodeInfo {
        let id = NodeID.random(sharingPrefixOf: base, length: prefix, using: &generator)
        return NodeInfo(id: id, address: ipv4(10, UInt8.random(in: 0...255, using: &generator),
                                              UInt8.random(in: 0...255, using: &generator), 1, port: port))!
    }

    static func randomNode(_ generator: inout SeededGenerator) -> NodeInfo {
        NodeInfo(id: .random(using: &generator), address: ipv4(10, 0, 0, 1, port: 6881))!
    }

    @Test func closestIsOrderedByXORDistance() {
        var generator = SeededGenerator(seed: 1)
        var table = RoutingTable(ownID: .random(using: &generator), now: start)
        for _ in 0..<300 { _ = table.insert(Self.randomNode(&generator), now: start) }
        for _ in 0..<20 {
            let target = NodeID.random(using: &generator)
            let expected = table.nodes.sorted { $0.id.distance(to: target) < $1.id.distance(to: target) }.prefix(8)
            #expect(table.closest(to: target, count: 8) == Array(expected))
        }
        #expect(table.closest(to: Self.zero, count: 0).isEmpty)
        #expect(table.closest(to: Self.zero, count: 10_000).count == table.count)
    }

    @Test func ownIDAndMovedNodesAreIgnored() {
        var generator = SeededGenerator(seed: 2)
        var table = RoutingTable(ownID: Self.zero, now: start)
        #expect(table.insert(NodeInfo(id: Self.zero, address: ipv4(1, 1, 1, 1, port: 1))!, now: start) == .ignored)
        let node = Self.randomNode(&generator)
        #expect(table.insert(node, now: start) == .added)
        #expect(table.insert(node, now: start + .seconds(1)) == .refreshed)
        #expect(table.insert(NodeInfo(id: node.id, address: ipv4(9, 9, 9, 9, port: 9))!, now: start) == .ignored)
        #expect(table.count == 1)
    }

    @Test func onlyTheBucketHoldingOurIDSplits() {
        var generator = SeededGenerator(seed: 3)
        var table = RoutingTable(ownID: Self.zero, now: start)
        // Far nodes (first bit differs): eight fit in the one bucket there is.
        for _ in 0..<8 { #expect(table.insert(Self.node(near: Self.zero, prefix: 0, &generator), now: start) == .added) }
        #expect(table.bucketCount == 1)
        // A ninth far node splits the bucket once, then finds its far half full of good nodes.
        #expect(table.insert(Self.node(near: Self.zero, prefix: 0, &generator), now: start) == .discarded)
        #expect(table.bucketCount == 2)
        for _ in 0..<50 { _ = table.insert(Self.node(near: Self.zero, prefix: 0, &generator), now: start) }
        #expect(table.bucketCount == 2)
        #expect(table.count == 8)
        // Nodes nearer to us keep splitting the near bucket.
        for _ in 0..<9 { _ = table.insert(Self.node(near: Self.zero, prefix: 1, &generator), now: start) }
        #expect(table.bucketCount == 3)
        #expect(table.count == 16)
    }

    @Test func badNodesAreReplaced() throws {
        var generator = SeededGenerator(seed: 4)
        var table = RoutingTable(ownID: Self.zero, now: start)
        let far = (0..<8).map { _ in Self.node(near: Self.zero, prefix: 0, &generator) }
        for node in far { _ = table.insert(node, now: start) }
        _ = table.insert(Self.node(near: Self.zero, prefix: 1, &generator), now: start) // splits
        table.markFailed(far[3].id)
        #expect(table.status(of: far[3].id, now: start) == .questionable)
        table.markFailed(far[3].id)
        #expect(table.status(of: far[3].id, now: start) == .bad)
        #expect(!table.closest(to: far[3].id, count: 100).contains(far[3]))
        let newcomer = Self.node(near: Self.zero, prefix: 0, &generator)
        #expect(table.insert(newcomer, now: start) == .replaced(far[3]))
        #expect(table.status(of: far[3].id, now: start) == nil)
        #expect(table.status(of: newcomer.id, now: start) == .good)
    }

    @Test func questionableNodesArePingedAndReplacementsMoveIn() {
        var generator = SeededGenerator(seed: 5)
        var table = RoutingTable(ownID: Self.zero, now: start)
        let far = (0..<8).map { _ in Self.node(near: Self.zero, prefix: 0, &generator) }
        for (index, node) in far.enumerated() { _ = table.insert(node, now: start + .seconds(index)) }
        _ = table.insert(Self.node(near: Self.zero, prefix: 1, &generator), now: start)
        let later = start + .seconds(16 * 60)
        #expect(table.status(of: far[0].id, now: later) == .questionable)
        // One node answered recently: it is good and not to be pinged.
        _ = table.insert(far[5], now: later)
        let newcomer = Self.node(near: Self.zero, prefix: 0, &generator)
        let result = table.insert(newcomer, now: later)
        #expect(result == .pending(ping: far.filter { $0 != far[5] }))
        #expect(table.status(of: newcomer.id, now: later) == nil)
        table.markFailed(far[0].id)
        table.markFailed(far[0].id)
        #expect(table.status(of: far[0].id, now: later) == nil)
        #expect(table.status(of: newcomer.id, now: later) == .good)
        #expect(table.count == 9)
    }

    @Test func capacityIsBounded() {
        var generator = SeededGenerator(seed: 6)
        let own = NodeID.random(using: &generator)
        var table = RoutingTable(ownID: own, now: start)
        for prefix in 0..<160 {
            for _ in 0..<12 { _ = table.insert(Self.node(near: own, prefix: prefix, &generator), now: start) }
        }
        for _ in 0..<2000 { _ = table.insert(Self.randomNode(&generator), now: start) }
        #expect(table.bucketCount <= RoutingTable.maxBuckets)
        #expect(table.count <= RoutingTable.maxBuckets * RoutingTable.bucketSize)
        // Only 4 + 2 + 1 ids share 157 or more bits with ours, too few to fill and split
        // bucket 157: it is the last, after 157 full buckets.
        #expect(table.bucketCount == 158)
        // Questionable nodes let newcomers into the replacement caches, which stay small.
        let later = start + .seconds(3600)
        for _ in 0..<3000 {
            let prefix = Int.random(in: 0..<160, using: &generator)
            _ = table.insert(Self.node(near: own, prefix: prefix, &generator), now: later)
        }
        #expect(table.count == 157 * 8 + 7)
        #expect(table.bucketCount == 158)
    }

    @Test func refreshOfQuietBuckets() {
        var generator = SeededGenerator(seed: 7)
        var table = RoutingTable(ownID: Self.zero, now: start)
        for _ in 0..<9 { _ = table.insert(Self.node(near: Self.zero, prefix: 0, &generator), now: start) }
        #expect(table.bucketsNeedingRefresh(now: start + .seconds(899)).isEmpty)
        let later = start + .seconds(900)
        #expect(table.bucketsNeedingRefresh(now: later) == [0, 1])
        _ = table.insert(Self.node(near: Self.zero, prefix: 3, &generator), now: later)
        #expect(table.bucketsNeedingRefresh(now: later) == [0])
        table.noteRefreshed(bucket: 0, now: later)
        #expect(table.bucketsNeedingRefresh(now: later).isEmpty)
        for index in 0..<table.bucketCount {
            let target = table.refreshTarget(forBucket: index, using: &generator)
            #expect(table.bucketIndex(for: target) == index)
        }
    }
}
