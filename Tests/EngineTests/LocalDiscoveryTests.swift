import Discovery
import Engine
import Foundation
import PeerHarness
import TestSupport
import Testing
import TorrentModel

/// Local peer discovery (BEP 14): two memofs instances in two network namespaces joined by
/// a veth pair find each other by multicast, with no tracker and no DHT. The namespaces
/// are the test's own, so the multicast never reaches a real network.
@Suite(.serialized) struct LocalDiscoveryTests {
    @Test func twoInstancesOnOneLANFindEachOther() async throws {
        let folder = try TemporaryFolder()
        let content = try folder.write("a/memo.webm", count: 2 << 20, seed: 41)
        let metainfo = try TorrentCreator.createBlocking(from: folder.path + "/a/memo.webm")
        let namespaces = try VethNamespaces()
        defer { namespaces.remove() }

        let seeder = try ChildProcess(command: namespaces.command(0, [memofsExecutable, "seed", folder.path + "/a/memo.webm",
                                                             "--data", folder.path + "/state-a", "--listen", namespaces.addresses[0],
                                                             "--port", "0", "--no-dht", "--lsd", "--json"]), label: "memofs seed (namespace a)")
        defer { seeder.stop() }
        _ = try await seeder.waitForEvent("ready", timeout: 30)

        let magnet = "magnet:?xt=urn:btih:\(metainfo.infoHash.hex)"
        let downloader = try ChildProcess(command: namespaces.command(1, [memofsExecutable, "download", magnet,
                                                                 "--data", folder.path + "/state-b", "--listen", namespaces.addresses[1],
                                                                 "--port", "0", "--no-dht", "--lsd", "--json"]),
                                          label: "memofs download (namespace b)")
        defer { downloader.stop() }
        _ = try await downloader.waitForEvent("done", timeout: 90)
        let downloaded = try Data(contentsOf: URL(fileURLWithPath: folder.path + "/state-b/torrents/\(metainfo.infoHash.hex)/memo.webm"))
        #expect(Array(downloaded) == content)
        // One found the other through LSD (whichever heard the other's announce first dials;
        // the other then knows it as an incoming peer), and neither through anything else.
        let learned = { (process: ChildProcess) -> [String: Int] in
            process.allLines.compactMap { line in
                (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["peers_learned"] as? [String: Int]
            }.last ?? [:]
        }
        try await eventually("a peer found through LSD", timeout: 10) {
            learned(downloader)["lsd", default: 0] + learned(seeder)["lsd", default: 0] >= 1
        }
        for process in [seeder, downloader] {
            #expect(Set(learned(process).keys).isSubset(of: ["lsd", "incoming"]), "\(process.label): \(learned(process))")
        }
    }
}

/// The BEP 14 message and schedule, without sockets.
@Suite struct LocalDiscoveryMessageTests {
    let hashes = (1...30).map { index in InfoHash(bytes: Array(repeating: UInt8(index), count: 20))! }

    @Test func announcesRoundTripAndMatchTheBEP() throws {
        let message = LocalDiscoveryMessage(port: 6881, infoHashes: Array(hashes.prefix(2)), cookie: "abc")
        let text = String(decoding: message.encoded(), as: UTF8.self)
        #expect(text == "BT-SEARCH * HTTP/1.1\r\nHost: 239.192.152.143:6771\r\nPort: 6881\r\n"
                + "Infohash: \(hashes[0].hex)\r\nInfohash: \(hashes[1].hex)\r\ncookie: abc\r\n\r\n\r\n")
        #expect(try LocalDiscoveryMessage(decoding: message.encoded()) == message)
        // What libtorrent sends: upper-case hex, no cookie, an unknown header, bare LFs.
        let foreign = "BT-SEARCH * HTTP/1.1\nHost: 239.192.152.143:6771\nPort: 51413\nX-Extra: 1\nInfohash: \(hashes[2].hex.uppercased())\n\n\n"
        let decoded = try LocalDiscoveryMessage(decoding: Array(foreign.utf8))
        #expect(decoded.port == 51413 && decoded.infoHashes == [hashes[2]] && decoded.cookie == nil)
        // One datagram carries at most 25 hashes and stays under 1400 bytes.
        let full = LocalDiscoveryMessage(port: 1, infoHashes: hashes, cookie: "c").encoded()
        #expect(full.count <= LocalDiscoveryMessage.maxDatagramSize)
        #expect(try LocalDiscoveryMessage(decoding: full).infoHashes.count == 25)
    }

    @Test func badAnnouncesAreRefusedWithAReason() {
        func refused(_ text: String) -> LocalDiscoveryError? {
            do { _ = try LocalDiscoveryMessage(decoding: Array(text.utf8)); return nil } catch { return error }
        }
        let hex = hashes[0].hex
        #expect(refused("GET / HTTP/1.1\r\n\r\n") == .notAnAnnounce)
        #expect(refused("BT-SEARCH * HTTP/1.1\r\nInfohash: \(hex)\r\n\r\n") == .missingPort)
        #expect(refused("BT-SEARCH * HTTP/1.1\r\nPort: 1\r\n\r\n") == .missingInfoHash)
        #expect(refused("BT-SEARCH * HTTP/1.1\r\nPort: 0\r\nInfohash: \(hex)\r\n\r\n") == .invalidPort("0"))
        #expect(refused("BT-SEARCH * HTTP/1.1\r\nPort: 99999\r\nInfohash: \(hex)\r\n\r\n") == .invalidPort("99999"))
        #expect(refused("BT-SEARCH * HTTP/1.1\r\nPort: 1\r\nInfohash: xyz\r\n\r\n") == .invalidInfoHash("xyz"))
        #expect(refused("BT-SEARCH * HTTP/1.1\r\nPort 1\r\n\r\n") == .malformedHeader("Port 1"))
        #expect(refused(String(repeating: "x", count: 2000)) == .tooLarge(2000))
        #expect((try? LocalDiscoveryMessage(decoding: [0xff, 0xfe])) == nil)
        var many = "BT-SEARCH * HTTP/1.1\r\nPort: 1\r\n"
        for hash in hashes.prefix(26) { many += "Infohash: \(hash.hex)\r\n" }
        #expect(refused(many + "\r\n") == .tooManyInfoHashes || refused(many + "\r\n") == .tooLarge(many.utf8.count + 2))
    }

    @Test func theScheduleSendsAtMostOnceAMinuteAndEachTorrentEveryFiveMinutes() {
        var schedule = LocalDiscoverySchedule()
        let start = ContinuousClock.now
        #expect(schedule.due(active: [], now: start).isEmpty)
        #expect(schedule.due(active: Array(hashes.prefix(3)), now: start) == Array(hashes.prefix(3)))
        // A new torrent waits for the minute to pass.
        #expect(schedule.due(active: Array(hashes.prefix(4)), now: start + .seconds(30)).isEmpty)
        #expect(schedule.due(active: Array(hashes.prefix(4)), now: start + .seconds(60)) == [hashes[3]])
        // Nothing more until five minutes after the first three.
        #expect(schedule.due(active: Array(hashes.prefix(4)), now: start + .seconds(200)).isEmpty)
        #expect(schedule.due(active: Array(hashes.prefix(4)), now: start + .seconds(300)) == Array(hashes.prefix(3)))
        // More than 25 due: the rest go a minute later.
        var big = LocalDiscoverySchedule()
        #expect(big.due(active: hashes, now: start).count == 25)
        #expect(big.due(active: hashes, now: start + .seconds(60)) == Array(hashes.suffix(5)))
    }
}
