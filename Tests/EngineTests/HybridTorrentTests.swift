import Engine
import Foundation
import PeerHarness
import TestSupport
import Testing
import TorrentModel

/// Hybrid v1+v2 torrents (BEP 52), as libtorrent makes by default, from a real libtorrent
/// seeder: a read waits only for its own 16 KiB blocks, each checked against the file's
/// merkle tree, and gets exactly the original bytes.
@Suite(.serialized) struct HybridTorrentTests {
    @Test func readsWaitOnlyForTheirOwnVerifiedBlocks() async throws {
        let folder = try TemporaryFolder()
        let size = 16 << 20
        let (original, metainfo, seeder, magnet) = try await seedHybridWithLibtorrent(folder, name: "memo.webm", count: size, seed: 31,
                                                                                       pieceLength: 256 << 10)
        defer { seeder.stop() }
        #expect(metainfo.info.v2InfoHash != nil)
        #expect(magnet.uri.contains("xt=urn:btmh:1220"))

        try await withSession(testConfiguration(folder.path + "/memofs")) { session in
            let torrent = try await session.add(magnet: magnet)
            // Offsets spread over the file, none on a block boundary.
            for step in 0..<12 {
                let offset = Int64((step * 1_337_777 + 12_345) % (size - 65536))
                try await expectRead(torrent, original, at: offset, length: 65536)
            }
            // Reads end when their own blocks are verified, before their pieces are whole
            // (the first one too: the file's piece layer is asked for with its blocks).
            let early = await torrent.readsFromVerifiedBlocks
            #expect(early >= 10, "only \(early) piece waits ended on verified blocks")
            // Every piece read is still verified whole (v1) and written.
            try await eventually("the pieces read to be verified whole", timeout: 10) {
                await torrent.status.verifiedPieces >= 12
            }
            let status = await torrent.status
            #expect(status.hashFailures == 0)
            #expect(await torrent.bannedPeerHosts.isEmpty)
        }
    }

    /// Seeks during a background download of the whole torrent: each one cancels the
    /// requests queued at the seeder for pieces nobody waits for, and the seeder answers
    /// every cancel with a reject (BEP 6). Those rejects are not refusals: the seeder stays,
    /// the reads are exact and the download completes.
    @Test func seeksDuringADownloadKeepTheSeeder() async throws {
        let folder = try TemporaryFolder()
        let size = 96 << 20
        let (original, _, seeder, magnet) = try await seedHybridWithLibtorrent(folder, name: "long.webm", count: size, seed: 90,
                                                                                pieceLength: 256 << 10)
        defer { seeder.stop() }
        try await withSession(testConfiguration(folder.path + "/memofs")) { session in
            let torrent = try await session.add(magnet: magnet, downloadWhole: true)
            _ = try await withTimeout(20, "the first read") { try await torrent.read(file: 0, offset: 0, length: 1000) }
            for step in 0..<16 {
                let offset = Int64((step * 5_876_543 + 4321) % (size - 65536))
                try await expectRead(torrent, original, at: offset, length: 65536)
                #expect(await torrent.status.peers == 1, "the seeder was dropped after seek \(step)")
            }
            try await withTimeout(60, "the download") { try await torrent.waitUntilComplete() }
            #expect(await torrent.bannedPeerHosts.isEmpty)
        }
    }

    /// A peer that refuses hash requests (memofs itself: it keeps no merkle trees) leaves
    /// reads to wait for whole pieces: they still get the right bytes, and the peer stays.
    @Test func aPeerThatRefusesHashesServesWholePieces() async throws {
        let folder = try TemporaryFolder()
        let size = 4 << 20
        let (original, _, seeder, magnet) = try await seedHybridWithLibtorrent(folder, name: "talk.ogg", count: size, seed: 12,
                                                                                pieceLength: 64 << 10)
        var first = testConfiguration(folder.path + "/memofs-a")
        first.listenHost = "127.0.0.1"
        try await withSession(first) { seeding in
            let copy = try await seeding.add(magnet: magnet, downloadWhole: true)
            try await withTimeout(30, "the first download") { try await copy.waitUntilComplete() }
            seeder.stop()
            var fromMemofs = magnet
            fromMemofs.peers = [PeerAddress("127.0.0.1:\(seeding.listenPort)")!]

            try await withSession(testConfiguration(folder.path + "/memofs-b")) { session in
                let torrent = try await session.add(magnet: fromMemofs)
                for step in 0..<6 {
                    let offset = Int64((step * 654_321 + 999) % (size - 40000))
                    try await expectRead(torrent, original, at: offset, length: 40000)
                }
                #expect(await torrent.readsFromVerifiedBlocks == 0)
                #expect(await torrent.bannedPeerHosts.isEmpty)
                #expect(await torrent.status.peers == 1)
            }
        }
    }

