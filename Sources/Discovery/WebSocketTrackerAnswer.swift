import TorrentModel

/// Our answer to an offer the tracker relayed to us; the tracker forwards it to `toPeerID`.
public struct WebSocketTrackerAnswer: Equatable, Sendable {
    public var infoHash: InfoHash
    public var peerID: PeerID
    public var toPeerID: PeerID
    public var offerID: WebRTCOfferID
    public var sdp: String

    public init(infoHash: InfoHash, peerID: PeerID, toPeerID: PeerID, offerID: WebRTCOfferID, sdp: String) {
        self.infoHash = infoHash
        self.peerID = peerID
        self.toPeerID = toPeerID
        self.offerID = offerID
        self.sdp = sdp
    }

    /// The JSON text frame. Fails only on an SDP above ``WebSocketTrackerLimits/maxSDPBytes``.
    public func encoded() throws(WebSocketTrackerError) -> String {
        try WebSocketTrackerJSON.checkSDP(sdp, field: "answer.sdp")
        var json = JSONText()
        json.add("action", "announce")
        json.add("info_hash", BinaryString.string(from: infoHash.digest.bytes))
        json.add("peer_id", BinaryString.string(from: peerID.bytes))
        json.add("to_peer_id", BinaryString.string(from: toPeerID.bytes))
        json.add("answer", raw: WebSocketTrackerJSON.sessionDescriptionText(type: "answer", sdp: sdp))
        json.add("offer_id", BinaryString.string(from: offerID.bytes))
        return json.closed()
    }

    public init(decoding text: String) throws(WebSocketTrackerError) {
        let json = try WebSocketTrackerJSON(parsingAnnounce: text)
        infoHash = try json.infoHash()
        peerID = try json.peerID("peer_id")
        toPeerID = try json.peerID("to_peer_id")
        offerID = try json.offerID()
        sdp = try json.sessionDescription("answer", type: "answer")
    }
}
