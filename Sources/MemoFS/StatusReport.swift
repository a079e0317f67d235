import Engine
import Foundation

/// What `memofs status` prints, written by the daemon to `<data>/status.json` every second.
public struct StatusReport: Codable, Sendable, Equatable {
    public struct Item: Codable, Sendable, Equatable {
        public var kind: String          // "recording" or "shared"
        public var name: String
        public var infoHash: String?
        public var state: String         // waiting for metadata, downloading, complete, seeding, hashing, error
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
    }

    public var updated: Double
    public var mountpoint: String?
    public var peerPort: Int
    /// Nodes in the DHT routing table; nil when the DHT is off.
    public var dhtNodes: Int?
    /// Whether the kernel serves complete files straight from disk (FUSE passthrough); nil before it said.
    public var passthrough: Bool?
    public var lastAddError: String?
    public var items: [Item]
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
            } else if item.error != nil {
                item.state = "error"
            }
            items.append(item)
        }
        for torrent in await session.allTorrents where torrent.root != configuration.localFolder {
            let status = if let latest = torrent.latestStatus { latest } else { await torrent.status }
            let state = !status.hasMetadata ? "waiting for metadata" : status.progress >= 1 ? "complete" : "downloading"
            items.append(StatusReport.Item(kind: "shared", name: status.name, infoHash: status.infoHash.hex, state: state,
                                           size: status.totalLength, progress: status.progress, peers: status.peers,
                                           downloadRate: status.downloadRate, uploadRate: status.uploadRate,
                                           peerSources: status.peerSources, peersLearned: status.peersLearned,
                                           error: status.lastError))
        }
        items.sort { ($0.kind, $0.name) < ($1.kind, $1.name) }
        return StatusReport(updated: Date().timeIntervalSince1970, mountpoint: mountpoint, peerPort: session.listenPort,
                            dhtNodes: session.dht?.nodeCount, passthrough: passthrough, lastAddError: lastAddError, items: items)
    }

    /// Writes the report atomically (a temporary file renamed over the old one).
    func writeStatus() async {
        let inputs = [session.statusGeneration, treeGeneration, session.dht?.nodeCount ?? -1]
        if inputs == lastStatusInputs {
            utimensat(AT_FDCWD, configuration.statusFile, nil, 0)
            return
        }
        lastStatusInputs = inputs
        var report = await statusReport()
        // Unchanged apart from the time: only the file's mtime moves, which `memofs status`
        // reads as the time of the report. With thousands of recordings this keeps an idle
        // daemon from encoding megabytes of JSON every second.
        report.updated = 0
        if report == lastStatusReport {
            utimensat(AT_FDCWD, configuration.statusFile, nil, 0)
            return
        }
        lastStatusReport = report
        report.updated = Date().timeIntervalSince1970
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        guard let data = try? encoder.encode(report) else { return }
        let temporary = configuration.statusFile + ".tmp"
        if FileManager.default.createFile(atPath: temporary, contents: data) {
            Foundation.rename(temporary, configuration.statusFile)
        }
    }
}
