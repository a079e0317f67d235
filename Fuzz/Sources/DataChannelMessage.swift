import WebRTCProtocol

/// A DCEP message (RFC 8832: DATA_CHANNEL_OPEN, ACK) on a data channel's stream. What decodes
/// encodes to a message that decodes to the same value.
let dataChannelMessageTarget = FuzzTarget(name: "dcep") { bytes in
    guard let message = try? DataChannelMessage(decoding: bytes) else { return }
    guard let encoded = try? message.encoded() else { return }
    require((try? DataChannelMessage(decoding: encoded)) == message, "a DCEP message changed in an encode and decode")
}
