import Foundation
import PeerHarness
import TestSupport
import TorrentModel

/// Readers under load: `readers` reads of 64 KiB started at once through the mount, each
/// at its own offset of a fresh share whose only seeder (libtorrent) uploads at `rateMB`
/// MB/s, so the seeder, not memofs, is the bottleneck. Served fairly, latencies spread
/// evenly up to the time the seeder needs for all of it, and the longest read waits about
/// twice the median; a starved read shows as a max far beyond that. Prints p50 / p99 / max,
/// max / median, and memofs's resident memory after the reads.
func readersBenchmark(readers: Int, rateMB: Int, sizeMiB: Int, rounds: Int) async throws {
    let folder = try TemporaryFolder()
    let size = sizeMiB << 20
    print("writing a \(sizeMiB) MiB file…")
    try folder.write("seed/load.bin", count: size, seed: 98)
    let metainfo = try TorrentCreator.createBlocking(from: folder.path + "/seed/load.bin")
    let torrentPath = folder.path + "/load.torrent"
    try Data(metainfo.encoded()).write(to: URL(fileURLWithPath: torrentPath))
    let (seeder, port) = try await startLibtorrent("seed", torrent: torrentPath, folder: folder.path + "/seed",
                                                   extra: ["--upload-limit", "\(rateMB * 1_000_000)"])
    defer { seeder.stop() }
    let magnet = "magnet:?xt=urn:btih:\(metainfo.infoHash.hex)&dn=load.bin&x.pe=127.0.0.2:\(port)"
    print("\(readers) concurrent 64 KiB reads, seeder at \(rateMB) MB/s, \(metainfo.info.pieceCount) pieces of "
          + "\(metainfo.info.pieceLength >> 10) KiB (seconds: p50 / p99 / max)")

    var p50s: [Double] = [], p99s: [Double] = [], maxima: [Double] = [], ratios: [Double] = [], rss: [Double] = []
    for round in 1...rounds {
        let mount = try await MountedMemofs(mountpoint: folder.path + "/mnt-\(round)", dataFolder: folder.path + "/data-\(round)",
                                            extra: ["--no-dht"])
        defer { mount.stop() }
        let (latencies, errors) = try await concurrentReads(of: "load.bin", magnet: magnet, through: mount,
                                                            readers: readers, seed: round)
        func quantile(_ q: Double) -> Double { latencies[min(latencies.count - 1, Int(Double(latencies.count) * q))] }
        p50s.append(quantile(0.5))
        p99s.append(quantile(0.99))
        maxima.append(latencies.last!)
        ratios.append(latencies.last! / quantile(0.5))
        if let pid = mount.daemon?.process.processIdentifier { rss.append(residentMegabytes(of: pid)) }
        print(String(format: "round %d: p50 %.2f s, p99 %.2f s, max %.2f s, max/median %.2f, %d errors, RSS %.0f MB",
                     round, p50s.last!, p99s.last!, maxima.last!, ratios.last!, errors.count, rss.last ?? .nan))
    }
    row("read latency p50 (s)", p50s, format: "%7.2f")
    row("read latency p99 (s)", p99s, format: "%7.2f")
    row("read latency max (s)", maxima, format: "%7.2f")
    row("max / median", ratios, format: "%7.2f")
    row("memofs RSS after the reads (MB)", rss, format: "%7.0f")
}

/// Adds `magnet` to the mount's `shared/`, waits (30 s at most) for `name` to appear, and
/// reads it with `readers` 64 KiB reads started at once (read_timer.py --concurrent): the
/// latencies of those that finished, sorted, and the errors of the others.
func concurrentReads(of name: String, magnet: String, through mount: MountedMemofs, readers: Int, seed: Int) async throws
    -> (latencies: [Double], errors: [String]) {
    try await run(["/bin/sh", "-c", "cat > '\(mount.shared)/.add'"], timeout: 10, input: Data((magnet + "\n").utf8))
    let file = mount.shared + "/" + name
    let deadline = Date().addingTimeInterval(30)
    while !FileManager.default.fileExists(atPath: file) {
        guard Date() < deadline else { throw ChildProcess.Timeout(description: "\(name) not in shared/ after 30 s") }
        try await Task.sleep(for: .milliseconds(20))
    }
    let result = try await run(["/usr/bin/python3", supportFolder + "/read_timer.py", file, "--concurrent",
                                "--count", "\(readers)", "--size", "65536", "--seed", "\(seed)"], timeout: 600)
    let json = try JSONSerialization.jsonObject(with: result.output) as? [String: Any]
    let latencies = (json?["latencies"] as? [Double] ?? []).sorted()
    guard !latencies.isEmpty else { throw ChildProcess.Timeout(description: "no read finished: \(result.errors)") }
    return (latencies, json?["errors"] as? [String] ?? [])
}

/// A process's resident set size in MB (10^6), from /proc.
func residentMegabytes(of pid: Int32) -> Double {
    guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
          let kilobytes = Double(line.split(separator: " ").dropFirst().first ?? "") else { return .nan }
    return kilobytes * 1024 / 1e6
}
