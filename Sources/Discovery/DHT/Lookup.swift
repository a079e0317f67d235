import TorrentModel

/// An iterative Kademlia lookup (BEP 5) as a state machine: it says whom to query
/// and when it is done; the caller sends the queries, matches the answers to them
/// and calls back. Nothing here touches a socket or a clock.
///
/// At most `alpha` (3) queries are in flight. Each answer brings nodes closer to the
/// target, which are queried in turn; the lookup ends when the `k` (8) closest nodes
/// it knows have all answered or failed, when nobody is left to ask, or at the
/// overall deadline. A `get_peers` lookup also gathers peers and the write tokens
/// for a later `announce_peer`.
public struct Lookup: Sendable {
    public enum Kind: Sendable, Equatable {
        case findNode(NodeID)
        case getPeers(InfoHash)
    }

    public enum Action: Sendable, Equatable {
        case send(KRPCQuery, to: NodeInfo)
        case finished(closest: [NodeInfo], peers: [PeerAddress])
    }

    public static let alpha = 3
    public static let k = 8
    /// Candidates kept; farther ones are dropped so a flood of `nodes` cannot grow the lookup.
    public static let maxCandidates = 128
    /// Peers kept from all answers together.
    public static let maxPeers = 500

    enum State: Sendable, Equatable {
        case fresh
        case inFlight(since: ContinuousClock.Instant)
        case answered
        case failed
    }

    struct Candidate: Sendable {
        var node: NodeInfo
        var state: State
    }

    public let kind: Kind
    public let ownID: NodeID
    public let target: NodeID
    public let queryTimeout: Duration
    public let deadline: ContinuousClock.Instant
    private var candidates: [Candidate] = []
    private var peerSet: Set<PeerAddress> = []
    public private(set) var peers: [PeerAddress] = []
    /// Write tokens by the address of the node that gave them, for announcing to it.
    public private(set) var tokens: [PeerAddress: [UInt8]] = [:]
    public private(set) var isFinished = false

    /// `seeds` are where to start, usually the routing table's closest nodes to the target.
    public init(kind: Kind, ownID: NodeID, seeds: [NodeInfo], queryTimeout: Duration, totalTimeout: Duration,
                now: ContinuousClock.Instant) {
        self.kind = kind
        self.ownID = ownID
        switch kind {
        case .findNode(let id): target = id
        case .getPeers(let infoHash): target = NodeID(infoHash)
        }
        self.queryTimeout = queryTimeout
        self.deadline = now + totalTimeout
        add(seeds)
    }

    /// The first queries.
    public mutating func start(now: ContinuousClock.Instant) -> [Action] {
        advance(now: now)
    }

    /// When the caller should call ``timerFired(now:)`` next: the earliest query
    /// timeout or the overall deadline; nil once finished.
    public var nextTimer: ContinuousClock.Instant? {
        guard !isFinished else { return nil }
        var earliest = deadline
        for candidate in candidates {
            if case .inFlight(let since) = candidate.state { earliest = min(earliest, since + queryTimeout) }
        }
        return earliest
    }

    /// `node` (the contact the query went to) answered. Its answer's id is taken as
    /// its real id, since a bootstrap contact's id is only a guess.
    public mutating func receive(_ response: KRPCResponse, from node: NodeInfo, now: ContinuousClock.Instant) -> [Action] {
        // Only nodes we asked count; a late answer after a timeout is still welcome.
        guard !isFinished, let index = candidates.firstIndex(where: { $0.node.address == node.address }),
              candidates[index].state != .answered, candidates[index].state != .fresh else { return [] }
        if response.id != candidates[index].node.id, response.id != ownID,
           !candidates.contains(where: { $0.node.id == response.id }),
           let real = NodeInfo(id: response.id, address: node.address) {
            candidates[index].node = real
        }
        candidates[index].state = .answered
        if case .getPeers = kind {
            if let token = response.token { tokens[node.address] = token }
            for peer in response.values where peers.count < Self.maxPeers && peerSet.insert(peer).inserted {
                peers.append(peer)
            }
        }
        add(response.nodes + response.nodes6)
        return advance(now: now)
    }

    /// `node` answered with a KRPC error, or the caller knows it cannot be reached.
    public mutating func failed(_ node: NodeInfo, now: ContinuousClock.Instant) -> [Action] {
        guard !isFinished, let index = candidates.firstIndex(where: { $0.node.address == node.address }) else { return [] }
        if candidates[index].state != .answered { candidates[index].state = .failed }
        return advance(now: now)
    }

    /// Times out queries older than `queryTimeout` and ends the lookup at its deadline.
    public mutating func timerFired(now: ContinuousClock.Instant) -> [Action] {
        guard !isFinished else { return [] }
        for index in candidates.indices {
            if case .inFlight(let since) = candidates[index].state, now - since >= queryTimeout {
                candidates[index].state = .failed
            }
        }
        return advance(now: now)
    }

    /// The closest nodes that answered, nearest first.
    public var closest: [NodeInfo] {
        Array(candidates.filter { $0.state == .answered }.map(\.node)
            .sorted { target.isCloser($0.id, than: $1.id) }.prefix(Self.k))
    }

    private mutating func add(_ nodes: [NodeInfo]) {
        var addresses = Set(candidates.map(\.node.address))
        var ids = Set(candidates.map(\.node.id))
        for node in nodes where node.id != ownID && node.address.port != 0 {
            guard addresses.insert(node.address).inserted, ids.insert(node.id).inserted else { continue }
            candidates.append(Candidate(node: node, state: .fresh))
        }
        let target = self.target
        candidates.sort { target.isCloser($0.node.id, than: $1.node.id) }
        // Drop the farthest candidates that are not waiting for an answer.
        var index = candidates.count - 1
        while candidates.count > Self.maxCandidates && index >= 0 {
            if case .inFlight = candidates[index].state {} else { candidates.remove(at: index) }
            index -= 1
        }
    }

    private mutating func advance(now: ContinuousClock.Instant) -> [Action] {
        if now >= deadline { return finish() }
        // The k closest candidates that have not failed decide what happens next.
        var inFlight = candidates.filter { if case .inFlight = $0.state { true } else { false } }.count
        var actions: [Action] = []
        var considered = 0
        var pending = false
        for index in candidates.indices where candidates[index].state != .failed {
            guard considered < Self.k else { break }
            considered += 1
            switch candidates[index].state {
            case .fresh:
                pending = true
                if inFlight < Self.alpha {
                    candidates[index].state = .inFlight(since: now)
                    inFlight += 1
                    actions.append(.send(query(), to: candidates[index].node))
                }
            case .inFlight:
                pending = true
            case .answered, .failed:
                break
            }
        }
        // Queries still in flight to nodes beyond the k closest are not waited for.
        if !pending { return finish() }
        return actions
    }

    private mutating func finish() -> [Action] {
        isFinished = true
        return [.finished(closest: closest, peers: peers)]
    }

    private func query() -> KRPCQuery {
        switch kind {
        case .findNode(let id): .findNode(id: ownID, target: id)
        case .getPeers(let infoHash): .getPeers(id: ownID, infoHash: infoHash)
        }
    }
}