    /// memofs seeds a hybrid torrent it downloaded to a libtorrent that has only the magnet
    /// link: libtorrent speaks v2 to it and asks it for hashes, which memofs refuses (it
    /// keeps no merkle trees); libtorrent still completes, with the v1 hashes.
    @Test func libtorrentDownloadsAHybridTorrentFromMemofs() async throws {
        let folder = try TemporaryFolder()
        let (original, _, seeder, magnet) = try await seedHybridWithLibtorrent(folder, name: "memo.webm", count: 3_000_000, seed: 21,
                                                                                pieceLength: 64 << 10)
        var configuration = testConfiguration(folder.path + "/memofs")
        configuration.listenHost = "127.0.0.1"
        try await withSession(configuration) { session in
            let torrent = try await session.add(magnet: magnet, downloadWhole: true)
            try await withTimeout(30, "memofs's download") { try await torrent.waitUntilComplete() }
            seeder.stop()

            var fromMemofs = torrent.magnetLink
            fromMemofs.peers = [PeerAddress("127.0.0.1:\(session.listenPort)")!]
            #expect(fromMemofs.v2InfoHash != nil)
            let (leecher, _) = try await startLibtorrent("download", magnet: fromMemofs.uri, folder: folder.path + "/lt")
            defer { leecher.stop() }
            _ = try await leecher.waitForEvent("done", timeout: 60)
            let copy = try Data(contentsOf: URL(fileURLWithPath: folder.path + "/lt/memo.webm"))
            #expect(Array(copy) == original)
        }
    }

    /// Hostile v2 peers. One answers hash requests with forged hashes: it is banned, and no
    /// block is checked against them. One sends the true hashes but forged blocks: they
    /// fail their leaf hashes and reach no reader, their pieces fail the v1 check, and it
    /// is banned. The reads get the right bytes once an honest peer comes.
    @Test func forgedHashesAndBlocksNeverReachAReader() async throws {
        let folder = try TemporaryFolder()
        let (original, metainfo, seeder, honest) = try await seedHybridWithLibtorrent(folder, name: "talk.opus", count: 2 << 20, seed: 68,
                                                                                       pieceLength: 64 << 10)
        defer { seeder.stop() }
        var hostile: [ChildProcess] = []
        defer { hostile.forEach { $0.stop() } }
        var addresses: [PeerAddress] = []
        for (host, mode) in [("127.0.0.3", "bad-hashes"), ("127.0.0.4", "corrupt-v2")] {
            let child = try ChildProcess("/usr/bin/python3", [supportFolder + "/hostile_peer.py", "--torrent", folder.path + "/talk.opus.torrent",
                                                             "--mode", mode, "--listen", "\(host):0", "--content", folder.path + "/seed/talk.opus"],
                                         label: "hostile \(mode)")
            hostile.append(child)
            let ready = try await child.waitForEvent("ready", timeout: 30)
            addresses.append(PeerAddress("\(host):\(ready["port"] as? Int ?? 0)")!)
        }

        // Forged hashes: the peer is banned for them.
        try await withSession(testConfiguration(folder.path + "/memofs-a")) { session in
            let torrent = try await session.add(metainfo: metainfo, downloadWhole: false, peers: [addresses[0]])
            try await eventually("the first hostile peer to connect", timeout: 10) { await torrent.status.peers == 1 }
            try await Task.sleep(for: .milliseconds(300))  // its bitfield
            let read = Task { try await torrent.read(file: 0, offset: 300_000, length: 50_000) }
            defer { read.cancel() }
            try await withTimeout(30, "banning the peer with forged hashes") {
                while await !torrent.bannedPeerHosts.contains("127.0.0.3") { try await Task.sleep(for: .milliseconds(50)) }
            }
            let reason = await torrent.lastError ?? ""
            #expect(reason.contains("hashes of talk.opus that do not lead to its root"), "\(reason)")
            #expect(await torrent.readsFromVerifiedBlocks == 0)
            await torrent.addPeers(honest.peers)
            let bytes = try await withTimeout(30, "the read") { try await read.value }
            #expect(bytes == Array(original[300_000..<350_000]))
        }
        // True hashes, forged blocks: no block passes, and the peer is banned for its pieces.
        try await withSession(testConfiguration(folder.path + "/memofs-b")) { session in
            let torrent = try await session.add(metainfo: metainfo, downloadWhole: false, peers: [addresses[1]])
            try await eventually("the second hostile peer to connect", timeout: 10) { await torrent.status.peers == 1 }
            try await Task.sleep(for: .milliseconds(300))
            let read = Task { try await torrent.read(file: 0, offset: 1_500_000, length: 50_000) }
            defer { read.cancel() }
            try await withTimeout(30, "banning the peer with forged blocks") {
                while await !torrent.bannedPeerHosts.contains("127.0.0.4") { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(await torrent.status.hashFailures >= 2)
            #expect(await torrent.readsFromVerifiedBlocks == 0)
            #expect(await torrent.verifiedPieceCount == 0)
            await torrent.addPeers(honest.peers)
            let bytes = try await withTimeout(30, "the read") { try await read.value }
            #expect(bytes == Array(original[1_500_000..<1_550_000]))
        }
    }
}

/// Reads `length` bytes of file 0 at `offset` (within 20 s) and checks them against the original.
private func expectRead(_ torrent: Torrent, _ original: [UInt8], at offset: Int64, length: Int) async throws {
    let bytes = try await withTimeout(20, "a read at \(offset)") { try await torrent.read(file: 0, offset: offset, length: length) }
    #expect(bytes == Array(original[Int(offset)..<(Int(offset) + length)]), "at \(offset)")
}
