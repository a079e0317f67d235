import Engine
import Foundation
import PeerHarness
import TestSupport
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

        try await withSession(testConfiguration(folder.path + "/memofs")) { session in
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
        }
    }
}

@Suite(.serialized) struct TrackerSwarmTests {
    /// libtorrent seeds and announces to opentracker; memofs is given a magnet whose only
    /// source of peers is the tracker (HTTP, then UDP).
    @Test(arguments: ["http", "udp"])
    func downloadsFromATrackerOnlyMagnet(scheme: String) async throws {
        let folder = try TemporaryFolder()
        let files = [("album/one.webm", 700_000), ("album/two.ogg", 123_457), ("album/notes/empty.txt", 0)]
        for (index, (path, size)) in files.enumerated() { try folder.write("seed/" + path, count: size, seed: UInt64(20 + index)) }
        // The whitelist needs the info hash before the torrent names the tracker port, so
        // make the torrent twice: once to learn the hash (trackers are outside the info dict).
        let probe = try TorrentCreator.createBlocking(from: folder.path + "/seed/album")
        let tracker = try await Opentracker(infoHashes: [probe.infoHash])
        defer { tracker.stop() }
        let url = scheme == "http" ? tracker.httpURL : tracker.udpURL
        let metainfo = try TorrentCreator.createBlocking(from: folder.path + "/seed/album",
                                                         options: .init(trackers: [[tracker.httpURL]]))
        #expect(metainfo.infoHash == probe.infoHash)
        let torrentPath = folder.path + "/album.torrent"
        try Data(metainfo.encoded()).write(to: URL(fileURLWithPath: torrentPath))
        let (seeder, _) = try await startLibtorrent("seed", torrent: torrentPath, folder: folder.path + "/seed")
        defer { seeder.stop() }

        try await withSession(testConfiguration(folder.path + "/memofs")) { session in
            let magnet = try MagnetLink(parsing: "magnet:?xt=urn:btih:\(metainfo.infoHash.hex)&tr=\(url)")
            let torrent = try await session.add(magnet: magnet, downloadWhole: true)
            try await withTimeout(90, "the download through the \(scheme) tracker") { try await torrent.waitUntilComplete() }
            let root = folder.path + "/memofs/torrents/\(metainfo.infoHash.hex)"
            for (path, _) in files {
                #expect(try sha1(ofFile: root + "/" + path) == sha1(ofFile: folder.path + "/seed/" + path), "\(path)")
            }
        }
    }

    /// memofs seeds a recording; libtorrent downloads it from the magnet memofs made, and so
    /// does aria2 (which finds memofs through the tracker, since it ignores x.pe).
    @Test func libtorrentAndAria2DownloadWhatMemofsSeeds() async throws {
        let folder = try TemporaryFolder()
        try folder.write("local/memo.webm", count: 900_000, seed: 4)
        let probe = try TorrentCreator.createBlocking(from: folder.path + "/local/memo.webm")
        let tracker = try await Opentracker(infoHashes: [probe.infoHash])
        defer { tracker.stop() }

        var configuration = testConfiguration(folder.path + "/memofs", trackers: [tracker.httpURL])
        configuration.listenHost = "127.0.0.1"
        try await withSession(configuration) { session in
            let torrent = try await session.seed(path: folder.path + "/local/memo.webm",
                                                 options: .init(trackers: [[tracker.httpURL]]))
            #expect(torrent.infoHash == probe.infoHash)
            var magnet = torrent.magnetLink
            magnet.peers = [PeerAddress("127.0.0.1:\(session.listenPort)")!]

            let (leecher, _) = try await startLibtorrent("download", magnet: magnet.uri, folder: folder.path + "/lt")
            defer { leecher.stop() }
            _ = try await leecher.waitForEvent("done", timeout: 60)
            #expect(try sha1(ofFile: folder.path + "/lt/memo.webm") == sha1(ofFile: folder.path + "/local/memo.webm"))

            let aria = try ChildProcess("/usr/bin/aria2c", [
                "--dir", folder.path + "/aria", "--seed-time=0", "--enable-dht=false", "--enable-dht6=false",
                "--bt-enable-lpd=false", "--enable-peer-exchange=false", "--listen-port=51000-51099",
                "--bt-stop-timeout=60", "--summary-interval=0", "--console-log-level=warn", "--check-certificate=false",
                magnet.uri,
            ], label: "aria2c")
            defer { aria.stop() }
            let deadline = Date().addingTimeInterval(90)
            while aria.process.isRunning && Date() < deadline { try await Task.sleep(for: .milliseconds(200)) }
            #expect(!aria.process.isRunning, "aria2c did not finish: \(aria.errorOutput.suffix(500))")
            #expect(try sha1(ofFile: folder.path + "/aria/memo.webm") == sha1(ofFile: folder.path + "/local/memo.webm"))
        }
    }
}
