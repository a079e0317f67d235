/// How the tree behaves; the engine's settings live in the session.
public struct MemoFSConfiguration: Sendable {
    /// Where recordings are stored (`<data>/local`).
    public var localFolder: String
    /// Where the status report is written for `memofs status` (`<data>/status.json`).
    public var statusFile: String
    /// Trackers put into the torrents (and so the magnets) of recordings.
    public var trackers: [String]
    /// Our address for the `x.pe` of recordings' magnets, when it is known.
    public var advertisedAddress: String?
    /// A blocked read fails with EIO after this long; nil waits until data or an interrupt.
    public var readTimeout: Duration?

    public init(localFolder: String, statusFile: String, trackers: [String] = [], advertisedAddress: String? = nil,
                readTimeout: Duration? = nil) {
        self.localFolder = localFolder
        self.statusFile = statusFile
        self.trackers = trackers
        self.advertisedAddress = advertisedAddress
        self.readTimeout = readTimeout
    }
}
