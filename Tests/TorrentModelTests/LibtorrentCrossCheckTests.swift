import Foundation
import TestSupport
import Testing
@testable import TorrentModel

/// memofs against Debian's libtorrent: the same files must give the same torrents,
/// and what memofs writes must load in libtorrent unchanged.
@Suite struct LibtorrentCrossCheckTests {
    @Test func choosesTheSamePieceLengthAsLibtorrent() throws {
        var sizes: [Int64] = [1, 1000, 1 << 20, 5 << 20, 100 << 20, 1 << 30, 10 << 30, 50 << 30, 1 << 40]
        var bound: Int64 = 1 << 28
        for _ in 0..<10 {
            let threshold = (bound + 50) / 100
            sizes += [threshold - 1, threshold, threshold + 1]
            bound <<= 2
        }
        let answer = try Libtorrent.run("piece-sizes", try Libtorrent.json(sizes))
        let expected = try #require(answer["piece_lengths"] as? [Int])
        #expect(sizes.map { PieceLength.automatic(forTotalLength: $0) } == expected)
    }

    @Test(arguments: [1, 16383, 16384, 16385, 3 * 32768 + 7, 2_684_356, 5_000_000])
    func singleFileTorrentsMatch(size: Int) throws {
        let folder = try TemporaryFolder()
        try folder.write("rec.webm", count: size, seed: UInt64(size))
        let torrentPath = folder.path + "/lt.torrent"
        let lt = try Libtorrent.run("make", try Libtorrent.json([
            "root": folder.path, "files": ["rec.webm"], "out": torrentPath,
        ] as [String: Any]))

        let made = try TorrentCreator.createBlocking(from: folder.path + "/rec.webm")
        #expect(made.infoHash.hex == lt["info_hash"] as? String)
        #expect(made.info.pieceLength == lt["piece_length"] as? Int)
        #expect(made.info.pieceHashes.map(\.hex) == lt["pieces"] as? [String])

        let parsed = try Metainfo(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: torrentPath))))
        #expect(parsed.infoHash.hex == lt["info_hash"] as? String)
        #expect(parsed.info.pieceHashes.map(\.hex) == lt["pieces"] as? [String])
        #expect(parsed.info.totalLength == Int64(size))
    }

    /// A folder with an empty file, a non-ASCII name, nested folders and sizes that end mid-piece.
    @Test func multiFileTorrentsMatch() throws {
        let folder = try TemporaryFolder()
        let root = "Mémos 🎙"
        // Listed in memofs's order: by path, as raw bytes ("z" sorts before "ü").
        let files = [("a.webm", 100_000), ("empty", 0), ("sub/z/deep.opus", 1), ("sub/ünïcødé.ogg", 70_001), ("z.bin", 33_000)]
        for (index, (path, size)) in files.enumerated() {
            try folder.write(root + "/" + path, count: size, seed: UInt64(index + 10))
        }
        let torrentPath = folder.path + "/lt.torrent"
        let lt = try Libtorrent.run("make", try Libtorrent.json([
            "root": folder.path, "files": files.map { root + "/" + $0.0 }, "out": torrentPath, "piece_size": 32768,
        ] as [String: Any]))

        let made = try TorrentCreator.createBlocking(from: folder.path + "/" + root,
                                                     options: .init(pieceLength: 32768))
        #expect(made.info.files.map(\.pathString) == files.map { root + "/" + $0.0 })
        #expect(made.infoHash.hex == lt["info_hash"] as? String)
        #expect(made.info.pieceHashes.map(\.hex) == lt["pieces"] as? [String])

        let parsed = try Metainfo(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: torrentPath))))
        #expect(parsed.infoHash == made.infoHash)
        let ltFiles = try #require(lt["files"] as? [[String: Any]])
        #expect(parsed.info.files.map(\.pathString) == ltFiles.map { $0["path"] as? String })
        #expect(parsed.info.files.map(\.length) == ltFiles.map { ($0["size"] as? Int).map(Int64.init) })
    }

    @Test func libtorrentLoadsWhatMemofsCreates() throws {
        let folder = try TemporaryFolder()
        try folder.write("show/one.webm", count: 50_000, seed: 3)
        try folder.write("show/two.m4a", count: 20_000, seed: 4)
        let options = TorrentCreator.Options(
            comment: "recorded on the train", creationDate: 1_764_000_000,
            trackers: [["http://127.0.0.1:6969/announce", "udp://127.0.0.1:6969"], ["http://127.0.0.3:80/announce"]],
            webSeeds: ["http://127.0.0.1:8080/show/"])
        let made = try TorrentCreator.createBlocking(from: folder.path + "/show", options: options)
        let torrentPath = folder.path + "/memofs.torrent"
        try Data(made.encoded()).write(to: URL(fileURLWithPath: torrentPath))

        let lt = try Libtorrent.run("inspect-torrent", torrentPath)
        #expect(lt["info_hash"] as? String == made.infoHash.hex)
        #expect(lt["name"] as? String == "show")
        #expect(lt["comment"] as? String == "recorded on the train")
        #expect(lt["creation_date"] as? Int == 1_764_000_000)
        #expect(lt["piece_length"] as? Int == 16384)
        let files = try #require(lt["files"] as? [[String: Any]])
        #expect(files.map { $0["path"] as? String } == ["show/one.webm", "show/two.m4a"])
        #expect(files.map { $0["size"] as? Int } == [50_000, 20_000])
        let trackers = try #require(lt["trackers"] as? [[String: Any]])
        // libtorrent shuffles the trackers within a tier, as BEP 12 asks: compare tier by tier.
        var tiers: [Int: Set<String>] = [:]
        for tracker in trackers { tiers[tracker["tier"] as? Int ?? -1, default: []].insert(tracker["url"] as? String ?? "") }
        #expect(tiers == [0: Set(options.trackers[0]), 1: Set(options.trackers[1])])
        #expect(lt["web_seeds"] as? [String] == ["http://127.0.0.1:8080/show/"])
        #expect(lt["pieces"] as? [String] == made.info.pieceHashes.map(\.hex))
    }

    @Test func libtorrentReadsTheMagnetsMemofsPrints() throws {
        let folder = try TemporaryFolder()
        try folder.write("a memo & more.webm", count: 10_000)
        let made = try TorrentCreator.createBlocking(
            from: folder.path + "/a memo & more.webm",
            options: .init(trackers: [["http://127.0.0.1:6969/announce?key=a&b=c"], ["udp://127.0.0.1:6969"]]))
        let magnet = MagnetLink(metainfo: made, peers: [PeerAddress("127.0.0.2:6881")!])
        let lt = try Libtorrent.run("inspect-magnet", magnet.uri)
        #expect(lt["info_hash"] as? String == made.infoHash.hex)
        #expect(lt["name"] as? String == "a memo & more.webm")
        #expect(lt["trackers"] as? [String] == ["http://127.0.0.1:6969/announce?key=a&b=c", "udp://127.0.0.1:6969"])
        #expect(lt["peers"] as? [String] == ["127.0.0.2:6881"])
    }

    @Test func memofsReadsTheMagnetsLibtorrentPrints() throws {
        let folder = try TemporaryFolder()
        try folder.write("Grüße aus 🎙 (1).ogg", count: 30_000)
        let torrentPath = folder.path + "/lt.torrent"
        let made = try Libtorrent.run("make", try Libtorrent.json([
            "root": folder.path, "files": ["Grüße aus 🎙 (1).ogg"], "out": torrentPath,
            "trackers": ["http://127.0.0.1:6969/announce", "udp://127.0.0.1:6970"],
        ] as [String: Any]))
        let uri = try #require(try Libtorrent.run("make-magnet", torrentPath)["uri"] as? String)
        let link = try MagnetLink(parsing: uri)
        #expect(link.infoHash.hex == made["info_hash"] as? String)
        #expect(link.displayName == "Grüße aus 🎙 (1).ogg")
        #expect(link.trackers == ["http://127.0.0.1:6969/announce", "udp://127.0.0.1:6970"])
    }
}
