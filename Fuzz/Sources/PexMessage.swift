import PeerProtocol

/// BEP 11's ut_pex message. A decoded message keeps at most 50 entries per list and family;
/// one that fits what the encoder writes (50 added, 50 dropped) decodes back the same.
let pexMessageTarget = FuzzTarget(name: "pex") { bytes in
    guard let message = try? PexMessage(decoding: bytes) else { return }
    let limit = PexMessage.maxEntries
    require(message.added.count <= 2 * limit && message.dropped.count <= 2 * limit,
            "more than \(limit) entries per list and family")
    require(message.addedFlags.count == message.added.count, "a flag per added peer")
    guard message.added.count <= limit, message.dropped.count <= limit else { return }
    require((try? PexMessage(decoding: message.encoded())) == message, "a ut_pex message changed in an encode and decode")
}
