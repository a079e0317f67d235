import TorrentModel

/// What we tell a tracker in one announce, whatever the transport.
public struct AnnounceRequest: Sendable, Equatable {
    public var infoHash: InfoHash
    public var peerID: PeerID
    /// The TCP port we accept peers on.
    public var port: UInt16
    /// Bytes sent to and received from peers since the `started` event, and bytes still
    /// missing. Negative values (an engine bug) are sent as 0, since trackers refuse them.
    public var uploaded: Int64
    public var downloaded: Int64
    public var left: Int64
    public var event: AnnounceEvent
    /// How many peers we would like; nil lets the tracker choose (HTTP: no parameter, UDP: -1).
    public var numWant: Int?
    /// A random value kept for the session, so a tracker can recognise us after our
    /// address changes (BEP 3 `key`, BEP 15 `key`).
    public var key: UInt32
    /// The `tracker id` a tracker gave in an earlier response, echoed back (HTTP only).
    public var trackerID: String?

    public init(infoHash: InfoHash, peerID: PeerID, port: UInt16, uploaded: Int64, downloaded: Int64, left: Int64,
                event: AnnounceEvent, numWant: Int? = nil, key: UInt32, trackerID: String? = nil) {
        self.infoHash = infoHash
        self.peerID = peerID
        self.port = port
        self.uploaded = uploaded
        self.downloaded = downloaded
        self.left = left
        self.event = event
        self.numWant = numWant
        self.key = key
        self.trackerID = trackerID
    }
}
