import Engine
import Foundation
import TestSupport
import TorrentModel

/// Helpers for tests and benchmarks that drive real peers: child processes that are always
/// ended, libtorrent and opentracker on loopback. Temporary folders are TestSupport's.

/// `Tests/Support`, where the Python peers live.
public let supportFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Tests/Support").path

public func sha1(ofFile path: String) throws -> String {
    SHA1.hash(Array(try Data(contentsOf: URL(fileURLWithPath: path)))).hex
}

/// Runs `body`, failing with a timeout error if it takes longer than `seconds`.
public func withTimeout<T: Sendable>(_ seconds: Double, _ what: String,
                              _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: .seconds(seconds))
            throw ChildProcess.Timeout(description: "\(what) did not finish within \(seconds) s")
        }
        let result = try await group.next()!
        group.cancelAll()
        return result
    }
}

/// A libtorrent peer (Tests/Support/lt_peer.py) on its own loopback address.
public func startLibtorrent(_ mode: String, torrent: String? = nil, magnet: String? = nil, folder: String,
                     listen: String = "127.0.0.2:0", peers: [String] = [], extra: [String] = []) async throws -> (ChildProcess, Int) {
    var arguments = [supportFolder + "/lt_peer.py", mode, "--dir", folder, "--listen", listen, "--lifetime", "240"]
    if let torrent { arguments += ["--torrent", torrent] }
    if let magnet { arguments += ["--magnet", magnet] }
    for peer in peers { arguments += ["--peer", peer] }
    arguments += extra
    let child = try ChildProcess("/usr/bin/python3", arguments, label: "libtorrent \(mode)")
    let ready = try await child.waitForEvent("ready", timeout: 30)
    return (child, ready["port"] as? Int ?? 0)
}

/// A torrent seeded by libtorrent on 127.0.0.2: a file of `count` pseudo-random bytes
/// written as `seed/<name>` in `folder`, its metainfo, the seeder (stop it) and a magnet
/// naming only the info hash and the seeder's address.
public func seedWithLibtorrent(_ folder: TemporaryFolder, name: String, count: Int, seed: UInt64, pieceLength: Int,
                               extra: [String] = []) async throws
    -> (bytes: [UInt8], metainfo: Metainfo, seeder: ChildProcess, magnet: MagnetLink) {
    let bytes = try folder.write("seed/" + name, count: count, seed: seed)
    let metainfo = try TorrentCreator.createBlocking(from: folder.path + "/seed/" + name, options: .init(pieceLength: pieceLength))
    let torrentPath = folder.path + "/" + name + ".torrent"
    try Data(metainfo.encoded()).write(to: URL(fileURLWithPath: torrentPath))
    let (seeder, port) = try await startLibtorrent("seed", torrent: torrentPath, folder: folder.path + "/seed", extra: extra)
    var magnet = MagnetLink(infoHash: metainfo.infoHash)
    magnet.peers = [PeerAddress("127.0.0.2:\(port)")!]
    return (bytes, metainfo, seeder, magnet)
}

/// Like ``seedWithLibtorrent(_:name:count:seed:pieceLength:extra:)``, but the torrent is
/// libtorrent's own hybrid v1+v2 torrent (BEP 52), checked rather than in seed mode so the
/// seeder answers hash requests; the magnet names both hashes, as libtorrent writes it.
public func seedHybridWithLibtorrent(_ folder: TemporaryFolder, name: String, count: Int, seed: UInt64, pieceLength: Int) async throws
    -> (bytes: [UInt8], metainfo: Metainfo, seeder: ChildProcess, magnet: MagnetLink) {
    let bytes = try folder.write("seed/" + name, count: count, seed: seed)
    let torrentPath = folder.path + "/" + name + ".torrent"
    let (seeder, port) = try await startLibtorrent("seed", torrent: torrentPath, folder: folder.path + "/seed",
                                                   extra: ["--make-hybrid", name, "--piece-length", "\(pieceLength)"])
    let metainfo = try Metainfo(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: torrentPath))))
    var magnet = MagnetLink(metainfo: metainfo)
    magnet.trackers = []
    magnet.peers = [PeerAddress("127.0.0.2:\(port)")!]
    return (bytes, metainfo, seeder, magnet)
}

public func testConfiguration(_ folder: String, trackers: [String] = []) -> SessionConfiguration {
    var timeouts = EngineTimeouts()
    timeouts.connect = .seconds(5)
    return SessionConfiguration(dataFolder: folder, listenHost: "127.0.0.1", listenPort: 0,
                                extraTrackers: trackers, timeouts: timeouts)
}

/// A test session with a DHT node that joins only through `bootstrap` (loopback nodes the
/// test started), with a short query timeout.
public func dhtConfiguration(_ folder: String, bootstrap: [String] = []) -> SessionConfiguration {
    var configuration = testConfiguration(folder)
    configuration.dht = DHTSettings(bootstrapNodes: bootstrap, queryTimeout: .seconds(1))
    return configuration
}

/// The memofs executable next to the test bundle (`swift test` builds it too).
public var memofsExecutable: String {
    let here = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for candidate in [here.appendingPathComponent("memofs").path,
                      here.deletingLastPathComponent().appendingPathComponent("memofs").path]
    where FileManager.default.isExecutableFile(atPath: candidate) {
        return candidate
    }
    return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent(".build/debug/memofs").path
}

/// Runs `body` with a started session and always shuts the session down, also when `body` throws.
public func withSession<T: Sendable>(_ configuration: SessionConfiguration,
                                     _ body: (Session) async throws -> T) async throws -> T {
    let session = try await Session.start(configuration: configuration)
    do {
        let result = try await body(session)
        await session.shutdown()
        return result
    } catch {
        await session.shutdown()
        throw error
    }
}
