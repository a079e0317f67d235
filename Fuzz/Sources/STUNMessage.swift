import WebRTCProtocol

/// A STUN message as it arrives on an ICE socket from anyone (connectivity checks, binding
/// responses). What decodes encodes to a message that decodes to the same value, and a message
/// signed with a key checks against that key and no other.
let stunMessageTarget = FuzzTarget(name: "stun") { bytes in
    guard let message = try? STUNMessage(decoding: bytes) else { return }
    _ = try? message.checkIntegrity(key: Array("fuzz-password".utf8))
    // Attribute text decoded leniently can grow past what fits: that is refused, not a trap.
    guard let encoded = try? message.encoded(integrityKey: nil, fingerprint: message.hadFingerprint) else { return }
    require((try? STUNMessage(decoding: encoded)) == message, "a STUN message changed in an encode and decode")
    let key = Array("fuzz-password".utf8)
    guard let signed = try? message.encoded(integrityKey: key), let received = try? STUNMessage(decoding: signed) else {
        return
    }
    require(received == message, "a signed STUN message changed in an encode and decode")
    require((try? received.checkIntegrity(key: key)) != nil, "MESSAGE-INTEGRITY does not check with its own key")
    require((try? received.checkIntegrity(key: Array("other".utf8))) == nil, "MESSAGE-INTEGRITY checks with another key")
}
