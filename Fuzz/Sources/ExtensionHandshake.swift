import PeerProtocol

/// BEP 10's extension handshake (extended message 0). What decodes encodes to a handshake that
/// decodes to the same value.
let extensionHandshakeTarget = FuzzTarget(name: "extension-handshake") { bytes in
    guard let handshake = try? ExtensionHandshake(decoding: bytes) else { return }
    require((try? ExtensionHandshake(decoding: handshake.encoded())) == handshake,
            "an extension handshake changed in an encode and decode")
}
