import Engine
import Foundation
import Testing
import TorrentModel

/// memofs against a real libtorrent peer over loopback.
@Suite(.serialized) struct LibtorrentSwarmTests {
    /// libtorrent seeds a multi-file torrent; memofs gets only a magnet with `x.pe`,
    /// fetches the metadata from the peer, downloads, and every file matches.
    @Test func downloadsFromAMagnetWithOnlyAPeerAddress() async throws {
        let folder = try TemporaryFolder()
        let files = [("show/intro.webm", 300_000), ("show/empty", 0), ("show/part two.ogg", 1_234_567), ("show/z/end.opus", 77)]
        for (index, (path, size)) in files.enumerated() { try folder.write("seed/" + path, count: size, seed: UInt64(index + 1)) }
        let metainfo = try TorrentCreator.createBlocking(from: folder.path + "/seed/show", options: .init(pieceLength: 32768))
        let torrentPath = folder.path + "/show.torrent"
        try Data(metainfo.encoded()).write(to: URL(fileURLWithPath: torrentPath))
        let (seeder, port) = try await startLibtorrent("seed", torrent: torrentPath, folder: folder.path + "/seed")
        defer { seeder.stop() }

        let session = try await Session.start(configuration: testConfiguration(folder.path + "/memofs"))
        do {
            var magnet = MagnetLink(infoHash: metainfo.infoHash)
            magnet.peers = [PeerAddress("127.0.0.2:\(port)")!]
            let torrent = try await session.add(magnet: magnet, downloadWhole: true)
            try await withTimeout(60, "the download") { try await torrent.waitUntilComplete() }
            let root = folder.path + "/memofs/torrents/" + metainfo.infoHash.hex
            for (path, _) in files {
                #expect(try sha1(ofFile: root + "/" + path) == sha1(ofFile: folder.path + "/seed/" + path), "\(path)")
            }
            let status = await torrent.status
            #expect(status.hashFailures == 0)
            #expect(status.progress == 1)
        } catch {
            await session.shutdown()
            throw error
        }
        await session.shutdown()
    }
}
