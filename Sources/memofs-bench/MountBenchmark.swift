import Foundation
import PeerHarness
import TestSupport
import TorrentModel

/// The mount as a user meets it, against a local libtorrent seeder, in one run: time from
/// the `.add` write to the first byte, sequential read rate, 64 KiB random-read latency in
/// a fresh torrent, and a recording read through the mount against the same file on disk.
func mountBenchmark(sizeMiB: Int, rounds: Int) async throws {
    let folder = try TemporaryFolder()
    let size = sizeMiB << 20
    print("writing a \(sizeMiB) MiB file…")
    try folder.write("seed/bench.bin", count: size, seed: 99)
    let metainfo = try TorrentCreator.createBlocking(from: folder.path + "/seed/bench.bin")
    let torrentPath = folder.path + "/bench.torrent"
    try Data(metainfo.encoded()).write(to: URL(fileURLWithPath: torrentPath))
    let (seeder, port) = try await startLibtorrent("seed", torrent: torrentPath, folder: folder.path + "/seed")
    defer { seeder.stop() }
    let magnet = "magnet:?xt=urn:btih:\(metainfo.infoHash.hex)&dn=bench.bin&x.pe=127.0.0.2:\(port)"
    let timer = supportFolder + "/read_timer.py"

    var firstByte: [Double] = [], sequential: [Double] = [], medians: [Double] = [], p95s: [Double] = []
    var fetchedAfterRandom: [Double] = []
    for round in 1...rounds {
        // First byte, then random reads, in a fresh mount with a fresh data folder.
        let mount = try await MountedMemofs(mountpoint: folder.path + "/mnt-\(round)", dataFolder: folder.path + "/data-\(round)")
        let file = mount.shared + "/bench.bin"
        let started = Date()
        try await run(["/bin/sh", "-c", "cat > '\(mount.shared)/.add'"], timeout: 10, input: Data((magnet + "\n").utf8))
        while true {
            let head = try await run(["/usr/bin/head", "-c", "1", file], timeout: 30)
            if head.status == 0 && head.output.count == 1 { break }
            guard Date().timeIntervalSince(started) < 60 else { throw ChildProcess.Timeout(description: "no first byte in 60 s") }
            usleep(5_000)
        }
        firstByte.append(Date().timeIntervalSince(started))

        let random = try await run(["/usr/bin/python3", timer, file, "--count", "20", "--size", "65536", "--seed", "\(round)"], timeout: 120)
        let latencies = ((try JSONSerialization.jsonObject(with: random.output) as? [String: Any])?["latencies"] as? [Double] ?? []).sorted()
        medians.append(latencies[latencies.count / 2] * 1000)
        p95s.append(latencies[min(latencies.count - 1, Int(Double(latencies.count) * 0.95))] * 1000)
        let blocks = try await run(["/usr/bin/stat", "-c", "%b", file], timeout: 10).text
        fetchedAfterRandom.append(Double((Int(blocks.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0) * 512) / Double(size) * 100)

        let whole = try await run(["/usr/bin/python3", timer, file, "--sequential"], timeout: 600)
        let seconds = (try JSONSerialization.jsonObject(with: whole.output) as? [String: Any])?["seconds"] as? Double ?? .nan
        sequential.append(Double(size) / seconds / 1e6)
        mount.stop()
        print(String(format: "round %d: first byte %.3f s, random 64 KiB median %.1f ms p95 %.1f ms, sequential %.0f MB/s",
                     round, firstByte.last!, medians.last!, p95s.last!, sequential.last!))
    }

    // A recording: through the mount against the same file on disk (both warm in the page cache).
    let mount = try await MountedMemofs(mountpoint: folder.path + "/mnt-local", dataFolder: folder.path + "/data-local")
    defer { mount.stop() }
    try await run(["/bin/cp", folder.path + "/seed/bench.bin", mount.local + "/bench.bin"], timeout: 300)
    var throughMount: [Double] = [], fromDisk: [Double] = []
    for _ in 0..<(rounds + 1) {
        for (path, into) in [(mount.local + "/bench.bin", 0), (folder.path + "/data-local/local/bench.bin", 1)] {
            let result = try await run(["/usr/bin/python3", timer, path, "--sequential"], timeout: 300)
            let seconds = (try JSONSerialization.jsonObject(with: result.output) as? [String: Any])?["seconds"] as? Double ?? .nan
            if into == 0 { throughMount.append(Double(size) / seconds / 1e6) } else { fromDisk.append(Double(size) / seconds / 1e6) }
        }
    }
    throughMount.removeFirst()  // the first pass warms the caches
    fromDisk.removeFirst()

    print("\n\(sizeMiB) MiB file, libtorrent seeder on loopback, \(rounds) rounds (min / median / max)")
    row(".add write → first byte (s)", firstByte, format: "%7.3f")
    row("sequential read through the mount (MB/s)", sequential)
    row("random 64 KiB read, median (ms)", medians, format: "%7.1f")
    row("random 64 KiB read, p95 (ms)", p95s, format: "%7.1f")
    row("fetched after first byte + 20 reads (%)", fetchedAfterRandom, format: "%7.1f")
    row("local/ file through the mount (MB/s)", throughMount)
    row("the same file from disk (MB/s)", fromDisk)
    print(String(format: "ratio local/ through the mount / from disk = %.2f", median(throughMount) / median(fromDisk)))
}
