import Engine
import Foundation
import PeerHarness
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
                let bytes = try await withTimeout(20, "a random read") { try await torrent.read(file: 0, offset: offset, length: 65536) }
                #expect(bytes == Array(original[Int(offset)..<(Int(offset) + 65536)]))
            }
            // The first read's file has no piece layer yet; once it came, reads end when
            // their own blocks are verified, before their pieces are whole.
            let early = await torrent.readsFromVerifiedBlocks
            #expect(early >= 6, "only \(early) piece waits ended on verified blocks")
            // Every piece read is still verified whole (v1) and written.
            try await eventually("the pieces read to be verified whole", timeout: 10) {
                await torrent.status.verifiedPieces >= 12
            }
            let status = await torrent.status
            #expect(status.hashFailures == 0)
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
                    let bytes = try await withTimeout(20, "a random read") { try await torrent.read(file: 0, offset: offset, length: 40000) }
                    #expect(bytes == Array(original[Int(offset)..<(Int(offset) + 40000)]))
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
}
