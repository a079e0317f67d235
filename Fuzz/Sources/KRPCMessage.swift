import Discovery

/// A DHT datagram (BEP 5 KRPC: queries, responses with nodes and peers, errors). What decodes
/// encodes to a datagram that decodes to the same message.
let krpcMessageTarget = FuzzTarget(name: "krpc") { bytes in
    guard let message = try? KRPCMessage(decoding: bytes) else { return }
    let encoded = message.encoded()
    guard let again = try? KRPCMessage(decoding: encoded) else {
        require(false, "a decoded KRPC message does not decode once encoded")
        return
    }
    require(again == message, "a KRPC message changed in an encode and decode")
}
