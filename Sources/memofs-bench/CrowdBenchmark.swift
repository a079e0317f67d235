import Foundation
import PeerHarness
import TestSupport
import TorrentModel

/// Load: `peers` leecher connections (crowd.py, plain BitTorrent peers from their own
/// loopback addresses, 50 per recording as memofs's per-torrent limit allows) asking for
/// blocks of memofs's recordings, and meanwhile `readers` concurrent 64 KiB reads through
/// the mount of a share a libtorrent seeder uploads at 20 MB/s. Held without a stall: every
/// peer stays connected and every read completes; prints the read latencies, memofs's
/// resident memory idle, with the peers, and with the peers and the readers, its CPU time,
/// and what it uploaded to the crowd.
func crowdBenchmark(peers: Int, readers: Int) async throws {
    let folder = try TemporaryFolder()
    let perTorrent = 50
    let recordings = max(1, (peers + perTorrent - 1) / perTorrent)
    let mount = try await MountedMemofs(mountpoint: folder.path + "/mnt", dataFolder: folder.path + "/data", extra: ["--no-dht"])
    defer { mount.stop() }
    guard let pid = mount.daemon?.process.processIdentifier else { return }
    let idle = residentMegabytes(of: pid)

    print("\(recordings) recordings of 8 MiB, \(peers) leecher connections, then \(readers) concurrent 64 KiB reads of a share")
    var torrents: [String] = []
    var memofsPort = 0
    for index in 0..<recordings {
        let name = "memo-\(index).bin"
        try folder.write("recordings/" + name, count: 8 << 20, seed: UInt64(200 + index))
        try await run(["/bin/cp", folder.path + "/recordings/" + name, mount.local + "/" + name], timeout: 60)
        let sidecar = mount.local + "/" + name + ".magnet"
        let deadline = Date().addingTimeInterval(30)
        while !FileManager.default.fileExists(atPath: sidecar) {
            guard Date() < deadline else { throw ChildProcess.Timeout(description: "no \(sidecar) after 30 s") }
            try await Task.sleep(for: .milliseconds(20))
        }
        let magnet = try MagnetLink(parsing: try String(contentsOfFile: sidecar, encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines))
        memofsPort = magnet.peers.first.map { Int($0.port) } ?? memofsPort
        // The same file and options give the same torrent as memofs made: its piece count.
        let metainfo = try TorrentCreator.createBlocking(from: folder.path + "/recordings/" + name)
        guard metainfo.infoHash == magnet.infoHash else {
            throw ChildProcess.Timeout(description: "memofs made another torrent of \(name) than TorrentCreator's defaults")
        }
        torrents += ["--torrent", "\(magnet.infoHash.hex):\(metainfo.info.pieceCount - 1)",
                     "--piece-length", "\(metainfo.info.pieceLength)"]
    }

    let crowd = try ChildProcess("/usr/bin/python3", [supportFolder + "/crowd.py", "--peer", "127.0.0.1:\(memofsPort)",
                                                      "--per-torrent", "\(min(perTorrent, peers))"] + torrents, label: "crowd")
    defer { crowd.stop() }
    let ready = try await crowd.waitForEvent("ready", timeout: 60)
    let connected = ready["connected"] as? Int ?? 0
    try await Task.sleep(for: .seconds(5))
    let withPeers = residentMegabytes(of: pid)
    let cpuBefore = cpuSeconds(of: pid)
    let uploadedBefore = latestProgress(of: crowd)["bytes"] as? Int ?? 0
    let started = Date()

    let size = 256 << 20
    try folder.write("seed/share.bin", count: size, seed: 97)
    let metainfo = try TorrentCreator.createBlocking(from: folder.path + "/seed/share.bin")
    let torrentPath = folder.path + "/share.torrent"
    try Data(metainfo.encoded()).write(to: URL(fileURLWithPath: torrentPath))
    let (seeder, port) = try await startLibtorrent("seed", torrent: torrentPath, folder: folder.path + "/seed",
                                                   extra: ["--upload-limit", "20000000"])
    defer { seeder.stop() }
    let magnet = "magnet:?xt=urn:btih:\(metainfo.infoHash.hex)&dn=share.bin&x.pe=127.0.0.2:\(port)"
    let (latencies, errors) = try await concurrentReads(of: "share.bin", magnet: magnet, through: mount,
                                                        readers: readers, seed: 7)
    let withReaders = residentMegabytes(of: pid)
    let progress = latestProgress(of: crowd)
    let elapsed = Date().timeIntervalSince(started)
    let cpu = cpuSeconds(of: pid) - cpuBefore
    let uploaded = (progress["bytes"] as? Int ?? 0) - uploadedBefore
    func quantile(_ q: Double) -> Double { latencies[min(latencies.count - 1, Int(Double(latencies.count) * q))] }

    print(String(format: "peers connected: %d of %d at the start, %d at the end (%d unchoked)", connected, peers,
                 progress["connected"] as? Int ?? 0, progress["unchoked"] as? Int ?? 0))
    print(String(format: "reads: %d done, %d failed; latency p50 %.2f s, p99 %.2f s, max %.2f s (max/median %.2f)",
                 latencies.count, errors.count, quantile(0.5), quantile(0.99), latencies.last!, latencies.last! / quantile(0.5)))
    print(String(format: "memofs RSS: %.0f MB idle, %.0f MB with the peers, %.0f MB with the peers and the readers",
                 idle, withPeers, withReaders))
    print(String(format: "while reading (%.1f s): memofs used %.1f s of CPU (%.0f %% of a core), uploaded %.1f MB/s to the crowd",
                 elapsed, cpu, cpu / elapsed * 100, Double(uploaded) / elapsed / 1e6))
}

/// crowd.py's last progress line (one a second).
func latestProgress(of crowd: ChildProcess) -> [String: Any] {
    for line in crowd.allLines.reversed() {
        if let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
           object["event"] as? String == "progress" { return object }
    }
    return [:]
}

/// A process's user and system CPU time in seconds, from /proc.
func cpuSeconds(of pid: Int32) -> Double {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return .nan }
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    // After the name: state is field 3, utime 14 and stime 15 (1-based over the whole line).
    guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return .nan }
    return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
}
