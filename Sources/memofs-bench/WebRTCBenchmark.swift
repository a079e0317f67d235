import Foundation
import NIOPosix
import PeerHarness
import TestSupport
import TorrentModel

/// memofs to memofs over a WebRTC data channel against the same over TCP, in one run: one
/// memofs seeds a recording (its magnet names a WebSocket tracker on loopback), and per round
/// a fresh memofs reads it whole through its mount, once finding the seeder only through the
/// tracker (WebRTC) and once dialling its address (TCP, WebRTC off). Prints the read rate and
/// the CPU time both daemons spent per MB read.
func webRTCBenchmark(sizeMiB: Int, rounds: Int) async throws {
    let folder = try TemporaryFolder()
    let size = sizeMiB << 20
    _ = try folder.write("rec.bin", count: size, seed: 7)
    let tracker = try await WebSocketRelayTracker(group: MultiThreadedEventLoopGroup.singleton)
    let seeder = try await MountedMemofs(mountpoint: folder.path + "/seeder", dataFolder: folder.path + "/seeder-data",
                                         extra: ["--tracker", tracker.url])
    defer { seeder.stop() }
    _ = try await run(["/bin/cp", folder.path + "/rec.bin", seeder.local + "/"], timeout: 300)
    var sidecar = ""
    while !sidecar.hasPrefix("magnet:?") {
        try await Task.sleep(for: .milliseconds(100))
        sidecar = try await run(["/bin/cat", seeder.local + "/rec.bin.magnet"], timeout: 10).text
    }
    var webRTCOnly = try MagnetLink(parsing: sidecar)
    webRTCOnly.peers = []
    var tcpOnly = try MagnetLink(parsing: sidecar)
    tcpOnly.trackers = []
    let timer = supportFolder + "/read_timer.py"
    guard let seederPID = seeder.daemon?.process.processIdentifier else { return }

    var rates: [String: [Double]] = [:], cpu: [String: [Double]] = [:]
    for round in 1...rounds {
        for (name, magnet, extra) in [("webrtc", webRTCOnly, [String]()), ("tcp", tcpOnly, ["--no-webrtc"])] {
            let reader = try await MountedMemofs(mountpoint: folder.path + "/\(name)-\(round)",
                                                 dataFolder: folder.path + "/\(name)-\(round)-data", extra: extra)
            defer { reader.stop() }
            guard let readerPID = reader.daemon?.process.processIdentifier else { continue }
            try await run(["/bin/sh", "-c", "cat > '\(reader.shared)/.add'"], timeout: 10, input: Data((magnet.uri + "\n").utf8))
            let file = reader.shared + "/rec.bin"
            while try await run(["/usr/bin/head", "-c", "1", file], timeout: 60).output.count != 1 {
                try await Task.sleep(for: .milliseconds(20))
            }
            let before = cpuSeconds(seederPID) + cpuSeconds(readerPID)
            let result = try await run(["/usr/bin/python3", timer, file, "--sequential"], timeout: 900)
            let after = cpuSeconds(seederPID) + cpuSeconds(readerPID)
            let seconds = (try JSONSerialization.jsonObject(with: result.output) as? [String: Any])?["seconds"] as? Double ?? .nan
            rates[name, default: []].append(Double(size) / seconds / 1e6)
            cpu[name, default: []].append((after - before) / (Double(size) / 1e6) * 1000)
            print(String(format: "round %d %@: %.1f MB/s, %.2f ms CPU per MB (both daemons)", round, name,
                         rates[name]!.last!, cpu[name]!.last!))
        }
    }
    await tracker.stop()
    print("\n\(sizeMiB) MiB recording, memofs → memofs on loopback, \(rounds) rounds (min / median / max)")
    row("over WebRTC, sequential read (MB/s)", rates["webrtc"] ?? [], format: "%7.1f")
    row("over TCP, sequential read (MB/s)", rates["tcp"] ?? [], format: "%7.1f")
    row("over WebRTC, CPU per MB (ms)", cpu["webrtc"] ?? [], format: "%7.2f")
    row("over TCP, CPU per MB (ms)", cpu["tcp"] ?? [], format: "%7.2f")
    print(String(format: "ratio WebRTC / TCP read rate = %.2f", median(rates["webrtc"] ?? []) / median(rates["tcp"] ?? [])))
}

/// User plus system CPU seconds of a process so far, from /proc.
func cpuSeconds(_ pid: Int32) -> Double {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let end = stat.lastIndex(of: ")") else { return 0 }
    // Fields after the command name: state is field 3, utime 14 and stime 15.
    let fields = stat[stat.index(after: end)...].split(separator: " ")
    guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
    return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
}
