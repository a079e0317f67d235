import PeerProtocol
import TorrentModel

/// Where we learned of a peer.
public enum PeerSource: String, Sendable, Codable {
    case magnet, tracker, incoming, manual, pex, dht, lsd
    /// A WebSocket tracker relayed its WebRTC offer or answer (a browser, or a hybrid client).
    case webSocketTracker = "wss"
}

/// Everything a torrent knows about one connected peer.
struct PeerState {
    let key: PeerKey
    let link: PeerLink
    let address: PeerAddress
    let outgoing: Bool
    let source: PeerSource
    let handshake: Handshake
    let connectedAt: ContinuousClock.Instant

    var extensions: ExtensionHandshake?
    /// What the peer has, once the torrent's piece count is known (kept by its session).
    var bitfield: Bitfield? { session.bitfield }
    /// It said have_all before we knew the piece count (a magnet link).
    var earlyHaveAll: Bool { session.saidItHasAllEarly }

    var amChoking: Bool { session.amChoking }
    var amInterested: Bool { session.amInterested }
    var peerChoking: Bool { session.peerChoking }
    var peerInterested: Bool { session.peerInterested }

    /// Choke and interest, what it has, our requests and its blocks, timers, rates, the
    /// request pipeline's depth, snubbing, reject and cancel accounting.
    var session: PeerSession
    var downloadRate: Double { session.downloadRate }
    var uploadRate: Double { session.uploadRate }

    /// The most requests to keep in flight to a peer whose extension handshake said `reqq`
    /// (BEP 10: how many it holds without dropping any): one fewer, because Transmission 3.00
    /// rejects the request that would be its `reqq`-th pending one (peer-msgs.c:1382,
    /// `pendingReqsToClient + 1 >= REQQ`, REQQ 512) and sends that reject up to 10 s late (a
    /// reject does not hurry its message batch, peer-msgs.c:317-331), so a read waiting for
    /// the block stalled that long. 250 for a peer that names none; never more than 1000.
    static func requestLimit(reqq: Int?) -> Int {
        guard let reqq else { return 250 }
        return min(max(1, reqq - 1), PeerSession.maximumQueueDepth)
    }

    var requestLimit: Int { Self.requestLimit(reqq: extensions?.requestQueueLength) }

    /// Requests the peer made of us, served in order.
    var uploadQueue: [BlockRequest] = []
    var isServing = false
    var allowedFast: Set<Int> { session.allowedFast }
    var hashFailures = 0
    /// It answered a BEP 52 hash request with a reject: not asked for hashes again.
    var refusesHashes = false
    /// Peer exchange (BEP 11): what we told this peer, and when we last sent and heard.
    var pexSent: Set<PeerAddress> = []
    var lastPexSentAt: ContinuousClock.Instant?
    var lastPexReceivedAt: ContinuousClock.Instant?

    /// Where the peer accepts connections: the address we dialled, or for an incoming
    /// peer its address with the port of its extension handshake.
    var listenAddress: PeerAddress? {
        // A dialled TCP address is where the peer listens; a data channel's address is the UDP
        // path ICE chose, where nobody accepts TCP.
        if outgoing && link.transport.kind == .tcp { return address }
        guard let port = extensions?.listenPort else { return nil }
        return PeerAddress(host: address.host, port: port)
    }

    init(key: PeerKey, link: PeerLink, address: PeerAddress, outgoing: Bool, source: PeerSource,
         handshake: Handshake, geometry: PeerSession.Geometry?, now: ContinuousClock.Instant) {
        self.key = key
        self.link = link
        self.address = address
        self.outgoing = outgoing
        self.source = source
        self.handshake = handshake
        self.connectedAt = now
        self.session = PeerSession(now: now, supportsFast: handshake.supportsFastExtension, geometry: geometry)
    }

    var supportsFast: Bool { handshake.supportsFastExtension }
    /// BEP 52: the peer answers hash requests. It set the v2 bit, or named the torrent by
    /// its v2 hash (libtorrent answers a v2 handshake so, without the bit).
    var supportsV2 = false

    /// The message id the peer wants for an extension, nil if it does not support it.
    func extensionID(_ name: String) -> UInt8? {
        guard let id = extensions?.extensions[name], id != 0 else { return nil }
        return id
    }
}

/// The ids memofs assigns to the extensions it speaks (BEP 10 `m`).
enum LocalExtension {
    static let pex: UInt8 = 1
    static let metadata: UInt8 = 2
    static let all: [String: UInt8] = [MetadataMessage.extensionName: metadata, PexMessage.extensionName: pex]
}
