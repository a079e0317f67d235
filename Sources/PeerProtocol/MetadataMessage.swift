import Bencode

/// A BEP 9 `ut_metadata` message: how a client that joined from a magnet link
/// gets the info dictionary from peers, in pieces of 16 KiB.
///
/// This is the payload of an extended message (after the extended id): a
/// bencoded dictionary with "msg_type" and "piece", and for `data` also
/// "total_size" followed by the raw piece bytes outside the dictionary.
public enum MetadataMessage: Equatable, Sendable {
    case request(piece: Int)
    case data(piece: Int, totalSize: Int, bytes: [UInt8])
    case reject(piece: Int)

    /// BEP 9's piece size; every piece but the last has exactly this many bytes.
    public static let metadataPieceLength = 16384
    /// The name in the extension handshake's "m" dictionary.
    public static let extensionName = "ut_metadata"

    public var piece: Int {
        switch self {
        case .request(let piece), .data(let piece, _, _), .reject(let piece): piece
        }
    }

    public func encoded() -> [UInt8] {
        switch self {
        case .request(let piece):
            return BencodeEncoder.encode(.dict(["msg_type": .integer(0), "piece": .integer(Int64(piece))]))
        case .data(let piece, let totalSize, let bytes):
            var output = BencodeEncoder.encode(.dict([
                "msg_type": .integer(1), "piece": .integer(Int64(piece)), "total_size": .integer(Int64(totalSize)),
            ]))
            output.append(contentsOf: bytes)
            return output
        case .reject(let piece):
            return BencodeEncoder.encode(.dict(["msg_type": .integer(2), "piece": .integer(Int64(piece))]))
        }
    }

    /// Decodes the payload of a `ut_metadata` extended message.
    ///
    /// Extra keys in the dictionary are ignored (libtorrent adds "total_size"
    /// to rejects, for one), and so are bytes after the dictionary of a
    /// `request` or `reject`. A `msg_type` other than 0, 1 or 2 throws
    /// ``PeerWireError/unknownMetadataMessageType(_:)``, which BEP 9 says the
    /// receiver must ignore rather than treat as a fault. The piece index and
    /// size are checked against the limits here; whether they match the
    /// metadata being fetched is ``MetadataAssembler``'s business.
    public init(decoding payload: [UInt8]) throws(PeerWireError) {
        let value: BencodeValue
        let end: Int
        do {
            (value, end) = try BencodeDecoder(limits: Self.decoderLimits).decodePrefix(payload)
        } catch {
            throw .invalidMetadataMessage("\(error)")
        }
        guard value.dictionary != nil else {
            throw .invalidMetadataMessage("the payload starts with \(value.typeWithArticle), not a dictionary")
        }
        guard let type = value["msg_type"]?.integer else {
            throw .invalidMetadataMessage("\"msg_type\" is missing or not an integer")
        }
        guard let pieceValue = value["piece"]?.integer else {
            throw .invalidMetadataMessage("\"piece\" is missing or not an integer")
        }
        let maxPiece = Int64(ExtensionHandshake.maxMetadataSize / Self.metadataPieceLength)
        guard pieceValue >= 0 && pieceValue < maxPiece else {
            throw .invalidMetadataMessage("piece \(pieceValue) is not between 0 and \(maxPiece - 1)")
        }
        let piece = Int(pieceValue)

        switch type {
        case 0:
            self = .request(piece: piece)
        case 2:
            self = .reject(piece: piece)
        case 1:
            guard let total = value["total_size"]?.integer else {
                throw .invalidMetadataMessage("data message has no integer \"total_size\"")
            }
            guard total >= 1 && total <= Int64(ExtensionHandshake.maxMetadataSize) else {
                throw .metadataSizeOutOfRange(Int(clamping: total))
            }
            let byteCount = payload.count - end
            guard byteCount <= Self.metadataPieceLength else {
                throw .metadataPieceLength(piece: piece, actual: byteCount, expected: Self.metadataPieceLength)
            }
            self = .data(piece: piece, totalSize: Int(total), bytes: Array(payload[end...]))
        default:
            throw .unknownMetadataMessageType(type)
        }
    }

    /// The dictionary is small and flat; the raw bytes after it are not parsed.
    static let decoderLimits = BencodeDecoder.Limits(maxDepth: 8, maxStringLength: 64 << 10, maxValues: 1_000)
}
