import TorrentModel
/// The HTTP tracker protocol (BEP 3, with BEP 23 compact peers and BEP 7 IPv6 peers):
/// what to put in the request target of a `GET`, and how to read the bencoded body
/// that comes back. The socket side (connect, TLS, send, read the body) is the engine's.
public enum HTTPTracker: Sendable {
    /// The request target for `GET <target> HTTP/1.1`: the URL's path and query, then
    /// the announce parameters.
    ///
    /// `info_hash` and `peer_id` are binary and are percent-encoded byte by byte,
    /// leaving RFC 3986 unreserved characters literal as libtorrent does. `compact=1`
    /// is always sent: every tracker in use supports it and it is six bytes a peer
    /// instead of a dictionary. `event` is left out for a regular announce, as BEP 3
    /// says. `key` is 8 uppercase hex digits.
    public static func announcePathAndQuery(for url: TrackerURL, request: AnnounceRequest) -> String {
        var target = url.pathAndQuery.isEmpty ? "/" : url.pathAndQuery
        if let question = target.firstIndex(of: "?") {
            if target.index(after: question) != target.endIndex && !target.hasSuffix("&") { target += "&" }
        } else {
            target += "?"
        }
        var parameters = [
            "info_hash=" + PercentEncoding.encode(bytes: request.infoHash.bytes),
            "peer_id=" + PercentEncoding.encode(bytes: request.peerID.bytes),
            "port=\(request.port)",
            "uploaded=\(max(0, request.uploaded))",
            "downloaded=\(max(0, request.downloaded))",
            "left=\(max(0, request.left))",
            "compact=1",
        ]
        if request.event != .none { parameters.append("event=" + request.event.httpValue) }
        if let numWant = request.numWant { parameters.append("numwant=\(max(0, numWant))") }
        parameters.append("key=" + hex8(request.key))
        if let trackerID = request.trackerID { parameters.append("trackerid=" + PercentEncoding.encode(trackerID)) }
        return target + parameters.joined(separator: "&")
    }

    static func hex8(_ value: UInt32) -> String {
        let text = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: 8 - text.count) + text
    }
}
