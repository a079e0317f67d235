import Engine
import Foundation
import PeerHarness
import TestSupport
import Testing
import TorrentModel

/// The DHT (BEP 5) on loopback: memofs nodes among themselves, hostile input, and the
/// routing table kept across a restart. The tests with libtorrent are in DHTLibtorrentTests.
@Suite(.serialized) struct DHTTests {
    /// Bootstrap node N, seeder A and downloader B are three memofs sessions. A seeds a file
    /// with no tracker; B is given only `magnet:?xt=…` and finds A through N.
    @Test func aTrackerlessMagnetIsFoundThroughTheDHT() async throws {
        let folder = try TemporaryFolder()
        let content = try folder.write("a/memo.webm", count: 3 << 20, seed: 21)
        try await withSession(dhtConfiguration(folder.path + "/n")) { node in
            let bootstrap = ["127.0.0.1:\(node.dht!.port)"]
            try await withSession(dhtConfiguration(folder.path + "/a-state", bootstrap: bootstrap)) { seeder in
                let seeded = try await seeder.seed(path: folder.path + "/a/memo.webm")
                try await withSession(dhtConfiguration(folder.path + "/b", bootstrap: bootstrap)) { downloader in
                    let magnet = MagnetLink(infoHash: seeded.infoHash)
                    #expect(magnet.trackers.isEmpty && magnet.peers.isEmpty)
                    let torrent = try await downloader.add(magnet: magnet, downloadWhole: true)
                    try await withTimeout(60, "the download through the DHT") { try await torrent.waitUntilComplete() }
                    let info = try #require(await torrent.torrentInfo)
                    let bytes = try Data(contentsOf: URL(fileURLWithPath: torrent.root + "/" + info.files[0].path.joined(separator: "/")))
                    #expect(Array(bytes) == content)
                    // Nothing but the DHT could bring them together; whichever found the other
                    // there first dialled, and the other knows it as an incoming peer.
                    let found = await torrent.status.peersLearned["dht", default: 0]
                        + seeded.status.peersLearned["dht", default: 0]
                    #expect(found >= 1)
                    #expect(Set(await torrent.status.peersLearned.keys).isSubset(of: ["dht", "incoming"]))
                    #expect(downloader.dht!.nodeCount >= 1)
                }
            }
            // N stored A's announce.
            let statistics = await node.dht!.statistics()
            #expect(statistics.announcedPeers >= 1)
        }
    }

    /// A node restarted with the same data folder keeps its id and rejoins through the nodes
    /// it saved, with no bootstrap node configured.
    @Test func theRoutingTableSurvivesARestart() async throws {
        let folder = try TemporaryFolder()
        try await withSession(dhtConfiguration(folder.path + "/n")) { node in
            let bootstrap = ["127.0.0.1:\(node.dht!.port)"]
            let firstID = try await withSession(dhtConfiguration(folder.path + "/b", bootstrap: bootstrap)) { session in
                try await withTimeout(20, "joining") {
                    while session.dht!.nodeCount == 0 { try await Task.sleep(for: .milliseconds(50)) }
                }
                return session.dht!.ownID
            }
            try await withSession(dhtConfiguration(folder.path + "/b")) { session in
                #expect(session.dht!.ownID == firstID)
                try await withTimeout(20, "rejoining through the saved nodes") {
                    while session.dht!.nodeCount == 0 { try await Task.sleep(for: .milliseconds(50)) }
                }
                #expect(session.dht!.nodeCount == 1)
            }
        }
    }

    /// A seeder whose bootstrap node did not answer backs off for minutes; when a node then
    /// reaches it (here B, bootstrapping through the seeder), the seeder announces at once.
    /// Before, it waited out its backoff, and a magnet added while the DHT was still joining
    /// found nothing for two minutes.
    @Test func aTorrentAnnouncesAsSoonAsTheDHTGainsANode() async throws {
        let folder = try TemporaryFolder()
        _ = try folder.write("a/memo.webm", count: 1 << 20, seed: 22)
        // Nothing listens on port 1: the bootstrap finds the DHT empty.
        try await withSession(dhtConfiguration(folder.path + "/a-state", bootstrap: ["127.0.0.1:1"])) { seeder in
            _ = try await seeder.seed(path: folder.path + "/a/memo.webm")
            try await withTimeout(30, "the first bootstrap to give up") {
                while !seeder.dht!.bootstrapped { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(seeder.dht!.nodeCount == 0)
            // The torrent's announce found nobody, and its retry a few seconds later found the
            // DHT alone: its next try is two minutes away.
            try await Task.sleep(for: .seconds(8))
            try await withSession(dhtConfiguration(folder.path + "/b", bootstrap: ["127.0.0.1:\(seeder.dht!.port)"])) { node in
                try await withTimeout(30, "the seeder's announce to the node that joined") {
                    while await node.dht!.statistics().announcedPeers == 0 { try await Task.sleep(for: .milliseconds(100)) }
                }
                #expect(seeder.dht!.nodeCount >= 1)
            }
        }
    }

    /// Truncated datagrams, wrong types, huge lists, forged transaction ids, unknown methods,
    /// bad tokens and a flood of queries: the node answers a ping afterwards, answers unknown
    /// methods with 204, and everything it holds stays within its bounds.
    @Test func hostileKRPCInputNeverCrashesOrGrowsTheNode() async throws {
        let folder = try TemporaryFolder()
        try await withSession(dhtConfiguration(folder.path + "/n")) { session in
            let dht = session.dht!
            let result = try await run(["/usr/bin/python3", supportFolder + "/hostile_dht.py", "127.0.0.1", "\(dht.port)"], timeout: 90)
            let report = try #require(try JSONSerialization.jsonObject(with: result.output) as? [String: Any], "\(result.text)")
            #expect(report["ping_answered"] as? Bool == true)
            #expect((report["errors"] as? [String: Int])?["204"] == 1)
            // The flood was cut to the per-host burst, not answered 3000 times.
            #expect((report["replies"] as? Int ?? .max) < 200)
            let statistics = await dht.statistics()
            // 2000 forged responses and 2000 random datagrams: refused, or dropped from a full queue.
            #expect(statistics.droppedDatagrams > 3900)
            #expect(statistics.nodes == 0)  // none of the forged nodes or unanswering queriers got in
            #expect(statistics.announcedPeers == 0)
            #expect(statistics.pendingQueries <= 16)
            #expect(statistics.rateLimitedHosts <= 1)
        }
    }
}
