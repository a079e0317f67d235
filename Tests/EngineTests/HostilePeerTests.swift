import Engine
import Foundation
import PeerHarness
import TestSupport
import Testing
import TorrentModel

@Suite(.serialized) struct HostilePeerTests {
    /// Peers that send corrupted blocks or lie about lengths never get a wrong byte into a
    /// file, are banned, and the download completes from an honest peer.
    @Test func hostilePeersAreBannedAndTheDownloadCompletes() async throws {
        let folder = try TemporaryFolder()
        try folder.write("seed/memo.opus", count: 3 << 20, seed: 66)
        let metainfo = try TorrentCreator.createBlocking(from: folder.path + "/seed/memo.opus", options: .init(pieceLength: 64 << 10))
        let torrentPath = folder.path + "/memo.torrent"
        try Data(metainfo.encoded()).write(to: URL(fileURLWithPath: torrentPath))

        var hostile: [ChildProcess] = []
        defer { hostile.forEach { $0.stop() } }
        var addresses: [PeerAddress] = []
        for (index, mode) in ["corrupt", "lie-length", "lie-block", "huge"].enumerated() {
            let host = "127.0.0.\(3 + index)"
            let child = try ChildProcess("/usr/bin/python3", [supportFolder + "/hostile_peer.py", "--torrent", torrentPath,
                                                             "--mode", mode, "--listen", "\(host):0"], label: "hostile \(mode)")
            hostile.append(child)
            let ready = try await child.waitForEvent("ready", timeout: 30)
            addresses.append(PeerAddress("\(host):\(ready["port"] as? Int ?? 0)")!)
        }

        try await withSession(testConfiguration(folder.path + "/memofs")) { session in
            let torrent = try await session.add(metainfo: metainfo, downloadWhole: true, peers: addresses)
            // Only hostile peers at first: wait until every one of them is banned.
            try await withTimeout(60, "banning the hostile peers") {
                while await Set(torrent.bannedPeerHosts).count < 4 { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(await torrent.status.hashFailures >= 2)
            #expect(await torrent.verifiedPieceCount == 0)

            let (seeder, port) = try await startLibtorrent("seed", torrent: torrentPath, folder: folder.path + "/seed")
            defer { seeder.stop() }
            await torrent.addPeers([PeerAddress("127.0.0.2:\(port)")!])
            try await withTimeout(60, "the download from the honest peer") { try await torrent.waitUntilComplete() }
            let path = folder.path + "/memofs/torrents/\(metainfo.infoHash.hex)/memo.opus"
            #expect(try sha1(ofFile: path) == sha1(ofFile: folder.path + "/seed/memo.opus"))
            #expect(Set(await torrent.bannedPeerHosts) == ["127.0.0.3", "127.0.0.4", "127.0.0.5", "127.0.0.6"])
        }
    }

    /// A reader's piece is hashed as its blocks arrive and handed to the reader without a
    /// trip to the thread pool. From a peer that corrupts it, it fails that check, is fetched
    /// again once an honest peer comes, and the reader gets only the right bytes.
    @Test func aReadersPieceFromACorruptPeerIsFetchedAgain() async throws {
        let folder = try TemporaryFolder()
        let content = try folder.write("seed/talk.opus", count: 1 << 20, seed: 67)
        let metainfo = try TorrentCreator.createBlocking(from: folder.path + "/seed/talk.opus", options: .init(pieceLength: 64 << 10))
        let torrentPath = folder.path + "/talk.torrent"
        try Data(metainfo.encoded()).write(to: URL(fileURLWithPath: torrentPath))
        let corrupt = try ChildProcess("/usr/bin/python3", [supportFolder + "/hostile_peer.py", "--torrent", torrentPath,
                                                           "--mode", "corrupt", "--listen", "127.0.0.3:0"], label: "hostile corrupt")
        defer { corrupt.stop() }
        let ready = try await corrupt.waitForEvent("ready", timeout: 30)

        try await withSession(testConfiguration(folder.path + "/memofs")) { session in
            let torrent = try await session.add(metainfo: metainfo, downloadWhole: false,
                                                peers: [PeerAddress("127.0.0.3:\(ready["port"] as? Int ?? 0)")!])
            let read = Task { try await torrent.read(file: 0, offset: 200_000, length: 100_000) }
            defer { read.cancel() }
            try await withTimeout(30, "the corrupt piece to fail its check") {
                while await torrent.status.hashFailures == 0 { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(await torrent.verifiedPieceCount == 0)
            let (seeder, port) = try await startLibtorrent("seed", torrent: torrentPath, folder: folder.path + "/seed")
            defer { seeder.stop() }
            await torrent.addPeers([PeerAddress("127.0.0.2:\(port)")!])
            let bytes = try await withTimeout(60, "the read from the honest peer") { try await read.value }
            #expect(bytes == Array(content[200_000..<300_000]))
        }
    }

    /// A peer that says `reqq` 16 but rejects the request that would be its 16th pending one,
    /// and sends that reject 10 s late, as Transmission 3.00 does: memofs never has that many
    /// in flight, so nothing is rejected and no block waits for a late reject (a reopened
    /// file's read stalled 5–10 s on one).
    @Test func aPeerThatRejectsItsLastQueueSlotIsNeverAskedToFillIt() async throws {
        let folder = try TemporaryFolder()
        let content = try folder.write("seed/talk.opus", count: 1 << 20, seed: 68)
        let metainfo = try TorrentCreator.createBlocking(from: folder.path + "/seed/talk.opus", options: .init(pieceLength: 64 << 10))
        let torrentPath = folder.path + "/talk.torrent"
        try Data(metainfo.encoded()).write(to: URL(fileURLWithPath: torrentPath))
        let peer = try ChildProcess("/usr/bin/python3", [supportFolder + "/hostile_peer.py", "--torrent", torrentPath,
                                                        "--mode", "reqq-off-by-one", "--content", folder.path + "/seed/talk.opus",
                                                        "--listen", "127.0.0.8:0"], label: "reqq off by one")
        defer { peer.stop() }
        let ready = try await peer.waitForEvent("ready", timeout: 30)

        try await withSession(testConfiguration(folder.path + "/memofs")) { session in
            let torrent = try await session.add(metainfo: metainfo, downloadWhole: false,
                                                peers: [PeerAddress("127.0.0.8:\(ready["port"] as? Int ?? 0)")!])
            let bytes = try await withTimeout(30, "reading the file") { try await torrent.read(file: 0, offset: 0, length: 1 << 20) }
            #expect(bytes == Array(content))
        }
        #expect(!peer.allLines.contains { $0.contains("\"rejected\"") }, "\(peer.allLines.filter { $0.contains("rejected") })")
    }
}
