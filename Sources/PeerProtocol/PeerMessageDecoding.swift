extension PeerMessage {
    /// Decodes one message from its id and payload; the caller has taken the
    /// frame apart (the engine's `PeerWireDecoder` does). Payload lengths are checked
    /// exactly: a `have` of 5 bytes is a broken or hostile peer, not something
    /// to guess at. Ids this module does not know become ``unknown(id:payload:)``.
    public init(id: UInt8, payload: some Collection<UInt8>) throws(PeerWireError) {
        if let slice = payload as? ArraySlice<UInt8> {
            try self.init(id: id, body: slice)
        } else if let array = payload as? [UInt8] {
            try self.init(id: id, body: array[...])
        } else {
            try self.init(id: id, body: ArraySlice(payload))
        }
    }

    /// The decoder proper, on a slice so a caller's array or slice is read without a copy.
    init(id: UInt8, body payload: ArraySlice<UInt8>) throws(PeerWireError) {
        let start = payload.startIndex

        func require(_ count: Int) throws(PeerWireError) {
            guard payload.count == count else {
                throw .payloadLength(message: PeerMessage.name(ofID: id), actual: payload.count, expected: String(count))
            }
        }
        func requireAtLeast(_ count: Int) throws(PeerWireError) {
            guard payload.count >= count else {
                throw .payloadLength(message: PeerMessage.name(ofID: id), actual: payload.count, expected: "at least \(count)")
            }
        }
        func uint32(at offset: Int) -> UInt32 { BigEndian.uint32(payload, at: start + offset) }
        func block() -> BlockRequest {
            BlockRequest(piece: uint32(at: 0), begin: uint32(at: 4), length: uint32(at: 8))
        }

        switch id {
        case ID.choke: try require(0); self = .choke
        case ID.unchoke: try require(0); self = .unchoke
        case ID.interested: try require(0); self = .interested
        case ID.notInterested: try require(0); self = .notInterested
        case ID.haveAll: try require(0); self = .haveAll
        case ID.haveNone: try require(0); self = .haveNone
        case ID.have: try require(4); self = .have(piece: uint32(at: 0))
        case ID.suggestPiece: try require(4); self = .suggestPiece(uint32(at: 0))
        case ID.allowedFast: try require(4); self = .allowedFast(uint32(at: 0))
        case ID.bitfield: self = .bitfield(Array(payload))
        case ID.request: try require(12); self = .request(block())
        case ID.cancel: try require(12); self = .cancel(block())
        case ID.rejectRequest: try require(12); self = .rejectRequest(block())
        case ID.piece:
            try requireAtLeast(8)
            self = .piece(piece: uint32(at: 0), begin: uint32(at: 4), block: Array(payload[(start + 8)...]))
        case ID.port:
            try require(2)
            self = .port(BigEndian.uint16(payload, at: start))
        case ID.hashRequest:
            try require(HashRequest.wireLength)
            self = .hashRequest(HashRequest(payload: payload))
        case ID.hashReject:
            try require(HashRequest.wireLength)
            self = .hashReject(HashRequest(payload: payload))
        case ID.hashes:
            try requireAtLeast(HashRequest.wireLength)
            guard (payload.count - HashRequest.wireLength) % 32 == 0 else {
                throw .payloadLength(message: "hashes", actual: payload.count, expected: "48 plus a multiple of 32")
            }
            self = .hashes(HashRequest(payload: payload), Array(payload[(start + HashRequest.wireLength)...]))
        case ID.extended:
            try requireAtLeast(1)
            self = .extended(id: payload[start], payload: Array(payload[(start + 1)...]))
        default:
            self = .unknown(id: id, payload: Array(payload))
        }
    }
}
