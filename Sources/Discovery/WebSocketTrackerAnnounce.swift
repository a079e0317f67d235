import TorrentModel

/// Our announce to a WebTorrent (WebSocket) tracker. `left` is nil until the torrent's size is
/// known (a magnet without metadata), sent as `null` as browsers do; `completed` and `stopped`
/// carry no offers. Decoding is here too, so tests (and a test tracker) can read announces back.
public struct WebSocketTrackerAnnounce: Equatable, Sendable {
    public var infoHash: InfoHash
    public var peerID: PeerID
    public var numWant: Int
    public var uploaded: Int64
    public var downloaded: Int64
    public var left: Int64?
    public var event: AnnounceEvent
    public var offers: [WebRTCOffer]

    public init(infoHash: InfoHash, peerID: PeerID, numWant: Int, uploaded: Int64, downloaded: Int64,
                left: Int64?, event: AnnounceEvent, offers: [WebRTCOffer]) {
        self.infoHash = infoHash
        self.peerID = peerID
        self.numWant = numWant
        self.uploaded = uploaded
        self.downloaded = downloaded
        self.left = left
        self.event = event
        self.offers = offers
    }

    /// The JSON text frame. Fails only on an SDP above ``WebSocketTrackerLimits/maxSDPBytes``.
    public func encoded() throws(WebSocketTrackerError) -> String {
        var json = JSONText()
        json.add("action", "announce")
        json.add("info_hash", BinaryString.string(from: infoHash.digest.bytes))
        json.add("peer_id", BinaryString.string(from: peerID.bytes))
        json.add("numwant", numWant)
        json.add("uploaded", max(0, uploaded))
        json.add("downloaded", max(0, downloaded))
        if let left { json.add("left", max(0, left)) } else { json.add("left", raw: "null") }
        if event != .none { json.add("event", event.httpValue) }
        if !offers.isEmpty {
            var items: [String] = []
            for offer in offers {
                try WebSocketTrackerJSON.checkSDP(offer.sdp, field: "offer.sdp")
                var item = JSONText()
                item.add("offer", raw: WebSocketTrackerJSON.sessionDescriptionText(type: "offer", sdp: offer.sdp))
                item.add("offer_id", BinaryString.string(from: offer.offerID.bytes))
                items.append(item.closed())
            }
            json.add("offers", raw: "[" + items.joined(separator: ",") + "]")
        }
        return json.closed()
    }

    public init(decoding text: String) throws(WebSocketTrackerError) {
        let json = try WebSocketTrackerJSON(parsingAnnounce: text)
        infoHash = try json.infoHash()
        peerID = try json.peerID("peer_id")
        numWant = Int(try json.integer("numwant"))
        uploaded = try json.integer("uploaded")
        downloaded = try json.integer("downloaded")
        left = try json.optionalInteger("left")
        switch try json.optionalString("event") {
        case nil, "": event = .none
        case "started": event = .started
        case "completed": event = .completed
        case "stopped": event = .stopped
        case let other?: throw .wrongType(field: "event", expected: "'started', 'completed' or 'stopped' (got '\(other)')")
        }
        offers = []
        if json.has("offers") {
            guard let items = json.object["offers"] as? [Any] else { throw .wrongType(field: "offers", expected: "array") }
            for item in items {
                guard let object = item as? [String: Any] else { throw .wrongType(field: "offers[]", expected: "object") }
                let entry = WebSocketTrackerJSON(object: object)
                offers.append(WebRTCOffer(offerID: try entry.offerID(),
                                          sdp: try entry.sessionDescription("offer", type: "offer")))
            }
        }
    }
}
