import TorrentModel

/// A scrape request to a WebTorrent tracker: the swarm counts of these torrents, answered in
/// one `action: scrape` reply (``WebSocketTrackerMessage/scrapeReply(_:)``). One request covers
/// every torrent that shares the socket, so the counts are there before the announces' replies.
public struct WebSocketTrackerScrape: Equatable, Sendable {
    public var infoHashes: [InfoHash]

    public init(infoHashes: [InfoHash]) {
        self.infoHashes = infoHashes
    }

    /// `{"action":"scrape","info_hash":["…",…]}`, each hash 20 characters of one byte each.
    public func encoded() -> String {
        var json = JSONText()
        json.add("action", "scrape")
        let hashes = infoHashes.map { JSONText.quoted(BinaryString.string(from: $0.digest.bytes)) }
        json.add("info_hash", raw: "[" + hashes.joined(separator: ",") + "]")
        return json.closed()
    }
}
