import Engine
import Foundation
import PeerHarness
import TestSupport
import TorrentModel

/// Time from adding a trackerless magnet to the first peer found through the DHT, memofs
/// against libtorrent, in one run on loopback: a memofs node bootstraps the little DHT, a
/// libtorrent seeder announces into it, and each round a fresh memofs session and a fresh
/// libtorrent session (both joined first) are given only `magnet:?xt=…`.
func dhtBenchmark(rounds: Int) async throws {
    let folder = try TemporaryFolder()
    try folder.write("seed/memo.bin", count: 4 << 20, seed: 5)
    let metainfo = try TorrentCreator.createBlocking(from: folder.path + "/seed/memo.bin")
    let torrentPath = folder.path + "/memo.torrent"
    try Data(metainfo.encoded()).write(to: URL(fileURLWithPath: torrentPath))
    let magnet = try MagnetLink(parsing: "magnet:?xt=urn:btih:\(metainfo.infoHash.hex)")

    try await withSession(dhtConfiguration(folder.path + "/node")) { node in
        let bootstrap = "127.0.0.1:\(node.dht!.port)"
        let (seeder, _) = try await startLibtorrent("seed", torrent: torrentPath, folder: folder.path + "/seed",
                                                    extra: ["--dht-bootstrap", bootstrap])
        defer { seeder.stop() }
        try await withTimeout(30, "the seeder's announce") {
            while await node.dht!.statistics().announcedPeers == 0 { try await Task.sleep(for: .milliseconds(20)) }
        }

        var memofsTimes: [Double] = [], libtorrentTimes: [Double] = []
        for round in 1...rounds {
            let configuration = dhtConfiguration(folder.path + "/memofs-\(round)", bootstrap: [bootstrap])
            let seconds = try await withSession(configuration) { session in
                try await withTimeout(30, "joining the DHT") {
                    while session.dht!.nodeCount == 0 { try await Task.sleep(for: .milliseconds(5)) }
                }
                let started = ContinuousClock.now
                let torrent = try await session.add(magnet: magnet)
                try await withTimeout(60, "a DHT peer") {
                    while await torrent.status.peersLearned["dht", default: 0] == 0 { try await Task.sleep(for: .milliseconds(1)) }
                }
                let elapsed = ContinuousClock.now - started
                return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            }
            memofsTimes.append(seconds)

            let (downloader, _) = try await startLibtorrent("download", magnet: magnet.uri, folder: folder.path + "/lt-\(round)",
                                                            listen: "127.0.0.3:0", extra: ["--dht-bootstrap", bootstrap])
            let event = try await downloader.waitForEvent("dht_peer", timeout: 60)
            downloader.stop()
            libtorrentTimes.append(event["seconds"] as? Double ?? .nan)
            print(String(format: "round %d: memofs %.4f s, libtorrent %.4f s", round, memofsTimes.last!, libtorrentTimes.last!))
        }
        print("\nTrackerless magnet → first peer found through the DHT, \(rounds) rounds (s: min / median / max)")
        row("memofs", memofsTimes, format: "%7.4f")
        row("libtorrent", libtorrentTimes, format: "%7.4f")
        print(String(format: "ratio memofs / libtorrent (median) = %.2f", median(memofsTimes) / median(libtorrentTimes)))
    }
}
