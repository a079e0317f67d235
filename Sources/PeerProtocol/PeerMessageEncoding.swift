extension PeerMessage {
    /// The whole frame: 4-byte big-endian length prefix, id, payload.
    public func encoded() -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(4 + frameBodyLength)
        appendEncoded(to: &output)
        return output
    }

    /// Appends the whole frame to `output`, so several messages can be written
    /// into one buffer and sent with one write.
    public func appendEncoded(to output: inout [UInt8]) {
        BigEndian.append(UInt32(frameBodyLength), to: &output)
        guard let id else { return }
        output.append(id)
        switch self {
        case .keepAlive, .choke, .unchoke, .interested, .notInterested, .haveAll, .haveNone:
            break
        case .have(let index), .suggestPiece(let index), .allowedFast(let index):
            BigEndian.append(index, to: &output)
        case .bitfield(let bytes), .unknown(_, let bytes):
            output.append(contentsOf: bytes)
        case .request(let block), .cancel(let block), .rejectRequest(let block):
            BigEndian.append(block.piece, to: &output)
            BigEndian.append(block.begin, to: &output)
            BigEndian.append(block.length, to: &output)
        case .piece(let index, let begin, let block):
            BigEndian.append(index, to: &output)
            BigEndian.append(begin, to: &output)
            output.append(contentsOf: block)
        case .port(let port):
            BigEndian.append(port, to: &output)
        case .extended(let extendedID, let payload):
            output.append(extendedID)
            output.append(contentsOf: payload)
        case .hashRequest(let request), .hashReject(let request):
            request.append(to: &output)
        case .hashes(let request, let hashes):
            request.append(to: &output)
            output.append(contentsOf: hashes)
        }
    }

    /// The same as `message.appendEncoded(to:)`.
    public static func appendEncoded(_ message: PeerMessage, to output: inout [UInt8]) {
        message.appendEncoded(to: &output)
    }

    /// The 13 bytes before a block in a `piece` message: length prefix
    /// (9 + blockLength), id 7, piece index, offset. Serving a block is the hot
    /// path of seeding; with this the sender writes the header and then the
    /// block from wherever it already is, instead of building a copy of both.
    public static func encodePieceHeader(piece: UInt32, begin: UInt32, blockLength: Int) -> [UInt8] {
        precondition(blockLength >= 0 && blockLength <= Int(UInt32.max) - 9, "block length \(blockLength) does not fit a frame")
        var output: [UInt8] = []
        output.reserveCapacity(pieceHeaderLength)
        BigEndian.append(UInt32(9 + blockLength), to: &output)
        output.append(ID.piece)
        BigEndian.append(piece, to: &output)
        BigEndian.append(begin, to: &output)
        return output
    }

    /// Length of ``encodePieceHeader(piece:begin:blockLength:)``'s result.
    public static let pieceHeaderLength = 13

    /// What the length prefix says: the id and the payload.
    var frameBodyLength: Int {
        switch self {
        case .keepAlive: 0
        case .choke, .unchoke, .interested, .notInterested, .haveAll, .haveNone: 1
        case .have, .suggestPiece, .allowedFast: 5
        case .bitfield(let bytes), .unknown(_, let bytes): 1 + bytes.count
        case .request, .cancel, .rejectRequest: 13
        case .piece(_, _, let block): 9 + block.count
        case .port: 3
        case .extended(_, let payload): 2 + payload.count
        case .hashRequest, .hashReject: 1 + HashRequest.wireLength
        case .hashes(_, let hashes): 1 + HashRequest.wireLength + hashes.count
        }
    }
}
