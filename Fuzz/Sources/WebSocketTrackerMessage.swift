import Discovery

/// A WebSocket tracker's text frame (WebTorrent: announce replies, relayed offers and answers,
/// scrape replies, failures), as the connection hands it over: the frame's bytes read as UTF-8.
let webSocketTrackerMessageTarget = FuzzTarget(name: "websocket-tracker") { bytes in
    let text = String(decoding: bytes, as: UTF8.self)
    guard let message = try? WebSocketTrackerMessage(decoding: text) else { return }
    switch message {
    case .offer(let relayed), .answer(let relayed):
        require(relayed.sdp.utf8.count <= WebSocketTrackerLimits.maxSDPBytes, "an SDP of \(relayed.sdp.utf8.count) bytes")
    default:
        break
    }
}
