import Foundation
import PeerHarness
import TestSupport
import Testing
import TorrentModel

/// Reads under load are served in the order they came, across readers: with one seeder
/// throttled to 2 MB/s and 40 reads of 64 KiB started at once, each in its own piece, the
/// seeder needs about 5 s for them all. Served in deadline order the latencies spread
/// evenly over that time and the longest waits about twice the median (measured 1.9 to
/// 2.4× with 200 and 1,000 readers by `memofs-bench readers`); a read put behind the others
/// (re-asked at the back of the seeder's queue, say) shows as a far longer wait. The bound
/// is 3.5× the median: a ratio, so a slow machine does not fail it.
@Suite(.serialized) struct FairReadsTests {
    @Test func concurrentReadsOfAThrottledSeederWaitAboutAlike() async throws {
        let folder = try TemporaryFolder()
        let seeded = try await seedWithLibtorrent(folder, name: "load.bin", count: 64 << 20, seed: 51, pieceLength: 256 << 10,
                                                  extra: ["--upload-limit", "2000000"])
        defer { seeded.seeder.stop() }
        let mount = try await MountedMemofs(mountpoint: folder.path + "/mnt", dataFolder: folder.path + "/data", extra: ["--no-dht"])
        defer { mount.stop() }
        let added = try await run(["/bin/sh", "-c", "printf '%s\\n' \"$1\" > \"$2\"", "sh", seeded.magnet.uri, mount.shared + "/.add"],
                                  timeout: 10)
        #expect(added.status == 0, "\(added.errors)")
        try await eventually("load.bin in shared/") { FileManager.default.fileExists(atPath: mount.shared + "/load.bin") }

        // Offsets 256 KiB apart at least (--size 262144 picks whole-piece slots), 64 KiB each.
        let result = try await run(["/usr/bin/python3", supportFolder + "/read_timer.py", mount.shared + "/load.bin",
                                    "--concurrent", "--count", "40", "--size", "262144", "--read", "65536"], timeout: 120)
        let json = try #require(try JSONSerialization.jsonObject(with: result.output) as? [String: Any], "\(result.errors)")
        let latencies = (json["latencies"] as? [Double] ?? []).sorted()
        #expect((json["errors"] as? [String] ?? []).isEmpty, "\(json)")
        try #require(latencies.count == 40, "\(json)")
        let median = latencies[20], longest = latencies.last!
        #expect(longest <= 3.5 * median, "median \(median) s, longest \(longest) s: \(latencies)")
    }
}
