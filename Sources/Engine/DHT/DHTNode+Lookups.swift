import Discovery
import NIOCore
import NIOPosix
import TorrentModel

/// Lookups, announces and joining the network.
extension DHTNode {
    /// What an announce did: how many nodes took it, and how many peers the lookup found.
    public struct AnnounceResult: Sendable {
        public var announcedTo: Int
        public var peersFound: Int
    }

    /// Finds peers for `infoHash` and announces that we have it on TCP `port` to the
    /// closest nodes that gave us a token. Peers are handed to `onPeers` as they arrive,
    /// not only at the end, so a download can start while the lookup goes on.
    public func announce(_ infoHash: InfoHash, port: UInt16,
                         onPeers: @escaping @Sendable ([PeerAddress]) async -> Void) async -> AnnounceResult {
        await waitUntilBootstrapped()
        let lookup = await lookup(.getPeers(infoHash), onPeers: onPeers)
        let targets = lookup.closest.compactMap { node in lookup.tokens[node.address].map { (node, $0) } }
        let ownID = self.ownID
        let announcedTo = await withTaskGroup(of: Bool.self, returning: Int.self) { group in
            for (node, token) in targets {
                group.addTask {
                    let query = KRPCQuery.announcePeer(id: ownID, infoHash: infoHash, port: port, token: token, impliedPort: false)
                    return await self.send(query, to: node.address, expectedID: node.id) != nil
                }
            }
            var count = 0
            for await accepted in group where accepted { count += 1 }
            return count
        }
        logger.debug("DHT: \(infoHash.hex.prefix(8)): \(lookup.peers.count) peers found, announced to \(announcedTo) nodes")
        return AnnounceResult(announcedTo: announcedTo, peersFound: lookup.peers.count)
    }

    /// Runs one iterative lookup to its end (BEP 5): at most three queries in flight, each
    /// bounded by the query timeout, the whole bounded by five query timeouts.
    func lookup(_ kind: Lookup.Kind, extraSeeds: [NodeInfo] = [],
                onPeers: (@Sendable ([PeerAddress]) async -> Void)? = nil) async -> Lookup {
        let start = ContinuousClock.now
        let target: NodeID = switch kind {
        case .findNode(let id): id
        case .getPeers(let infoHash): NodeID(infoHash)
        }
        var lookup = Lookup(kind: kind, ownID: ownID, seeds: table.closest(to: target, count: Lookup.k * 2) + extraSeeds,
                            queryTimeout: settings.queryTimeout, totalTimeout: settings.queryTimeout * 5, now: start)
        let deadline = lookup.deadline
        var delivered = 0
        await withTaskGroup(of: (NodeInfo, KRPCResponse?)?.self) { group in
            group.addTask {
                try? await Task.sleep(until: deadline)
                return nil
            }
            var actions = lookup.start(now: start)
            while !lookup.isFinished {
                for case .send(let query, let node) in actions {
                    group.addTask { (node, await self.send(query, to: node.address, expectedID: node.id)) }
                }
                guard !lookup.isFinished, let next = await group.next() else { break }
                let now = ContinuousClock.now
                if let (node, response) = next {
                    actions = if let response { lookup.receive(response, from: node, now: now) } else { lookup.failed(node, now: now) }
                } else {
                    actions = lookup.timerFired(now: now)
                }
                if lookup.peers.count > delivered, let onPeers {
                    let fresh = Array(lookup.peers[delivered...])
                    delivered = lookup.peers.count
                    await onPeers(fresh)
                }
            }
            group.cancelAll()
        }
        return lookup
    }

    /// Joins the network: a lookup of our own id from the saved nodes and the bootstrap
    /// nodes. Tried again with growing pauses while the routing table stays empty.
    func bootstrap() async {
        guard !isShutDown, !isBootstrapping else { return }
        isBootstrapping = true
        defer { isBootstrapping = false }
        var seeds = (try? await store.dhtState().nodes) ?? []
        for contact in await resolveBootstrapNodes() where !seeds.contains(where: { $0.address == contact }) {
            if let node = NodeInfo(id: NodeID.random(using: &random), address: contact) { seeds.append(node) }
        }
        if !seeds.isEmpty || table.count > 0 {
            _ = await lookup(.findNode(ownID), extraSeeds: seeds)
        }
        bootstrapAttempts += 1
        if table.count == 0 {
            let pause = min(30 << min(bootstrapAttempts - 1, 5), 600)
            nextBootstrap = .now + .seconds(pause)
            logger.info("DHT: no node answered; trying again in \(pause) s")
        } else {
            bootstrapAttempts = 0
            logger.info("DHT: joined with \(table.count) nodes")
        }
        markBootstrapped()
        wakeBootstrapWaiters()
    }

    /// The bootstrap nodes' addresses in the socket's family. Host names are resolved on a
    /// blocking pool; a name that does not resolve is skipped.
    private func resolveBootstrapNodes() async -> [PeerAddress] {
        let wantIPv6 = if case .v6? = channel?.localAddress { true } else { false }
        var addresses: [PeerAddress] = []
        for text in settings.bootstrapNodes {
            guard let parsed = PeerAddress(text) else {
                logger.warning("DHT: bootstrap node '\(text)' is not host:port")
                continue
            }
            if case .name(let name) = parsed.host {
                let resolved = try? await NIOThreadPool.singleton.runIfActive {
                    try SocketAddress.makeAddressResolvingHost(name, port: Int(parsed.port))
                }
                guard let address = PeerAddress(socketAddress: resolved) else {
                    logger.info("DHT: bootstrap node \(text) does not resolve")
                    continue
                }
                if address.isIPv6 == wantIPv6 { addresses.append(address) }
            } else if parsed.isIPv6 == wantIPv6 {
                addresses.append(parsed)
            }
        }
        return addresses
    }

    /// Waits until the routing table has a node to start lookups from, or the first bootstrap
    /// has finished without one (it is bounded by the lookup's deadline). A lookup needs no
    /// more than one answering node to start; the bootstrap's own lookup may still be waiting
    /// for the timeouts of nodes saved long ago.
    func waitUntilBootstrapped() async {
        guard !bootstrapped, !isShutDown, table.count == 0 else { return }
        await withCheckedContinuation { bootstrapWaiters.append($0) }
    }

    func wakeBootstrapWaiters() {
        for waiter in bootstrapWaiters { waiter.resume() }
        bootstrapWaiters = []
    }
}
