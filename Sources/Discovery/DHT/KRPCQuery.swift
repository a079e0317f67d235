import TorrentModel

/// The four queries of BEP 5, each with the querying node's id.
public enum KRPCQuery: Sendable, Equatable {
    case ping(id: NodeID)
    case findNode(id: NodeID, target: NodeID)
    case getPeers(id: NodeID, infoHash: InfoHash)
    /// `impliedPort` asks the receiver to use the datagram's source port instead of `port`
    /// (peers behind a NAT that accept uTP on their DHT port).
    case announcePeer(id: NodeID, infoHash: InfoHash, port: UInt16, token: [UInt8], impliedPort: Bool)

    /// The `q` value.
    public var method: String {
        switch self {
        case .ping: "ping"
        case .findNode: "find_node"
        case .getPeers: "get_peers"
        case .announcePeer: "announce_peer"
        }
    }

    /// The querying node's id.
    public var senderID: NodeID {
        switch self {
        case .ping(let id), .findNode(let id, _), .getPeers(let id, _), .announcePeer(let id, _, _, _, _): id
        }
    }
}

/// A response's `r` dictionary. Responses do not name their query, so one shape
/// holds all of them; fields a response lacks are empty or nil.
public struct KRPCResponse: Sendable, Equatable {
    /// At most this many `values` are kept: a get_peers answer from one node never
    /// needs more, and a hostile node could otherwise send thousands.
    public static let maxValues = 100

    public var id: NodeID
    /// Compact IPv4 nodes (`nodes`, 26 bytes each).
    public var nodes: [NodeInfo]
    /// Compact IPv6 nodes (`nodes6`, BEP 32, 38 bytes each).
    public var nodes6: [NodeInfo]
    /// Peers from `values`, one compact address per string.
    public var values: [PeerAddress]
    /// The write token for a later announce_peer.
    public var token: [UInt8]?

    public init(id: NodeID, nodes: [NodeInfo] = [], nodes6: [NodeInfo] = [],
                values: [PeerAddress] = [], token: [UInt8]? = nil) {
        self.id = id
        self.nodes = nodes
        self.nodes6 = nodes6
        self.values = values
        self.token = token
    }
}

/// An `e` message: a code (201 generic, 202 server, 203 protocol, 204 method unknown) and a text.
public struct KRPCError: Sendable, Equatable {
    public static let generic = 201
    public static let server = 202
    public static let protocolError = 203
    public static let methodUnknown = 204

    public var code: Int
    public var message: String

    public init(code: Int, message: String) {
        self.code = code
        self.message = message
    }
}
