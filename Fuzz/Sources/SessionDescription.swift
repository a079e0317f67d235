import WebRTCProtocol

/// An SDP offer or answer relayed by a WebSocket tracker from any peer. What parses is written
/// out (``SessionDescription/text``, what an answer built from it would carry) and parses again
/// to the same description.
let sessionDescriptionTarget = FuzzTarget(name: "sdp") { bytes in
    let text = String(decoding: bytes, as: UTF8.self)
    guard let description = try? SessionDescription(parsing: text) else { return }
    guard let again = try? SessionDescription(parsing: description.text,
                                              sizeLimit: Int.max, lineLimit: Int.max) else {
        require(false, "a parsed SDP does not parse once written out")
        return
    }
    require(again == description, "an SDP changed in a write and parse")
}
