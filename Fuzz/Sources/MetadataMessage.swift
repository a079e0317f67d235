import PeerProtocol

/// BEP 9's ut_metadata messages (request, data with its piece, reject). What decodes encodes to
/// a message that decodes to the same value.
let metadataMessageTarget = FuzzTarget(name: "ut-metadata") { bytes in
    guard let message = try? MetadataMessage(decoding: bytes) else { return }
    require((try? MetadataMessage(decoding: message.encoded())) == message, "a ut_metadata message changed in an encode and decode")
}
