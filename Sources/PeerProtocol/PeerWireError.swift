import TorrentModel

/// Why bytes from a peer were refused.
///
/// One type for the whole module so the engine has a single thing to log and
/// to decide on (almost always: drop the connection). Each description names
/// the message and what was wrong with it, with the numbers involved, because
/// these end up in logs read by someone trying to understand a misbehaving peer.
public enum PeerWireError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A handshake that is not exactly ``Handshake/length`` bytes.
    case handshakeLength(Int)
    /// The handshake does not start with 19 and "BitTorrent protocol".
    case notBitTorrentHandshake
    /// A message whose payload length is wrong for its id. `expected` is a phrase such as "12" or "at least 8".
    case payloadLength(message: String, actual: Int, expected: String)
    /// A length prefix larger than ``PeerMessage/maxLength``; refused before any of its body is buffered.
    case messageTooLong(length: Int, limit: Int)
    /// A BEP 10 extension handshake that cannot be used.
    case invalidExtensionHandshake(String)
    /// A BEP 9 metadata message that cannot be used.
    case invalidMetadataMessage(String)
    /// A BEP 9 metadata message with a `msg_type` this module does not know; BEP 9 says to ignore it.
    case unknownMetadataMessageType(Int64)
    /// A metadata size outside `1...ExtensionHandshake.maxMetadataSize`.
    case metadataSizeOutOfRange(Int)
    /// A metadata piece index outside `0..<pieceCount`.
    case metadataPieceOutOfRange(piece: Int, pieceCount: Int)
    /// A metadata piece that is not the length its index calls for.
    case metadataPieceLength(piece: Int, actual: Int, expected: Int)
    /// The assembled metadata does not hash to the info hash of the magnet.
    case metadataHashMismatch(expected: InfoHash, actual: InfoHash)
    /// The assembled metadata hashes right but is not a valid info dictionary.
    case invalidMetadata(MetainfoError)

    public var description: String {
        switch self {
        case .handshakeLength(let count):
            "handshake has \(count) bytes, expected \(Handshake.length)"
        case .notBitTorrentHandshake:
            "handshake does not start with 19 and \"BitTorrent protocol\""
        case .payloadLength(let message, let actual, let expected):
            "\(message) message has \(actual) bytes of payload, expected \(expected)"
        case .messageTooLong(let length, let limit):
            "peer announced a message of \(length) bytes, more than the limit of \(limit)"
        case .invalidExtensionHandshake(let reason):
            "invalid extension handshake: \(reason)"
        case .invalidMetadataMessage(let reason):
            "invalid metadata message: \(reason)"
        case .unknownMetadataMessageType(let type):
            "metadata message has unknown msg_type \(type)"
        case .metadataSizeOutOfRange(let size):
            "metadata size \(size) is not between 1 and \(ExtensionHandshake.maxMetadataSize)"
        case .metadataPieceOutOfRange(let piece, let pieceCount):
            "metadata piece \(piece) does not exist: the metadata has \(pieceCount) pieces"
        case .metadataPieceLength(let piece, let actual, let expected):
            "metadata piece \(piece) has \(actual) bytes, expected \(expected)"
        case .metadataHashMismatch(let expected, let actual):
            "metadata hashes to \(actual), not to the info hash \(expected)"
        case .invalidMetadata(let error):
            "metadata matches the info hash but is not a valid info dictionary: \(error)"
        }
    }
}
