import Engine
import Foundation
import PeerHarness
import TestSupport
import Testing
import TorrentModel

/// Peer exchange (BEP 11) with libtorrent, both ways.
@Suite(.serialized) struct PexTests {
    func torrent(_ folder: TemporaryFolder, size: Int) throws -> (Metainfo, String) {
        try folder.write("seed/memo.webm", count: size, seed: 12)
        let metainfo = try TorrentCreator.createBlocking(from: folder.path + "/seed/memo.webm")
        let torrentPath = folder.path + "/memo.torrent"
        try Data(metainfo.encoded()).write(to: URL(fileURLWithPath: torrentPath))
        return (metainfo, torrentPath)
    }

    /// memofs is told only of seeder A; leecher B is connected to A. A's ut_pex tells memofs
    /// of B, and memofs connects to it.
    @Test func learnsAPeerFromLibtorrentThroughPex() async throws {
        let folder = try TemporaryFolder()
        let (metainfo, torrentPath) = try torrent(folder, size: 8 << 20)
        // A is throttled so that B stays a leecher for minutes (seeds drop connections to seeds).
        let (seederA, portA) = try await startLibtorrent("seed", torrent: torrentPath, folder: folder.path + "/seed",
                                                         extra: ["--upload-limit", "20000"])
        defer { seederA.stop() }
        let (leecherB, portB) = try await startLibtorrent(
            "download", magnet: "magnet:?xt=urn:btih:\(metainfo.infoHash.hex)&x.pe=127.0.0.2:\(portA)",
            folder: folder.path + "/b", listen: "127.0.0.3:0")
        defer { leecherB.stop() }

        try await withSession(testConfiguration(folder.path + "/memofs")) { session in
            let magnet = try MagnetLink(parsing: "magnet:?xt=urn:btih:\(metainfo.infoHash.hex)&x.pe=127.0.0.2:\(portA)")
            let torrent = try await session.add(magnet: magnet, downloadWhole: true)
            // A names B by the address B connected from (libtorrent dials from 127.0.0.1) and the
            // port B listens on. libtorrent builds its ut_pex message once a minute at most. Once
            // A has told both of each other, either may dial first: memofs must have learned B
            // through PEX and be connected to it.
            @Sendable func connectedToB() async -> Bool {
                let learned = await torrent.peersLearnedThroughPex.contains { $0.port == UInt16(portB) }
                let connected = await torrent.connectedPeers.contains { $0.address.port == UInt16(portB) }
                return learned && connected
            }
            try await withTimeout(150, "memofs connecting to B through PEX") {
                while await !connectedToB() { try await Task.sleep(for: .milliseconds(200)) }
            }
            #expect(await connectedToB())
        }
    }

    /// libtorrent leecher L is told only of memofs, which has none of the data but is connected
    /// to seeder A: L can finish only by learning of A from memofs's ut_pex.
    @Test func tellsLibtorrentOfAPeerThroughPex() async throws {
        let folder = try TemporaryFolder()
        let (metainfo, torrentPath) = try torrent(folder, size: 1 << 20)
        let (seederA, portA) = try await startLibtorrent("seed", torrent: torrentPath, folder: folder.path + "/seed")
        defer { seederA.stop() }

        try await withSession(testConfiguration(folder.path + "/memofs")) { session in
            // Streaming mode and no reads: memofs fetches the metadata from A and no data.
            let magnet = try MagnetLink(parsing: "magnet:?xt=urn:btih:\(metainfo.infoHash.hex)&x.pe=127.0.0.2:\(portA)")
            let torrent = try await session.add(magnet: magnet)
            _ = try await withTimeout(30, "the metadata") { try await torrent.waitForMetadata() }
            #expect(await torrent.verifiedPieceCount == 0)
            // What memofs tells L is whom it is connected to: A, before L comes.
            try await withTimeout(30, "memofs connected to A") {
                while await !torrent.connectedPeers.contains(where: { $0.address.port == UInt16(portA) }) {
                    try await Task.sleep(for: .milliseconds(100))
                }
            }

            let (leecher, _) = try await startLibtorrent(
                "download", magnet: "magnet:?xt=urn:btih:\(metainfo.infoHash.hex)&x.pe=127.0.0.1:\(session.listenPort)",
                folder: folder.path + "/l", listen: "127.0.0.4:0")
            defer { leecher.stop() }
            do {
                // BEP 11 allows a message a minute: a connection to A lost and made again
                // reaches L up to a minute later.
                _ = try await leecher.waitForEvent("done", timeout: 120)
            } catch {
                let peers = await torrent.connectedPeers.map { "\($0.address) (\($0.source))" }
                let history = await torrent.peerHistory.map { "\($0.key) (\($0.value))" }
                Issue.record("memofs is connected to \(peers), was connected to \(history)")
                throw error
            }
            #expect(try sha1(ofFile: folder.path + "/l/memo.webm") == sha1(ofFile: folder.path + "/seed/memo.webm"))
            #expect(await torrent.verifiedPieceCount == 0)
        }
    }

    @Test func privateTorrentsDoNotExchangePeers() async throws {
        let folder = try TemporaryFolder()
        try folder.write("seed/private.ogg", count: 100_000, seed: 1)
        let metainfo = try TorrentCreator.createBlocking(from: folder.path + "/seed/private.ogg", options: .init(isPrivate: true))
        let session = try await Session.start(configuration: testConfiguration(folder.path + "/memofs"))
        let torrent = try await session.add(metainfo: metainfo)
        #expect(await torrent.pexAllowedForTesting == false)
        await session.shutdown()
    }
}
