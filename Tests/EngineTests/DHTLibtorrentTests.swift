import Engine
import Foundation
import PeerHarness
import TestSupport
import Testing
import TorrentModel

/// memofs and libtorrent find each other through a small DHT on loopback, both ways,
/// through a real mount. The DHT's bootstrap node is a memofs session; nothing is told
/// anyone's address but that node's.
@Suite(.serialized) struct DHTLibtorrentTests {
    /// libtorrent seeds a torrent with no tracker and announces it into the DHT; a mounted
    /// memofs given only `magnet:?xt=…` finds it there and reads the file, bytes checked.
    @Test func memofsFindsALibtorrentSeederThroughTheDHT() async throws {
        let folder = try TemporaryFolder()
        let content = try folder.write("seed/talk.bin", count: 5 << 20, seed: 31)
        let metainfo = try TorrentCreator.createBlocking(from: folder.path + "/seed/talk.bin")
        #expect(metainfo.trackerTiers.isEmpty)
        try Data(metainfo.encoded()).write(to: URL(fileURLWithPath: folder.path + "/talk.torrent"))

        try await withSession(dhtConfiguration(folder.path + "/node")) { node in
            let bootstrap = "127.0.0.1:\(node.dht!.port)"
            let (seeder, _) = try await startLibtorrent("seed", torrent: folder.path + "/talk.torrent", folder: folder.path + "/seed",
                                                        extra: ["--dht-bootstrap", bootstrap])
            defer { seeder.stop() }
            let mount = try await MountedMemofs(mountpoint: folder.path + "/mnt", dataFolder: folder.path + "/data",
                                                extra: ["--dht-bootstrap", bootstrap])
            defer { mount.stop() }
            let magnet = "magnet:?xt=urn:btih:\(metainfo.infoHash.hex)\n"
            #expect(try await run(["/bin/sh", "-c", "cat > '\(mount.shared)/.add'"], timeout: 10, input: Data(magnet.utf8)).status == 0)
            var read = Data()
            do {
                try await eventually("the file read through the DHT", timeout: 120) {
                    let result = try await run(["/bin/cat", mount.shared + "/talk.bin"], timeout: 60)
                    read = result.output
                    return result.status == 0 && result.output.count == content.count
                }
            } catch {
                Issue.record("memofs log: \(mount.daemonLog.suffix(3000))\nlibtorrent: \(seeder.allLines.suffix(5))")
                throw error
            }
            #expect(Array(read) == content)
            // The status report (rewritten every second) names the DHT and where the peer came from.
            try await eventually("the status report to show the DHT peer") {
                let status = try await run([memofsExecutable, "status", "--data", mount.dataFolder, "--json"], timeout: 10).output
                let report = try JSONSerialization.jsonObject(with: status) as? [String: Any]
                let item = (report?["items"] as? [[String: Any]])?.first { $0["name"] as? String == "talk.bin" }
                return report?["dht_nodes"] as? Int ?? 0 >= 1 && (item?["peers_learned"] as? [String: Int])?["dht"] ?? 0 >= 1
            }
        }
    }

    /// A recording copied into a mounted memofs is announced into the DHT; libtorrent, given
    /// only the `xt` of its magnet, finds memofs there and downloads it.
    @Test func libtorrentFindsAMemofsRecordingThroughTheDHT() async throws {
        let folder = try TemporaryFolder()
        try await makeWebM(at: folder.path + "/memo.webm")
        try await withSession(dhtConfiguration(folder.path + "/node")) { node in
            let bootstrap = "127.0.0.1:\(node.dht!.port)"
            let mount = try await MountedMemofs(mountpoint: folder.path + "/mnt", dataFolder: folder.path + "/data",
                                                extra: ["--dht-bootstrap", bootstrap])
            defer { mount.stop() }
            #expect(try await run(["/bin/cp", folder.path + "/memo.webm", mount.local + "/"], timeout: 30).status == 0)
            var sidecar = ""
            try await eventually("the sidecar") {
                let result = try await run(["/bin/cat", mount.local + "/memo.webm.magnet"], timeout: 10)
                sidecar = result.text
                return result.status == 0 && sidecar.hasPrefix("magnet:?")
            }
            let link = try MagnetLink(parsing: sidecar)
            let (leecher, _) = try await startLibtorrent("download", magnet: "magnet:?xt=urn:btih:\(link.infoHash.hex)",
                                                         folder: folder.path + "/lt", listen: "127.0.0.3:0",
                                                         extra: ["--dht-bootstrap", bootstrap])
            defer { leecher.stop() }
            _ = try await leecher.waitForEvent("done", timeout: 120)
            #expect(try await run(["/usr/bin/cmp", folder.path + "/memo.webm", folder.path + "/lt/memo.webm"], timeout: 30).status == 0)
        }
    }
}
