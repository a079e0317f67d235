import PeerProtocol

/// One peer message body as the framer hands it over: the first byte is the id, the rest the
/// payload. Whatever decodes encodes back to the same frame.
let peerMessageTarget = FuzzTarget(name: "peer-message") { bytes in
    guard let id = bytes.first else { return }
    let payload = Array(bytes.dropFirst())
    guard let message = try? PeerMessage(id: id, payload: payload) else { return }
    require(message.encoded() == frame(bytes), "\(PeerMessage.name(ofID: id)) does not encode back to its frame")
}

/// BEP 52's hash request, hashes and hash reject: the first byte picks which (the peer-message
/// target would spend most of its time on other ids), the rest is the payload.
let hashMessagesTarget = FuzzTarget(name: "hash-messages") { bytes in
    var input = FuzzInput(bytes)
    let ids = [PeerMessage.ID.hashRequest, PeerMessage.ID.hashes, PeerMessage.ID.hashReject]
    let id = ids[Int(input.byte()) % ids.count]
    let payload = Array(input.rest)
    guard let message = try? PeerMessage(id: id, payload: payload) else { return }
    switch message {
    case .hashRequest(let request), .hashReject(let request):
        require(request.piecesRoot.count == 32, "a pieces root of \(request.piecesRoot.count) bytes")
    case .hashes(let request, let hashes):
        require(request.piecesRoot.count == 32 && hashes.count % 32 == 0, "hashes not in 32-byte units")
    default:
        require(false, "id \(id) decoded as \(message)")
    }
    require(message.encoded() == frame([id] + payload), "\(PeerMessage.name(ofID: id)) does not encode back to its frame")
}

/// The frame a message body travels in: its 4-byte big-endian length, then the body.
func frame(_ body: [UInt8]) -> [UInt8] {
    let length = UInt32(body.count)
    return [UInt8(length >> 24), UInt8(length >> 16 & 0xff), UInt8(length >> 8 & 0xff), UInt8(length & 0xff)] + body
}
