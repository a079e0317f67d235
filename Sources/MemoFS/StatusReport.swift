import Engine
import Foundation
import SystemCalls
import SystemPackage

/// What `memofs status` prints, written by the daemon to `<data>/status.json`: rewritten
/// when something in it changed, touched every second otherwise, and marked stopped when
/// the daemon ends.
public struct StatusReport: Codable, Sendable, Equatable {
    public struct Item: Codable, Sendable, Equatable {
        public var kind: String          // "recording" or "shared"
        public var name: String
        public var infoHash: String?
        /// A word or two: see ``ShareActivity`` for shared torrents; a recording is being
        /// written, hashing, seeding, not shared or in error.
        public var state: String
        public var size: Int64
        public var progress: Double
        public var peers: Int
        public var downloadRate: Double
        public var uploadRate: Double
        /// Connected peers by where they came from (tracker, magnet, pex, incoming).
        public var peerSources: [String: Int]?
        /// Distinct peers each source told us of (tracker, dht, pex, lsd, magnet, incoming).
        public var peersLearned: [String: Int]?
        public var error: String?
        /// Why nothing moves and what to do about it, when the state alone does not say.
        public var reason: String?
        /// Bytes wanted (read, read ahead, or the whole torrent) and not yet here: with the
        /// download rate, the ETA.
        public var remainingBytes: Int64?
        /// Each tracker's error from the last announce none answered ("URL: reason; …").
        public var trackerError: String?
        /// The swarm as a WebSocket tracker counts it.
        public var trackerSwarm: WebSocketTrackerSwarm?
        /// Each connected peer; left out of every item when the report holds more than
        /// ``StatusReport/peerListLimit`` of them (see ``StatusReport/peerListsOmitted``).
        public var connectedPeers: [Peer]?
        /// A share downloaded whole and kept (`memofs pin`); nil when not.
        public var pinned: Bool?
    }

    /// One connected peer, for `memofs status --peers`.
    public struct Peer: Codable, Sendable, Equatable {
        public var address: String
        public var source: String
        /// tcp or webrtc; nil in a report of a memofs older than browser peers.
        public var transport: String?
        public var client: String?
        public var amChoking: Bool
        public var amInterested: Bool
        public var peerChoking: Bool
        public var peerInterested: Bool
        public var downloadRate: Double
        public var uploadRate: Double
        public var progress: Double?
    }

    /// What shares hold on disk against `--cache-size`.
    public struct Cache: Codable, Sendable, Equatable {
        /// Bytes of verified pieces of shares that are not pinned: what the limit applies to.
        public var used: Int64
        /// nil: no limit.
        public var limit: Int64?
        /// Bytes of pinned shares, kept whatever the limit.
        public var pinned: Int64
    }

    /// An error of a line written into `shared/.add` (or a `.torrent` dropped into `shared/`).
    public struct AddError: Codable, Sendable, Equatable {
        public var time: Double
        public var text: String
        /// How many are kept, the newest last.
        public static let kept = 5
    }

    public var updated: Double
    public var mountpoint: String?
    public var peerPort: Int
    /// Nodes in the DHT routing table; nil when the DHT is off.
    public var dhtNodes: Int?
    /// Whether the kernel serves complete files straight from disk (FUSE passthrough); nil before it said.
    public var passthrough: Bool?
    /// nil in a report of a memofs older than the cache's limit.
    public var cache: Cache?
    public var addErrors: [AddError]?
    public var items: [Item]
    /// The daemon's process id, and when that process started (in clock ticks since boot,
    /// as /proc gives it), so that a process that took the id over later is not taken for it.
    public var pid: Int32?
    public var processStart: UInt64?
    /// When the daemon stopped (a clean unmount or a signal); nil while it runs.
    public var stoppedAt: Double?
    /// How many peers were connected when there were too many to list each one.
    public var peerListsOmitted: Int?

    /// Per-peer lists are kept while the report has no more connected peers than this, so
    /// the report stays small and rarely rewritten however many torrents there are.
    public static let peerListLimit = 1000
}

