/// The Kademlia routing table of BEP 5: k-buckets of at most 8 nodes over the
/// 160-bit id space, seen from our own id.
///
/// Bucket `i` holds nodes whose id shares exactly `i` leading bits with ours; the
/// last bucket holds everything closer. Only that last bucket splits when full, so
/// we know many nodes near us and a few far away, and the table never exceeds 160
/// buckets of 8 nodes plus a few replacements each, whatever the network sends.
///
/// A node is good while it has answered us in the last 15 minutes, questionable
/// after 15 minutes of silence, and bad after two failed queries in a row. A full
/// bucket takes a newcomer in place of a bad node; with only questionable nodes it
/// keeps the newcomer as a replacement and tells the caller whom to ping, and a
/// replacement moves in when a node goes bad. Pure: time is passed in.
public struct RoutingTable: Sendable {
    public static let bucketSize = 8
    /// Newcomers kept per bucket for when a node there goes bad.
    public static let replacementsPerBucket = 4
    public static let maxBuckets = NodeID.bitCount
    /// How long a node stays good after answering, and a bucket fresh after a change.
    public static let goodFor: Duration = .seconds(15 * 60)
    public static let failuresUntilBad = 2

    public enum NodeStatus: Sendable, Equatable {
        case good, questionable, bad
    }

    /// What `insert` did with a node.
    public enum InsertResult: Sendable, Equatable {
        /// The node was new and there was room.
        case added
        /// The node was known; it is good again.
        case refreshed
        /// The node took the place of this bad node.
        case replaced(NodeInfo)
        /// The bucket is full but holds questionable nodes: the newcomer waits as a
        /// replacement, and the caller should ping these (least recently seen first);
        /// those that fail twice make room.
        case pending(ping: [NodeInfo])
        /// The bucket is full of good nodes; the newcomer is dropped, as BEP 5 says.
        case discarded
        /// Our own id, or a known id at another address (which could be someone
        /// trying to take over a good node's place).
        case ignored
    }

    struct Entry: Sendable {
        var node: NodeInfo
        var lastResponse: ContinuousClock.Instant
        var failures = 0

        func status(now: ContinuousClock.Instant) -> NodeStatus {
            if failures >= RoutingTable.failuresUntilBad { return .bad }
            if failures == 0 && now - lastResponse < RoutingTable.goodFor { return .good }
            return .questionable
        }
    }

    struct Bucket: Sendable {
        var entries: [Entry] = []
        /// Most recently seen last.
        var replacements: [Entry] = []
        var lastChanged: ContinuousClock.Instant
    }

    public let ownID: NodeID
    private var buckets: [Bucket]

    public init(ownID: NodeID, now: ContinuousClock.Instant) {
        self.ownID = ownID
        self.buckets = [Bucket(lastChanged: now)]
    }

    /// How many nodes the table holds (replacements not counted).
    public var count: Int { buckets.reduce(0) { $0 + $1.entries.count } }
    public var bucketCount: Int { buckets.count }
    /// Every node in the table, bucket by bucket.
    public var nodes: [NodeInfo] { buckets.flatMap { $0.entries.map(\.node) } }

