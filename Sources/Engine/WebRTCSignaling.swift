import Discovery
import TorrentModel

/// Where WebSocket trackers meet WebRTC: the tracker client asks for offers and answers and
/// hands over what peers send back; the implementation owns the peer connections (ICE, DTLS,
/// SCTP, the data channel) and gives each opened channel to its torrent. Calls for one torrent
/// come from one ``WebSocketTrackerClient``, possibly several at once.
public protocol WebRTCSignaling: Sendable {
    /// Makes `count` non-trickle offers (every ICE candidate in the SDP) for `infoHash`, each a
    /// connection waiting for an answer under its offer id. Fewer (or none) if it cannot.
    func makeOffers(count: Int, infoHash: InfoHash) async -> [WebRTCOffer]

    /// Answers a peer's relayed offer: the answer SDP, its connection then waiting for the
    /// peer's DTLS and SCTP. Throws if the offer cannot be answered (e.g. no usable candidate).
    func answer(offer: WebSocketTrackerMessage.RelayedDescription) async throws -> String

    /// The answer to one of our offers, relayed by the tracker: apply it to that offer's connection.
    func accept(answerSDP: String, offerID: WebRTCOfferID, from peerID: PeerID, infoHash: InfoHash) async

    /// The offer went unanswered (expired, or its socket closed): close its connection.
    func dropOffer(_ offerID: WebRTCOfferID, infoHash: InfoHash) async
}
