import Engine
import Foundation
import PeerHarness
import TestSupport
import TorrentModel

/// Download and upload rates on loopback, memofs against libtorrent in the same run:
/// libtorrent → libtorrent, libtorrent → memofs, memofs → libtorrent, and the time from a
/// magnet link to its metadata.
func swarmBenchmark(sizeMiB: Int, rounds: Int) async throws {
    let folder = try TemporaryFolder()
    let size = sizeMiB << 20
    print("writing a \(sizeMiB) MiB file…")
    try folder.write("seed/bench.bin", count: size, seed: 2026)
    let metainfo = try TorrentCreator.createBlocking(from: folder.path + "/seed/bench.bin")
    let torrentPath = folder.path + "/bench.torrent"
    try Data(metainfo.encoded()).write(to: URL(fileURLWithPath: torrentPath))
    print("torrent: \(metainfo.info.pieceCount) pieces of \(metainfo.info.pieceLength / 1024) KiB")
    let (seeder, seederPort) = try await startLibtorrent("seed", torrent: torrentPath, folder: folder.path + "/seed")
    defer { seeder.stop() }
    let magnetFromSeeder = "magnet:?xt=urn:btih:\(metainfo.infoHash.hex)&x.pe=127.0.0.2:\(seederPort)"

    var ltToLt: [Double] = [], ltToMemofs: [Double] = [], memofsToLt: [Double] = []
    var ltMetadata: [Double] = [], memofsMetadata: [Double] = []
    for round in 1...rounds {
        // libtorrent → libtorrent
        let ltFolder = folder.path + "/lt-\(round)"
        let (leecher, _) = try await startLibtorrent("download", magnet: magnetFromSeeder, folder: ltFolder, listen: "127.0.0.3:0")
        let metadata = try await leecher.waitForEvent("metadata", timeout: 60)
        let done = try await leecher.waitForEvent("done", timeout: 600)
        leecher.stop()
        ltMetadata.append(metadata["seconds"] as? Double ?? .nan)
        ltToLt.append(Double(size) / (done["seconds"] as? Double ?? .nan) / 1e6)
        try? FileManager.default.removeItem(atPath: ltFolder)

        // libtorrent → memofs
        let session = try await Session.start(configuration: testConfiguration(folder.path + "/memofs-\(round)"))
        let clock = ContinuousClock()
        let started = clock.now
        let torrent = try await session.add(magnet: try MagnetLink(parsing: magnetFromSeeder), downloadWhole: true)
        _ = try await torrent.waitForMetadata()
        memofsMetadata.append((clock.now - started).seconds)
        try await torrent.waitUntilComplete()
        ltToMemofs.append(Double(size) / (clock.now - started).seconds / 1e6)
        await session.shutdown()
        try? FileManager.default.removeItem(atPath: folder.path + "/memofs-\(round)")

        // memofs → libtorrent
        let seedingSession = try await Session.start(configuration: testConfiguration(folder.path + "/memofs-seed-\(round)"))
        let seeded = try await seedingSession.seed(path: folder.path + "/seed/bench.bin")
        let magnet = "magnet:?xt=urn:btih:\(seeded.infoHash.hex)&x.pe=127.0.0.1:\(seedingSession.listenPort)"
        let (fromMemofs, _) = try await startLibtorrent("download", magnet: magnet, folder: folder.path + "/from-memofs-\(round)",
                                                        listen: "127.0.0.4:0")
        let fromMemofsDone = try await fromMemofs.waitForEvent("done", timeout: 600)
        fromMemofs.stop()
        memofsToLt.append(Double(size) / (fromMemofsDone["seconds"] as? Double ?? .nan) / 1e6)
        await seedingSession.shutdown()
        try? FileManager.default.removeItem(atPath: folder.path + "/from-memofs-\(round)")
        print("round \(round): lt→lt \(Int(ltToLt.last!)) MB/s, lt→memofs \(Int(ltToMemofs.last!)) MB/s, "
              + "memofs→lt \(Int(memofsToLt.last!)) MB/s")
    }

    print("\n\(sizeMiB) MiB torrent on loopback, \(rounds) rounds (min / median / max)")
    row("libtorrent → libtorrent (MB/s)", ltToLt)
    row("libtorrent → memofs (MB/s)", ltToMemofs)
    row("memofs → libtorrent (MB/s)", memofsToLt)
    row("magnet → metadata, libtorrent (s)", ltMetadata, format: "%7.3f")
    row("magnet → metadata, memofs (s)", memofsMetadata, format: "%7.3f")
    print(String(format: "ratio download: libtorrent→memofs / libtorrent→libtorrent = %.2f (goal ≥ 0.9)",
                 median(ltToMemofs) / median(ltToLt)))
    print(String(format: "ratio upload:   memofs→libtorrent / libtorrent→libtorrent = %.2f (goal ≥ 1.0)",
                 median(memofsToLt) / median(ltToLt)))
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