extension MemoTree {
    func statusReport() async -> StatusReport {
        var items: [StatusReport.Item] = []
        for name in recordings.keys.sorted() {
            let recording = recordings[name]!
            var item = StatusReport.Item(kind: "recording", name: name, infoHash: nil, state: "not shared", size: 0,
                                         progress: 0, peers: 0, downloadRate: 0, uploadRate: 0, error: recording.lastError)
            if recording.sharing != nil || recording.writers > 0 {
                var info = stat()
                if stat(localPath(name), &info) == 0 { item.size = Int64(info.st_size) }
                item.state = recording.writers > 0 ? "being written" : "hashing"
            } else if let torrent = recording.torrent {
                // A seeded recording is as long as its torrent; its status as of its last tick.
                let status = if let latest = torrent.latestStatus { latest } else { await torrent.status }
                item.size = status.totalLength
                item.infoHash = status.infoHash.hex
                item.state = "seeding"
                item.progress = status.progress
                item.peers = status.peers
                item.uploadRate = status.uploadRate
                item.peerSources = status.peerSources
                item.peersLearned = status.peersLearned
                item.error = item.error ?? status.lastError
                item.trackerError = status.activity.lastTrackerError
                item.trackerSwarm = status.activity.trackerSwarm
                item.connectedPeers = Self.peerList(status)
            } else if item.error != nil {
                item.state = "error"
            }
            items.append(item)
        }
        for torrent in await session.allTorrents where torrent.root != configuration.localFolder {
            let status = if let latest = torrent.latestStatus { latest } else { await torrent.status }
            let activity = ShareActivity.assess(ShareFacts(status))
            items.append(StatusReport.Item(kind: "shared", name: status.name, infoHash: status.infoHash.hex, state: activity.state,
                                           size: status.totalLength, progress: status.progress, peers: status.peers,
                                           downloadRate: status.downloadRate, uploadRate: status.uploadRate,
                                           peerSources: status.peerSources, peersLearned: status.peersLearned,
                                           error: status.lastError, reason: activity.reason,
                                           remainingBytes: status.activity.missingWantedBytes > 0 ? status.activity.missingWantedBytes : nil,
                                           trackerError: status.activity.lastTrackerError,
                                           trackerSwarm: status.activity.trackerSwarm,
                                           connectedPeers: Self.peerList(status),
                                           pinned: status.activity.downloadsWhole ? true : nil))
        }
        items.sort { ($0.kind, $0.name) < ($1.kind, $1.name) }
        let cache = session.cacheUsage
        let connected = items.reduce(0) { $0 + ($1.connectedPeers?.count ?? 0) }
        if connected > StatusReport.peerListLimit {
            for index in items.indices { items[index].connectedPeers = nil }
        }
        return StatusReport(updated: Date().timeIntervalSince1970, mountpoint: mountpoint, peerPort: session.listenPort,
                            dhtNodes: session.dht?.nodeCount, passthrough: passthrough,
                            cache: StatusReport.Cache(used: cache.used, limit: cache.limit, pinned: cache.pinned),
                            addErrors: addErrors.isEmpty ? nil : addErrors, items: items,
                            pid: getpid(), processStart: DaemonProcess.ownStartTicks, stoppedAt: stoppedAt,
                            peerListsOmitted: connected > StatusReport.peerListLimit ? connected : nil)
    }

    static func peerList(_ status: TorrentStatus) -> [StatusReport.Peer]? {
        guard !status.connectedPeers.isEmpty else { return nil }
        return status.connectedPeers.map { peer in
            StatusReport.Peer(address: peer.address, source: peer.source, transport: peer.transport, client: peer.client,
                              amChoking: peer.amChoking, amInterested: peer.amInterested,
                              peerChoking: peer.peerChoking, peerInterested: peer.peerInterested,
                              downloadRate: peer.downloadRate, uploadRate: peer.uploadRate, progress: peer.progress)
        }
    }

    /// Writes the report atomically (a temporary file renamed over the old one).
    public func writeStatus() async {
        let cache = session.cacheUsage
        let inputs = [session.statusGeneration, treeGeneration, session.dht?.nodeCount ?? -1,
                      Int(truncatingIfNeeded: cache.used), Int(truncatingIfNeeded: cache.pinned)]
        if inputs == lastStatusInputs && touchStatusFile() { return }
        lastStatusInputs = inputs
        var report = await statusReport()
        // Unchanged apart from the time: only the file's mtime moves, which `memofs status`
        // reads as the time of the report. With thousands of recordings this keeps an idle
        // daemon from encoding megabytes of JSON every second.
        report.updated = 0
        if report == lastStatusReport && touchStatusFile() { return }
        lastStatusReport = report
        report.updated = Date().timeIntervalSince1970
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        guard let data = try? encoder.encode(report) else { return }
        do {
            try replaceStatusFile(with: Array(data))
            statusWriteProblem = nil
        } catch {
            // The status must still say what is wrong when the disk is full: the reserve's
            // room is for that (and for the database).
            if let failure = error as? StatusFileError, failure.errno == .noSpace || failure.errno == .diskQuotaExceeded,
               session.spaceReserve.release(because: "the status report could not be written") {
                lastStatusInputs = nil
                lastStatusReport = nil
                await writeStatus()
                return
            }
            // Tried again with the next report (a full disk may have room by then).
            lastStatusInputs = nil
            lastStatusReport = nil
            if "\(error)" != statusWriteProblem { logger.warning("status report not written: \(error)") }
            statusWriteProblem = "\(error)"
        }
    }

    /// Moves the status file's mtime to now (the time of the report); false when it cannot,
    /// the file being gone, say: the report is then written in full.
    private func touchStatusFile() -> Bool {
        (try? FilePath(configuration.statusFile).setModificationTime(nil)) != nil
    }

    /// Writes a temporary file and renames it over the report, so a reader never sees half of one.
    private func replaceStatusFile(with bytes: [UInt8]) throws {
        let temporary = configuration.statusFile + ".tmp"
        try StatusFileError.naming(temporary) {
            let file = try FileDescriptor.open(temporary, .writeOnly, options: [.create, .truncate, .closeOnExec],
                                               permissions: [.ownerReadWrite, .groupRead, .otherRead])
            try file.closeAfter { _ = try file.writeAll(bytes) }
        }
        try StatusFileError.naming(configuration.statusFile) {
            try FilePath(temporary).rename(to: FilePath(configuration.statusFile))
        }
    }
}

/// A status file that could not be written: `path: reason`.
struct StatusFileError: Error, CustomStringConvertible {
    let path: String
    let errno: Errno
    var description: String { "\(path): \(errno)" }

    static func naming(_ path: String, _ call: () throws -> Void) throws {
        do {
            try call()
        } catch let error as Errno {
            throw StatusFileError(path: path, errno: error)
        }
    }
}
