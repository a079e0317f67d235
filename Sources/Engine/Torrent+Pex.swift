import PeerProtocol
import TorrentModel

/// Peer exchange (BEP 11): telling peers whom else we are connected to, and learning
/// the same from them. Off for private torrents (BEP 27).
extension Torrent {
    static let pexInterval: Duration = .seconds(60)
    /// The first message goes out shortly after connecting, so a new peer learns the swarm fast.
    static let pexFirstDelay: Duration = .seconds(2)

    var pexAllowed: Bool { !(info?.isPrivate ?? false) }

    func sendPex(now: ContinuousClock.Instant) {
        guard pexAllowed else { return }
        let everyone = Dictionary(table.peers.values.compactMap { peer in peer.listenAddress.map { (peer.key, $0) } },
                                  uniquingKeysWith: { first, _ in first })
        for key in Array(table.peers.keys) {
            guard let peer = table.peers[key], let remoteID = peer.extensionID(PexMessage.extensionName) else { continue }
            if let last = peer.lastPexSentAt {
                guard now - last >= Self.pexInterval else { continue }
            } else {
                guard now - peer.connectedAt >= Self.pexFirstDelay else { continue }
            }
            let current = Set(everyone.filter { $0.key != key }.values)
            let added = Array(current.subtracting(peer.pexSent).prefix(PexMessage.maxEntries))
            let dropped = Array(peer.pexSent.subtracting(current).prefix(PexMessage.maxEntries))
            table.peers[key]!.lastPexSentAt = now
            guard !added.isEmpty || !dropped.isEmpty else { continue }
            let seeds = Set(table.peers.values.filter { $0.bitfield?.isComplete == true }.compactMap(\.listenAddress))
            let message = PexMessage(added: added, addedFlags: added.map { seeds.contains($0) ? PexMessage.seedFlag : 0 },
                                     dropped: dropped)
            table.peers[key]!.pexSent.formUnion(added)
            table.peers[key]!.pexSent.subtract(dropped)
            send(.extended(id: remoteID, payload: message.encoded()), to: key)
        }
    }

    func receivedPex(_ payload: [UInt8], from key: PeerKey) {
        guard pexAllowed, let peer = table.peers[key] else { return }
        let now = context.now
        // BEP 11 allows one a minute; be lenient, but not flooded.
        if let last = peer.lastPexReceivedAt, now - last < .seconds(20) { return }
        table.peers[key]!.lastPexReceivedAt = now
        guard let message = try? PexMessage(decoding: payload) else {
            return ban(key, reason: "bad ut_pex message")
        }
        table.learnedThroughPex(message.added)
        var learned: [PeerAddress] = []
        for address in message.added where learn(address, from: .pex) {
            learned.append(address)
        }
        if !learned.isEmpty {
            logger.debug("\(peer.address) told us of \(learned.count) peers")
            connectToCandidates()
        }
    }

    /// Addresses of the peers connected now, with where we learned of each.
    public var connectedPeers: [(address: PeerAddress, source: PeerSource)] {
        table.peers.values.map { ($0.listenAddress ?? $0.address, $0.source) }
    }

    /// Every address we have been connected to since the torrent started, with its source.
    public var peerHistory: [PeerAddress: PeerSource] { table.everConnected }

    /// Every address we know of to dial, with where we learned it first.
    public var knownPeers: [PeerAddress: PeerSource] { table.candidates }

    /// Every address peers have told us of through PEX (whether or not we knew it already).
    public var peersLearnedThroughPex: Set<PeerAddress> { table.pexLearned }
}

extension Torrent {
    /// Whether this torrent may exchange peers (false for private torrents).
    public var pexAllowedForTesting: Bool { pexAllowed }
}
