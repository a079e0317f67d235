import TestSupport
@testable import Discovery
import Testing
import TorrentModel

/// Lookups driven against a simulated network, with time passed by hand.
@Suite struct LookupTests {
    let start = ContinuousClock.now

    struct Network {
        var nodes: [NodeInfo]
        /// Addresses that never answer.
        var silent: Set<PeerAddress> = []
        var peersByNode: [PeerAddress: [PeerAddress]] = [:]

        init(count: Int, _ generator: inout SeededGenerator) {
            nodes = (0..<count).map { index in
                NodeInfo(id: .random(using: &generator),
                         address: ipv4(10, UInt8(index >> 8), UInt8(index & 0xff), 1, port: 6881))!
            }
        }

        func closest(to target: NodeID, count: Int = 8) -> [NodeInfo] {
            Array(nodes.sorted { target.isCloser($0.id, than: $1.id) }.prefix(count))
        }

        /// Every node knows the whole network and answers with the `answerSize` closest it knows.
        var answerSize = 8
        func answer(_ query: KRPCQuery, at node: NodeInfo) -> KRPCResponse {
            switch query {
            case .findNode(_, let target):
                return KRPCResponse(id: node.id, nodes: closest(to: target, count: answerSize))
            case .getPeers(_, let infoHash):
                return KRPCResponse(id: node.id, nodes: closest(to: NodeID(infoHash)),
                                    values: peersByNode[node.address] ?? [], token: [UInt8(node.address.hashValue & 0xff)])
            default:
                return KRPCResponse(id: node.id)
            }
        }
    }

    /// Answers every send at once (silent nodes never); returns the finish action and how many queries went out.
    func run(_ lookup: inout Lookup, _ network: Network) -> (closest: [NodeInfo], peers: [PeerAddress], sent: Int, maxInFlight: Int) {
        var now = start
        var queue = lookup.start(now: now)
        var sent = 0
        var inFlight: [(KRPCQuery, NodeInfo)] = []
        var maxInFlight = 0
        for _ in 0..<10_000 {
            for action in queue {
                switch action {
                case .finished(let closest, let peers):
                    return (closest, peers, sent, maxInFlight)
                case .send(let query, let node):
                    sent += 1
                    inFlight.append((query, node))
                }
            }
            maxInFlight = max(maxInFlight, inFlight.count)
            queue = []
            if let index = inFlight.firstIndex(where: { !network.silent.contains($0.1.address) }) {
                let (query, node) = inFlight.remove(at: index)
                now += .milliseconds(10)
                queue = lookup.receive(network.answer(query, at: node), from: node, now: now)
            } else {
                now = lookup.nextTimer ?? now
                inFlight.removeAll()
                queue = lookup.timerFired(now: now)
            }
        }
        Issue.record("lookup did not finish")
        return ([], [], sent, maxInFlight)
    }

    @Test func findNodeConvergesOnTheClosest() {
        var generator = SeededGenerator(seed: 1)
        let network = Network(count: 500, &generator)
        let own = NodeID.random(using: &generator)
        for _ in 0..<10 {
            let target = NodeID.random(using: &generator)
            let seeds = Array(network.nodes.shuffled(using: &generator).prefix(8))
            var lookup = Lookup(kind: .findNode(target), ownID: own, seeds: seeds,
                                queryTimeout: .seconds(2), totalTimeout: .seconds(60), now: start)
            let result = run(&lookup, network)
            #expect(result.closest == network.closest(to: target))
            #expect(result.maxInFlight <= Lookup.alpha)
            #expect(result.sent < 100)
            #expect(lookup.isFinished)
        }
    }

    @Test func startSendsAlphaQueriesToTheClosestSeeds() {
        var generator = SeededGenerator(seed: 2)
        let network = Network(count: 20, &generator)
        let target = NodeID.random(using: &generator)
        var lookup = Lookup(kind: .findNode(target), ownID: .random(using: &generator), seeds: network.nodes,
                            queryTimeout: .seconds(2), totalTimeout: .seconds(60), now: start)
        let actions = lookup.start(now: start)
        let expected = network.closest(to: target, count: 3).map {
            Lookup.Action.send(.findNode(id: lookup.ownID, target: target), to: $0)
        }
        #expect(actions == expected)
        #expect(lookup.nextTimer == start + .seconds(2))
    }

    @Test func silentNodesTimeOut() {
        var generator = SeededGenerator(seed: 3)
        var network = Network(count: 300, &generator)
        let target = NodeID.random(using: &generator)
        let truth = network.closest(to: target, count: 12)
        network.silent = Set(truth.prefix(4).map(\.address))
        // Answers must reach past the silent nodes for the lookup to learn of the next ones.
        network.answerSize = 16
        var lookup = Lookup(kind: .findNode(target), ownID: .random(using: &generator),
                            seeds: Array(network.nodes.shuffled(using: &generator).prefix(8)),
                            queryTimeout: .seconds(2), totalTimeout: .seconds(60), now: start)
        let result = run(&lookup, network)
        #expect(result.closest == Array(truth.dropFirst(4).prefix(8)))
    }

