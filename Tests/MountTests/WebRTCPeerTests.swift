import Foundation
import NIOPosix
import PeerHarness
import TestSupport
import Testing
import TorrentModel

/// Browser peers' way, between two memofs: a recording found through a WebSocket tracker and
/// carried over a WebRTC data channel only (no TCP address anywhere), read through the mount.
@Suite(.serialized) struct WebRTCPeerTests {
    func status(_ mount: MountedMemofs, _ extra: [String] = []) async throws -> String {
        try await run([memofsExecutable, "status", "--data", mount.dataFolder] + extra, timeout: 10).text
    }

    @Test func aRecordingStreamsFromOneMemofsToAnotherOverWebRTCOnly() async throws {
        let folder = try TemporaryFolder()
        let tracker = try await WebSocketRelayTracker(group: MultiThreadedEventLoopGroup.singleton)
        defer { Task { await tracker.stop() } }
        let seeder = try await MountedMemofs(mountpoint: folder.path + "/a", dataFolder: folder.path + "/a-data",
                                             extra: ["--tracker", tracker.url])
        defer { seeder.stop() }
        let reader = try await MountedMemofs(mountpoint: folder.path + "/b", dataFolder: folder.path + "/b-data")
        defer { reader.stop() }

        var random = SeededGenerator(seed: 77)
        let bytes = Data((0..<(3 << 20)).map { _ in UInt8.random(in: 0...255, using: &random) })
        try bytes.write(to: URL(fileURLWithPath: folder.path + "/rec.bin"))
        #expect(try await run(["/bin/cp", folder.path + "/rec.bin", seeder.local + "/"], timeout: 30).status == 0)
        var sidecar = ""
        try await eventually("the sidecar") {
            sidecar = try await run(["/bin/cat", seeder.local + "/rec.bin.magnet"], timeout: 10).text
            return sidecar.hasPrefix("magnet:?")
        }
        var link = try MagnetLink(parsing: sidecar)
        #expect(link.trackers == [tracker.url], "the ws:// tracker is in the recording's magnet")
        // Only the tracker: no address to dial over TCP.
        link.peers = []
        #expect(try await run(["/bin/sh", "-c", "echo '\(link.uri)' > '\(reader.shared)/.add'"], timeout: 10).status == 0)
        try await eventually("rec.bin in shared/", timeout: 60) {
            try await run(["/bin/ls", reader.shared], timeout: 10).text.contains("rec.bin")
        }
        let started = Date()
        let read = try await run(["/usr/bin/cmp", folder.path + "/rec.bin", reader.shared + "/rec.bin"], timeout: 120)
        #expect(read.status == 0, "\(read.text) \(read.errors)\n\(reader.daemonLog.suffix(3000))")
        print("memofs → memofs over WebRTC: 3 MiB read through the mount in \(String(format: "%.2f", Date().timeIntervalSince(started))) s")

        var peers = ""
        // The peer, and the tracker's count (scrape and announce replies): once the reader has
        // read it all it says `completed`, and the tracker counts two seeders.
        try await eventually("the peer in the status, over WebRTC, and the tracker's count", timeout: 10) {
            peers = try await status(reader, ["--peers"])
            return peers.contains("over webrtc from wss") && peers.contains("the WebSocket tracker counts 2 seeders and 0 leechers")
        }
        #expect(!peers.contains("from magnet"), "\(peers)")
        #expect(tracker.received.contains { $0.contains("\"answer\"") }, "the answer went through the tracker")
    }
}
