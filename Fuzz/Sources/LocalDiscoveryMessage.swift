import Discovery

/// A BEP 14 local service discovery announce, from anyone on the LAN. What decodes encodes to an
/// announce that decodes to the same message.
let localDiscoveryMessageTarget = FuzzTarget(name: "lsd") { bytes in
    guard let message = try? LocalDiscoveryMessage(decoding: bytes) else { return }
    require(message.infoHashes.count <= LocalDiscoveryMessage.maxInfoHashes, "\(message.infoHashes.count) info hashes")
    require((try? LocalDiscoveryMessage(decoding: message.encoded())) == message,
            "an LSD announce changed in an encode and decode")
}