    @Test func getPeersGathersPeersAndTokens() {
        var generator = SeededGenerator(seed: 4)
        var network = Network(count: 200, &generator)
        let infoHash = InfoHash(bytes: NodeID.random(using: &generator).bytes)!
        let holders = network.closest(to: NodeID(infoHash), count: 3)
        for (index, holder) in holders.enumerated() {
            network.peersByNode[holder.address] = [ipv4(192, 168, 0, UInt8(index), port: 6881), ipv4(192, 168, 1, 1, port: 1)]
        }
        var lookup = Lookup(kind: .getPeers(infoHash), ownID: .random(using: &generator),
                            seeds: Array(network.nodes.shuffled(using: &generator).prefix(8)),
                            queryTimeout: .seconds(2), totalTimeout: .seconds(60), now: start)
        let result = run(&lookup, network)
        #expect(Set(result.peers) == Set([ipv4(192, 168, 0, 0, port: 6881), ipv4(192, 168, 0, 1, port: 6881),
                                          ipv4(192, 168, 0, 2, port: 6881), ipv4(192, 168, 1, 1, port: 1)]))
        #expect(result.peers.count == 4)
        for node in result.closest { #expect(lookup.tokens[node.address] != nil) }
    }

    @Test func noSeedsFinishesAtOnce() {
        var generator = SeededGenerator(seed: 5)
        var lookup = Lookup(kind: .findNode(.random(using: &generator)), ownID: .random(using: &generator), seeds: [],
                            queryTimeout: .seconds(2), totalTimeout: .seconds(60), now: start)
        #expect(lookup.start(now: start) == [.finished(closest: [], peers: [])])
        #expect(lookup.nextTimer == nil)
        #expect(lookup.timerFired(now: start + .seconds(100)).isEmpty)
    }

    @Test func deadlineEndsTheLookup() {
        var generator = SeededGenerator(seed: 6)
        let network = Network(count: 50, &generator)
        var lookup = Lookup(kind: .findNode(.random(using: &generator)), ownID: .random(using: &generator),
                            seeds: network.nodes, queryTimeout: .seconds(20), totalTimeout: .seconds(5), now: start)
        let first = lookup.start(now: start)
        #expect(first.count == 3)
        #expect(lookup.nextTimer == start + .seconds(5))
        #expect(lookup.timerFired(now: start + .seconds(5)) == [.finished(closest: [], peers: [])])
        guard case .send(_, let node) = first[0] else { Issue.record("no send"); return }
        #expect(lookup.receive(KRPCResponse(id: node.id), from: node, now: start + .seconds(6)).isEmpty)
    }

    @Test func errorsAndUnknownSendersAreHandled() {
        var generator = SeededGenerator(seed: 7)
        let network = Network(count: 4, &generator)
        var lookup = Lookup(kind: .findNode(.random(using: &generator)), ownID: .random(using: &generator),
                            seeds: network.nodes, queryTimeout: .seconds(2), totalTimeout: .seconds(60), now: start)
        let first = lookup.start(now: start)
        #expect(first.count == 3)
        let stranger = NodeInfo(id: .random(using: &generator), address: ipv4(8, 8, 8, 8, port: 53))!
        #expect(lookup.receive(KRPCResponse(id: stranger.id), from: stranger, now: start).isEmpty)
        var actions: [Lookup.Action] = []
        for action in first { if case .send(_, let node) = action { actions += lookup.failed(node, now: start) } }
        // The fourth seed is asked once the first fails; when it fails too, nothing is left.
        #expect(actions.filter { if case .send = $0 { true } else { false } }.count == 1)
        guard case .send(_, let last) = actions.first else { Issue.record("no send"); return }
        #expect(lookup.failed(last, now: start) == [.finished(closest: [], peers: [])])
    }

    @Test func floodsOfNodesStayBounded() {
        var generator = SeededGenerator(seed: 8)
        let seed = NodeInfo(id: .random(using: &generator), address: ipv4(1, 1, 1, 1, port: 1))!
        let target = NodeID.random(using: &generator)
        var lookup = Lookup(kind: .findNode(target), ownID: .random(using: &generator), seeds: [seed],
                            queryTimeout: .seconds(2), totalTimeout: .seconds(60), now: start)
        _ = lookup.start(now: start)
        let flood = (0..<5000).map { index in
            NodeInfo(id: .random(using: &generator), address: ipv4(10, UInt8(index >> 8), UInt8(index & 0xff), 2, port: 1))!
        }
        let actions = lookup.receive(KRPCResponse(id: seed.id, nodes: flood), from: seed, now: start)
        #expect(actions.count == Lookup.alpha)
        let best = flood.sorted { target.isCloser($0.id, than: $1.id) }.prefix(3)
        #expect(actions == best.map { .send(.findNode(id: lookup.ownID, target: target), to: $0) })
    }
}
