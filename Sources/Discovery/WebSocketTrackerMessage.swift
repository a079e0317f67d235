import TorrentModel

/// What a WebTorrent tracker sends us on the WebSocket. Every message but a failure has
/// `action`; announce replies, relayed offers and relayed answers all say `announce` and are
/// told apart by their fields, as bittorrent-tracker's client does.
public enum WebSocketTrackerMessage: Equatable, Sendable {
    /// The reply to our announce: swarm counts and when to announce again.
    case announceReply(AnnounceReply)
    /// Another peer's offer, for us to answer (with ``WebSocketTrackerAnswer``).
    case offer(RelayedDescription)
    /// Another peer's answer to one of our offers.
    case answer(RelayedDescription)
    /// The tracker refused a request (`failure reason`).
    case failure(reason: String, infoHash: InfoHash?)
    /// Counts for one or more torrents (`action: scrape`).
    case scrapeReply([ScrapeEntry])

    public struct AnnounceReply: Equatable, Sendable {
        public var infoHash: InfoHash
        public var complete: Int64?
        public var incomplete: Int64?
        /// Seconds until the next announce, if the tracker says.
        public var interval: Int64?
        public var minInterval: Int64?
        /// A `warning message` the tracker attached; the reply still counts.
        public var warning: String?

        public init(infoHash: InfoHash, complete: Int64? = nil, incomplete: Int64? = nil, interval: Int64? = nil,
                    minInterval: Int64? = nil, warning: String? = nil) {
            self.infoHash = infoHash
            self.complete = complete
            self.incomplete = incomplete
            self.interval = interval
            self.minInterval = minInterval
            self.warning = warning
        }
    }

    /// Another peer's session description, relayed by the tracker: an offer for us to answer,
    /// or the answer to one of ours.
    public struct RelayedDescription: Equatable, Sendable {
        public var infoHash: InfoHash
        /// The peer that sent it: for an offer, the one to send our answer to (`to_peer_id`).
        public var peerID: PeerID
        public var offerID: WebRTCOfferID
        public var sdp: String

        public init(infoHash: InfoHash, peerID: PeerID, offerID: WebRTCOfferID, sdp: String) {
            self.infoHash = infoHash
            self.peerID = peerID
            self.offerID = offerID
            self.sdp = sdp
        }
    }

    public struct ScrapeEntry: Equatable, Sendable {
        public var infoHash: InfoHash
        public var complete: Int64?
        public var incomplete: Int64?
        public var downloaded: Int64?

        public init(infoHash: InfoHash, complete: Int64?, incomplete: Int64?, downloaded: Int64?) {
            self.infoHash = infoHash
            self.complete = complete
            self.incomplete = incomplete
            self.downloaded = downloaded
        }
    }

    /// Reads one text frame. A `failure reason` is read even without `action` (a tracker that
    /// refuses may not say which request it refuses).
    public init(decoding text: String) throws(WebSocketTrackerError) {
        let json = try WebSocketTrackerJSON(parsing: text)
        if json.has("failure reason") {
            let infoHash = json.has("info_hash") ? try json.infoHash() : nil
            self = .failure(reason: try json.string("failure reason"), infoHash: infoHash)
            return
        }
        guard json.has("action") else { throw .missingAction }
        let action = try json.string("action")
        switch action {
        case "announce":
            let infoHash = try json.infoHash()
            if json.has("offer") {
                self = .offer(RelayedDescription(infoHash: infoHash, peerID: try json.peerID("peer_id"),
                                                 offerID: try json.offerID(),
                                                 sdp: try json.sessionDescription("offer", type: "offer")))
            } else if json.has("answer") {
                self = .answer(RelayedDescription(infoHash: infoHash, peerID: try json.peerID("peer_id"),
                                                  offerID: try json.offerID(),
                                                  sdp: try json.sessionDescription("answer", type: "answer")))
            } else {
                self = .announceReply(AnnounceReply(
                    infoHash: infoHash, complete: try json.optionalInteger("complete"),
                    incomplete: try json.optionalInteger("incomplete"), interval: try json.optionalInteger("interval"),
                    minInterval: try json.optionalInteger("min interval"),
                    warning: try json.optionalString("warning message")))
            }
        case "scrape":
            let files = try json.nested("files")
            var entries: [ScrapeEntry] = []
            for key in files.object.keys.sorted() {
                let counts = try files.nested(key)
                let hash = try BinaryString.bytes(of: key, field: "files key")
                entries.append(ScrapeEntry(infoHash: InfoHash(bytes: hash)!,
                                           complete: try counts.optionalInteger("complete"),
                                           incomplete: try counts.optionalInteger("incomplete"),
                                           downloaded: try counts.optionalInteger("downloaded")))
            }
            self = .scrapeReply(entries)
        default:
            throw .unknownAction(action)
        }
    }
}