    /// Notes that `node` answered us (or queried us) at `now`, adding it if there is room.
    public mutating func insert(_ node: NodeInfo, now: ContinuousClock.Instant) -> InsertResult {
        guard node.id != ownID else { return .ignored }
        while true {
            let index = bucketIndex(for: node.id)
            if let position = buckets[index].entries.firstIndex(where: { $0.node.id == node.id }) {
                guard buckets[index].entries[position].node == node else { return .ignored }
                buckets[index].entries[position].lastResponse = now
                buckets[index].entries[position].failures = 0
                buckets[index].lastChanged = now
                return .refreshed
            }
            let entry = Entry(node: node, lastResponse: now)
            if buckets[index].entries.count < Self.bucketSize {
                buckets[index].entries.append(entry)
                buckets[index].replacements.removeAll { $0.node.id == node.id }
                buckets[index].lastChanged = now
                return .added
            }
            if let bad = buckets[index].entries.firstIndex(where: { $0.status(now: now) == .bad }) {
                let old = buckets[index].entries[bad].node
                buckets[index].entries[bad] = entry
                buckets[index].replacements.removeAll { $0.node.id == node.id }
                buckets[index].lastChanged = now
                return .replaced(old)
            }
            if index == buckets.count - 1 && buckets.count < Self.maxBuckets {
                split()
                continue
            }
            let questionable = buckets[index].entries
                .filter { $0.status(now: now) == .questionable }
                .sorted { $0.lastResponse < $1.lastResponse }
                .map(\.node)
            guard !questionable.isEmpty else { return .discarded }
            var replacements = buckets[index].replacements
            replacements.removeAll { $0.node.id == node.id }
            replacements.append(entry)
            if replacements.count > Self.replacementsPerBucket { replacements.removeFirst() }
            buckets[index].replacements = replacements
            return .pending(ping: questionable)
        }
    }

    /// Notes that a query to `id` went unanswered. After two in a row the node is bad;
    /// if a replacement waits, it takes the bad node's place at once.
    public mutating func markFailed(_ id: NodeID) {
        let index = bucketIndex(for: id)
        buckets[index].replacements.removeAll { $0.node.id == id }
        guard let position = buckets[index].entries.firstIndex(where: { $0.node.id == id }) else { return }
        buckets[index].entries[position].failures += 1
        if buckets[index].entries[position].failures >= Self.failuresUntilBad,
           let replacement = buckets[index].replacements.popLast() {
            buckets[index].entries[position] = replacement
        }
    }

    /// The status of a node in the table, nil if it is not there.
    public func status(of id: NodeID, now: ContinuousClock.Instant) -> NodeStatus? {
        buckets[bucketIndex(for: id)].entries.first { $0.node.id == id }?.status(now: now)
    }

    /// Up to `count` nodes that are not bad, closest to `target` by XOR distance first.
    public func closest(to target: NodeID, count: Int) -> [NodeInfo] {
        let candidates = buckets.flatMap { bucket in
            bucket.entries.filter { $0.failures < Self.failuresUntilBad }.map(\.node)
        }
        return Array(candidates.sorted { target.isCloser($0.id, than: $1.id) }.prefix(max(0, count)))
    }

    /// Indices of buckets that have not changed in 15 minutes; look up a random id in
    /// each (``refreshTarget(forBucket:using:)``) to refresh them.
    public func bucketsNeedingRefresh(now: ContinuousClock.Instant) -> [Int] {
        buckets.indices.filter { now - buckets[$0].lastChanged >= Self.goodFor }
    }

    /// Marks a bucket refreshed after a lookup in its range, even if no node changed,
    /// so it is not refreshed again for 15 minutes.
    public mutating func noteRefreshed(bucket index: Int, now: ContinuousClock.Instant) {
        guard buckets.indices.contains(index) else { return }
        buckets[index].lastChanged = now
    }

    /// A random id that falls in bucket `index`.
    public func refreshTarget(forBucket index: Int, using generator: inout some RandomNumberGenerator) -> NodeID {
        precondition(buckets.indices.contains(index), "no such bucket")
        return NodeID.random(sharingPrefixOf: ownID, length: index, using: &generator)
    }

    func bucketIndex(for id: NodeID) -> Int {
        min(ownID.commonPrefixLength(with: id), buckets.count - 1)
    }

    /// Splits the last bucket: nodes sharing more bits with us than its index move to a new last bucket.
    private mutating func split() {
        let last = buckets.count - 1
        var near = Bucket(lastChanged: buckets[last].lastChanged)
        let moves = { (entry: Entry) in self.ownID.commonPrefixLength(with: entry.node.id) > last }
        near.entries = buckets[last].entries.filter(moves)
        near.replacements = buckets[last].replacements.filter(moves)
        buckets[last].entries.removeAll(where: moves)
        buckets[last].replacements.removeAll(where: moves)
        buckets.append(near)
    }
}
