import Engine
import Foundation
import PeerHarness
import TestSupport
import Testing
import TorrentModel

@Suite(.serialized) struct ResumeTests {
    /// memofs is killed (SIGKILL) in the middle of a download and started again: what was
    /// verified is neither downloaded nor hashed again, and the result is correct.
    @Test func resumesAfterAKillWithoutFetchingVerifiedPiecesAgain() async throws {
        let folder = try TemporaryFolder()
        let size = 24 << 20
        try folder.write("seed/long.webm", count: size, seed: 31)
        let metainfo = try TorrentCreator.createBlocking(from: folder.path + "/seed/long.webm", options: .init(pieceLength: 128 << 10))
        let torrentPath = folder.path + "/long.torrent"
        try Data(metainfo.encoded()).write(to: URL(fileURLWithPath: torrentPath))
        // Throttled to 6 MB/s so the kill lands in the middle.
        let (seeder, port) = try await startLibtorrent("seed", torrent: torrentPath, folder: folder.path + "/seed",
                                                       extra: ["--upload-limit", "6000000"])
        defer { seeder.stop() }
        let magnet = "magnet:?xt=urn:btih:\(metainfo.infoHash.hex)&x.pe=127.0.0.2:\(port)"
        let arguments = ["download", magnet, "--data", folder.path + "/memofs", "--listen", "127.0.0.1", "--port", "0", "--json"]

        let first = try ChildProcess(memofsExecutable, arguments, label: "memofs (first run)")
        let beforeKill = try await first.waitForJSON(timeout: 60) { ($0["progress"] as? Double ?? 0) >= 0.4 }
        first.kill9()
        let verifiedBeforeKill = beforeKill["verified_pieces"] as? Int ?? 0
        #expect(verifiedBeforeKill > 0)

        let second = try ChildProcess(memofsExecutable, arguments, label: "memofs (second run)")
        defer { second.stop() }
        let resumed = try await second.waitForEvent("status", timeout: 30)
        let done = try await second.waitForJSON(timeout: 90) { ($0["progress"] as? Double ?? 0) >= 1 }
        let path = folder.path + "/memofs/torrents/\(metainfo.infoHash.hex)/long.webm"
        #expect(try sha1(ofFile: path) == sha1(ofFile: folder.path + "/seed/long.webm"))

        // Everything verified before the kill came back at once, from the database.
        #expect((resumed["verified_pieces"] as? Int ?? 0) >= verifiedBeforeKill)
        // The second run downloaded only what was missing (plus pieces in flight at the kill).
        let downloadedAgain = done["downloaded"] as? Int ?? .max
        let missingAtKill = size - verifiedBeforeKill * (128 << 10)
        #expect(downloadedAgain <= missingAtKill + 8 * (128 << 10),
                "downloaded \(downloadedAgain) bytes after the restart; \(missingAtKill) were missing")
        #expect(done["hash_failures"] as? Int == 0)
        // Nothing was hashed again: a write cut short by the kill is known from its pending record.
        #expect(done["rechecked"] as? Int == 0)
    }

    /// A download stopped cleanly, then edited behind memofs's back before the next start:
    /// the edit is noticed (the writes of the last run do not excuse it) and the changed
    /// piece is fetched again.
    @Test func anEditAfterACleanStopIsNoticed() async throws {
        let folder = try TemporaryFolder()
        try folder.write("seed/talk.webm", count: 2 << 20, seed: 33)
        let metainfo = try TorrentCreator.createBlocking(from: folder.path + "/seed/talk.webm", options: .init(pieceLength: 64 << 10))
        let torrentPath = folder.path + "/talk.torrent"
        try Data(metainfo.encoded()).write(to: URL(fileURLWithPath: torrentPath))
        let (seeder, port) = try await startLibtorrent("seed", torrent: torrentPath, folder: folder.path + "/seed")
        defer { seeder.stop() }
        let magnet = try MagnetLink(parsing: "magnet:?xt=urn:btih:\(metainfo.infoHash.hex)&x.pe=127.0.0.2:\(port)")
        let configuration = testConfiguration(folder.path + "/memofs")
        let downloaded = try await withSession(configuration) { session in
            let torrent = try await session.add(magnet: magnet, downloadWhole: true)
            try await withTimeout(60, "the download") { try await torrent.waitUntilComplete() }
            return torrent.root + "/talk.webm"
        }
        var bytes = try Data(contentsOf: URL(fileURLWithPath: downloaded))
        bytes[300_000] ^= 0xff
        try bytes.write(to: URL(fileURLWithPath: downloaded))
        try await withSession(configuration) { session in
            let status = try #require(await session.torrent(metainfo.infoHash)?.status)
            #expect(status.recheckedPieces == metainfo.info.pieceCount)
            #expect(status.verifiedPieces == metainfo.info.pieceCount - 1)
        }
    }

    /// Many seeded recordings come back together (they are resumed several at a time):
    /// each exactly once, with its pieces, and the one edited while memofs was stopped is
    /// checked again.
    @Test func manyRecordingsComeBackTogether() async throws {
        let folder = try TemporaryFolder()
        let count = 40
        var hashes: [InfoHash] = []
        let configuration = testConfiguration(folder.path + "/memofs")
        try await withSession(configuration) { session in
            for index in 0..<count {
                try folder.write("local/memo-\(index).ogg", count: 100_000 + index, seed: UInt64(index))
                let torrent = try await session.seed(path: folder.path + "/local/memo-\(index).ogg")
                hashes.append(torrent.infoHash)
            }
        }
        var bytes = try Data(contentsOf: URL(fileURLWithPath: folder.path + "/local/memo-7.ogg"))
        bytes[50_000] ^= 0xff
        try bytes.write(to: URL(fileURLWithPath: folder.path + "/local/memo-7.ogg"))
        try await withSession(configuration) { session in
            let resumed = await session.allTorrents
            #expect(resumed.count == count)
            #expect(Set(resumed.map(\.infoHash)) == Set(hashes))
            for (index, hash) in hashes.enumerated() {
                let status = try #require(await session.torrent(hash)?.status)
                if index == 7 {
                    #expect(status.recheckedPieces > 0)
                    #expect(status.verifiedPieces < status.pieceCount)
                } else {
                    #expect(status.verifiedPieces == status.pieceCount, "memo-\(index).ogg")
                    #expect(status.recheckedPieces == 0, "memo-\(index).ogg")
                }
            }
        }
    }
}
