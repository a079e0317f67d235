import ArgumentParser
import Engine
import Foundation
import Logging
import TorrentModel

/// Options every command that runs the engine shares.
struct EngineOptions: ParsableArguments {
    @Option(help: "Where state and downloads live (default: $XDG_DATA_HOME/memofs).") var data: String?
    @Option(help: "The address to accept peers on.") var listen: String = "0.0.0.0"
    @Option(help: "The peer port (0 picks a free one).") var port: Int = 6881
    @Option(name: .customLong("tracker"), help: "A tracker to announce to (repeatable).") var trackers: [String] = []
    @Flag(help: "Print a JSON status line every second instead of text.") var json = false
    @Flag(help: "Log what the engine does (to standard error).") var verbose = false
    @OptionGroup var discovery: DiscoveryOptions

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port \(port) is not 0–65535") }
        for tracker in trackers where !(tracker.hasPrefix("http://") || tracker.hasPrefix("udp://") || tracker.hasPrefix("https://")) {
            throw ValidationError("--tracker \(tracker) is not an http://, https:// or udp:// URL")
        }
    }

    var configuration: SessionConfiguration {
        SessionConfiguration(dataFolder: data ?? Mount.defaultDataFolder(), listenHost: listen, listenPort: port,
                             extraTrackers: trackers, dht: discovery.dht, localPeerDiscovery: discovery.localPeerDiscovery)
    }

    func startSession() async throws -> Session {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = verbose ? .debug : .warning
            return handler
        }
        return try await Session.start(configuration: configuration)
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

/// Ends a command on SIGINT or SIGTERM by cancelling its task, so the session shuts down cleanly.
func cancelOnSignals(_ task: Task<Void, Error>) -> [DispatchSourceSignal] {
    [SIGINT, SIGTERM].map { signalNumber in
        signal(signalNumber, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
        source.setEventHandler { task.cancel() }
        source.resume()
        return source
    }
}

struct Download: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Download a torrent whole from a magnet link, share link or .torrent file, then exit.")

    @Argument(help: "A magnet link, a share link, or a .torrent file.") var source: String
    @OptionGroup var engine: EngineOptions
    @Flag(help: "Keep seeding after the download completes, until interrupted.") var seed = false

    func run() async throws {
        let session = try await engine.startSession()
        let task = Task {
            let torrent: Torrent
            if source.hasSuffix(".torrent"), FileManager.default.fileExists(atPath: source) {
                torrent = try await session.add(metainfo: try Metainfo(bytes: try readFile(source)), downloadWhole: true)
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
        let signals = cancelOnSignals(task)
        defer { signals.forEach { $0.cancel() } }
        let result = await task.result
        await session.shutdown()
        if case .failure(let error) = result, !(error is CancellationError) { throw error }
    }
}

struct Seed: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Seed a file or folder where it is, until interrupted.")

    @Argument(help: "The file or folder to share.") var path: String
    @OptionGroup var engine: EngineOptions

    func run() async throws {
        let session = try await engine.startSession()
        let task = Task {
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
        let signals = cancelOnSignals(task)
        defer { signals.forEach { $0.cancel() } }
        let result = await task.result
        await session.shutdown()
        if case .failure(let error) = result, !(error is CancellationError) { throw error }
    }
}
