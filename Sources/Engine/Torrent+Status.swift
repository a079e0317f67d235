import TorrentModel

/// The facts `memofs status` needs to tell why a torrent moves or not, beyond its
/// progress and rates: whether it has any way to find peers, whether anyone wants its
/// data, whether the peers that have it choke us, and what failed last.
public struct TorrentActivity: Sendable, Equatable {
    /// Tracker URLs the torrent announces to (0 when it has none, or trackers are off).
    public let trackers: Int
    /// The DHT is running and the torrent may use it (it is not private).
    public let dhtEnabled: Bool
    /// Local peer discovery (BEP 14) is on.
    public let localDiscoveryEnabled: Bool
    /// Peer addresses known from any source (x.pe, trackers, DHT, PEX, LSD, incoming),
    /// connected now, tried before, or waiting to be tried.
    public let knownAddresses: Int
    /// Every piece is wanted (`memofs download`), not only what readers ask for.
    public let downloadsWhole: Bool
    /// Files of the torrent open for reading.
    public let openReaders: Int
    /// Reads waiting for pieces.
    public let waitingReads: Int
    /// Bytes of pieces wanted (read, read ahead, or the whole torrent) and not yet verified.
    public let missingWantedBytes: Int64
    /// Connected peers we are interested in (they have pieces we want).
    public let interestingPeers: Int
    /// Of those, the ones choking us.
    public let peersChokingUs: Int
    /// Writes failed and downloading is stopped until they can succeed (a full disk, an
    /// I/O error); nil while pieces are written.
    public let storageFault: StorageFault?
    /// Each tracker's error from the last announce none answered ("URL: reason; …").
    public let lastTrackerError: String?
    /// The swarm as a WebSocket tracker counts it (the largest count of any), if one has.
    public let trackerSwarm: WebSocketTrackerSwarm?
}

/// One connected peer, for `memofs status --peers`.
public struct PeerStatus: Sendable, Equatable {
    public let address: String
    /// Where we learned of it (tracker, dht, pex, lsd, magnet, incoming, manual, wss).
    public let source: String
    /// What the connection runs over: tcp, or webrtc (a data channel).
    public let transport: String
    /// The client it named in its extension handshake (`v`), if it did.
    public let client: String?
    public let amChoking: Bool
    public let amInterested: Bool
    public let peerChoking: Bool
    public let peerInterested: Bool
    /// Smoothed payload rates in bytes per second, whole numbers so that a rate decaying
    /// towards zero stops changing the status once it is below a byte a second.
    public let downloadRate: Double
    public let uploadRate: Double
    /// The share of the torrent it has, nil until its bitfield and our piece count are known.
    public let progress: Double?
}

extension Torrent {
    var activity: TorrentActivity {
        let interesting = table.peers.values.filter(\.amInterested)
        return TorrentActivity(
            trackers: (trackerState.tiers?.orderedURLs.count ?? 0) + trackerState.webSocketClients.count,
            dhtEnabled: context.dht != nil && info?.isPrivate != true,
            localDiscoveryEnabled: context.configuration.localPeerDiscovery,
            knownAddresses: table.knownAddressCount,
            downloadsWhole: downloadWhole,
            openReaders: openReaders,
            waitingReads: pieceWaiters.count,
            missingWantedBytes: missingWantedBytes(),
            interestingPeers: interesting.count,
            peersChokingUs: interesting.filter(\.peerChoking).count,
            storageFault: storageHealth.fault,
            lastTrackerError: trackerErrorText,
            trackerSwarm: webSocketTrackerSwarm)
    }

    /// Bytes of the pieces the picker wants and lacks: for a torrent read on demand, what
    /// readers asked for; one pass over the pieces, skipped once the torrent is complete.
    func missingWantedBytes() -> Int64 {
        guard let picker, let info, !picker.isComplete else { return 0 }
        var total: Int64 = 0
        for piece in 0..<info.pieceCount where picker.wants(piece) { total += Int64(info.length(ofPiece: piece)) }
        return total
    }

    var connectedPeerStatuses: [PeerStatus] {
        table.peers.values.sorted { $0.key < $1.key }.map { peer in
            let progress: Double? = if let bitfield = peer.bitfield, bitfield.count > 0 {
                Double(bitfield.setCount) / Double(bitfield.count)
            } else if peer.earlyHaveAll {
                1
            } else {
                nil
            }
            return PeerStatus(address: peer.address.description, source: peer.source.rawValue,
                              transport: peer.link.transport.kind.rawValue, client: peer.extensions?.client,
                              amChoking: peer.amChoking, amInterested: peer.amInterested,
                              peerChoking: peer.peerChoking, peerInterested: peer.peerInterested,
                              downloadRate: peer.downloadRate.rounded(), uploadRate: peer.uploadRate.rounded(),
                              progress: progress)
        }
    }
}
