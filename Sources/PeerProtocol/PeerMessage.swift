/// A message on the peer wire after the handshake: BEP 3's core messages,
/// BEP 5's `port`, BEP 6's fast extension and BEP 10's extended message.
///
/// Byte payloads are plain arrays so a message is a value the engine can keep,
/// send between actors and compare in tests. The one large message, `piece`,
/// has ``encodePieceHeader(piece:begin:blockLength:)`` so a sender can write the
/// header and the block separately without copying the block.
public enum PeerMessage: Equatable, Sendable {
    /// A zero-length frame that keeps an idle connection open.
    case keepAlive
    case choke
    case unchoke
    case interested
    case notInterested
    case have(piece: UInt32)
    /// The raw bitfield payload; its length can only be checked against the
    /// piece count, which the engine knows (`Bitfield(wireBytes:count:)`).
    case bitfield([UInt8])
    case request(BlockRequest)
    case piece(piece: UInt32, begin: UInt32, block: [UInt8])
    case cancel(BlockRequest)
    /// BEP 5: the peer's DHT port.
    case port(UInt16)
    /// BEP 6.
    case suggestPiece(UInt32)
    /// BEP 6: instead of a bitfield, "I have every piece".
    case haveAll
    /// BEP 6: instead of a bitfield, "I have no piece".
    case haveNone
    /// BEP 6: the peer will not serve this request.
    case rejectRequest(BlockRequest)
    /// BEP 6: a piece the peer lets us request while we are choked.
    case allowedFast(UInt32)
    /// BEP 10: `id` 0 is the extension handshake, others are the ids the
    /// receiver chose in its handshake's "m" dictionary.
    case extended(id: UInt8, payload: [UInt8])
    /// BEP 52: asks for nodes of a file's merkle tree.
    case hashRequest(HashRequest)
    /// BEP 52: the nodes asked for, then the uncle hashes, 32 bytes each, one after another.
    case hashes(HashRequest, [UInt8])
    /// BEP 52: the peer will not send those hashes.
    case hashReject(HashRequest)
    /// An id this module does not know. BEP 3 lets clients ignore such
    /// messages, so decoding keeps them instead of failing the connection.
    case unknown(id: UInt8, payload: [UInt8])

    /// Message ids on the wire.
    public enum ID {
        public static let choke: UInt8 = 0
        public static let unchoke: UInt8 = 1
        public static let interested: UInt8 = 2
        public static let notInterested: UInt8 = 3
        public static let have: UInt8 = 4
        public static let bitfield: UInt8 = 5
        public static let request: UInt8 = 6
        public static let piece: UInt8 = 7
        public static let cancel: UInt8 = 8
        public static let port: UInt8 = 9
        public static let suggestPiece: UInt8 = 0x0D
        public static let haveAll: UInt8 = 0x0E
        public static let haveNone: UInt8 = 0x0F
        public static let rejectRequest: UInt8 = 0x10
        public static let allowedFast: UInt8 = 0x11
        public static let extended: UInt8 = 20
        public static let hashRequest: UInt8 = 21
        public static let hashes: UInt8 = 22
        public static let hashReject: UInt8 = 23
    }

    /// The message's id on the wire; nil for `keepAlive`, which has none.
    public var id: UInt8? {
        switch self {
        case .keepAlive: nil
        case .choke: ID.choke
        case .unchoke: ID.unchoke
        case .interested: ID.interested
        case .notInterested: ID.notInterested
        case .have: ID.have
        case .bitfield: ID.bitfield
        case .request: ID.request
        case .piece: ID.piece
        case .cancel: ID.cancel
        case .port: ID.port
        case .suggestPiece: ID.suggestPiece
        case .haveAll: ID.haveAll
        case .haveNone: ID.haveNone
        case .rejectRequest: ID.rejectRequest
        case .allowedFast: ID.allowedFast
        case .extended: ID.extended
        case .hashRequest: ID.hashRequest
        case .hashes: ID.hashes
        case .hashReject: ID.hashReject
        case .unknown(let id, _): id
        }
    }

    /// A name for logs and error messages, as the BEPs write it.
    public static func name(ofID id: UInt8) -> String {
        switch id {
        case ID.choke: "choke"
        case ID.unchoke: "unchoke"
        case ID.interested: "interested"
        case ID.notInterested: "not interested"
        case ID.have: "have"
        case ID.bitfield: "bitfield"
        case ID.request: "request"
        case ID.piece: "piece"
        case ID.cancel: "cancel"
        case ID.port: "port"
        case ID.suggestPiece: "suggest piece"
        case ID.haveAll: "have all"
        case ID.haveNone: "have none"
        case ID.rejectRequest: "reject request"
        case ID.allowedFast: "allowed fast"
        case ID.extended: "extended"
        case ID.hashRequest: "hash request"
        case ID.hashes: "hashes"
        case ID.hashReject: "hash reject"
        default: "unknown (id \(id))"
        }
    }
}
