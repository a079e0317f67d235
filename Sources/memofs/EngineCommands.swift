import ArgumentParser
import Engine
import Foundation
import Logging
import TorrentModel

/// Options every command that runs the engine shares.
struct EngineOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Where state and downloads live (default: $XDG_DATA_HOME/memofs, else ~/.local/share/memofs).",
                               valueName: "dir"))
    var data: String?
    @Option(help: ArgumentHelp("The address to accept peers on.", valueName: "address")) var listen: String = "0.0.0.0"
    @Option(help: "Peer port, TCP; 0 picks a free one.") var port: Int = 6881
    @Option(name: .customLong("tracker"), help: ArgumentHelp("A tracker to announce to (repeatable).", valueName: "url"))
    var trackers: [String] = []
    @Flag(help: "Print a JSON status line every second instead of text.") var json = false
    @Flag(name: .shortAndLong, help: "Log what the engine does, to standard error: -v peer connections, disconnects, stalls; -vv everything.")
    var verbose: Int
    @OptionGroup var discovery: DiscoveryOptions
    @OptionGroup var webRTC: WebRTCOptions

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port \(port) is not 0–65535") }
        for tracker in trackers where TrackerCheck.problem(tracker) != nil {
            throw ValidationError("--tracker \(tracker) is \(TrackerCheck.problem(tracker)!)")
        }
    }

    /// Starts the engine on the data folder, after the same refusals as `mount`: a folder it
    /// cannot use, one another memofs uses (they would share the state database), a taken
    /// port. The lock returned must be held until the session has shut down.
    func startSession(command: String) async throws -> (Session, DataFolderLock) {
        Verbosity.bootstrap(level: Verbosity.level(verbose, quiet: .warning))
        let dataFolder = try DataFolder.prepare(data ?? Mount.defaultDataFolder())
        let lock = try DataFolderLock.acquire(dataFolder: dataFolder, command: command)
        let dht = discovery.dht
        try await PortInUse.check(host: listen, peerPort: port, dhtPort: dht?.port)
        let session = try await Session.start(configuration: SessionConfiguration(
            dataFolder: dataFolder, listenHost: listen, listenPort: port, extraTrackers: trackers, dht: dht,
            localPeerDiscovery: discovery.localPeerDiscovery,
            webRTC: webRTC.settings.configuration(listen: listen), webSocketTrackerOptions: webRTC.settings.trackerOptions))
        return (session, lock)
    }

    func report(_ status: TorrentStatus) {
        if json {
            let fields: [String: Any] = [
                "event": "status", "name": status.name, "info_hash": status.infoHash.hex, "progress": status.progress,
                "verified_pieces": status.verifiedPieces, "pieces": status.pieceCount, "peers": status.peers,
                "downloaded": status.downloadedBytes, "uploaded": status.uploadedBytes, "wasted": status.wastedBytes,
                "hash_failures": status.hashFailures, "rechecked": status.recheckedPieces,
                "download_rate": status.downloadRate, "error": status.lastError ?? "",
                "peer_sources": status.peerSources, "peers_learned": status.peersLearned,
            ]
            let data = try! JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])
            emit(String(decoding: data, as: UTF8.self))
        } else {
            let percent = String(format: "%5.1f%%", status.progress * 100)
            emit("\(status.name): \(percent), \(status.peers) peers, \(Int(status.downloadRate / 1000)) kB/s down")
        }
    }
}

/// Writes a line to standard output at once (unbuffered), so a reader sees it as it happens.
func emit(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

struct Download: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Download a torrent whole from a magnet link, share link or .torrent file, then exit.")

    @Argument(help: "A magnet link, a share link, or a .torrent file.") var source: String
    @OptionGroup var engine: EngineOptions
    @Flag(help: "Keep seeding after the download completes, until interrupted.") var seed = false

    func run() async throws {
        let (session, lock) = try await engine.startSession(command: "download")
        defer { lock.release() }
        try await runWithSession(session, command: "download") {
            let torrent: Torrent
            if !(source.hasPrefix("magnet:") || source.contains("://")) {
                torrent = try await session.add(metainfo: try readTorrent(source), downloadWhole: true)
            } else {
                let links = try MagnetLink.parseLinks(source)
                torrent = try await session.add(magnet: links[0], downloadWhole: true)
                await torrent.setDownloadWhole(true)
            }
            engine.report(await torrent.status)
            while !(await torrent.isComplete) {
                try await Task.sleep(for: .seconds(1))
                engine.report(await torrent.status)
            }
            engine.report(await torrent.status)
            if engine.json { emit(#"{"event":"done"}"#) }
            if seed { while true { try await Task.sleep(for: .seconds(1)) } }
        }
    }
}

struct Seed: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Seed a file or folder where it is, until interrupted.")

    @Argument(help: "The file or folder to share.") var path: String
    @OptionGroup var engine: EngineOptions

    func run() async throws {
        let (session, lock) = try await engine.startSession(command: "seed")
        defer { lock.release() }
        try await runWithSession(session, command: "seed") {
            let torrent = try await session.seed(path: path, options: .init(trackers: engine.trackers.map { [$0] }))
            var magnet = torrent.magnetLink
            if engine.listen != "0.0.0.0", let peer = PeerAddress("\(engine.listen):\(session.listenPort)") {
                magnet.peers = [peer]
            }
            emit(engine.json ? #"{"event":"ready","magnet":"\#(magnet.uri)","port":\#(session.listenPort)}"# : magnet.uri)
            while true {
                try await Task.sleep(for: .seconds(1))
                if engine.json { engine.report(await torrent.status) }
            }
        }
    }
}
