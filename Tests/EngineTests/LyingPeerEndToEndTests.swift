import Engine
import Foundation
import PeerHarness
import TestSupport
import Testing
import TorrentModel

/// Real hostile peers (Tests/Support/hostile_peer.py) that lie or stall, against a real
/// session: each is dropped, or banned where it lies, within its bound, while a read or
/// the metadata comes from an honest libtorrent peer meanwhile. The time limits are
/// shortened (``shortTimeouts``) so the stalls are over in seconds; the counted rules
/// (wrong lengths, unasked blocks, rejects, chokes, a huge metadata_size) keep their
/// production values. Each hostile peer prints how long after connecting it was dropped.
@Suite(.serialized) struct LyingPeerEndToEndTests {
    static let hostileHost = "127.0.0.9"
    /// What the hostile peer prints as the client of a connection from memofs.
    static let memofsClient = String(decoding: PeerID.clientPrefix, as: UTF8.self)

    /// The session's limits with the stalls shortened: snub 2 s, dropped 3 s after the
    /// snub; a metadata piece re-asked after 1 s, its peer dropped after 3 s.
    static func shortTimeouts(_ folder: String) -> SessionConfiguration {
        var configuration = testConfiguration(folder)
        configuration.timeouts.snub = .seconds(2)
        configuration.timeouts.stalledPeer = .seconds(3)
        configuration.timeouts.metadataRequest = .seconds(1)
        configuration.timeouts.metadataPeer = .seconds(3)
        return configuration
    }

    static func startHostile(_ mode: String, torrent: String?) async throws -> (ChildProcess, PeerAddress, String) {
        var arguments = [supportFolder + "/hostile_peer.py", "--mode", mode, "--listen", "\(hostileHost):0", "--lifetime", "120"]
        if let torrent { arguments += ["--torrent", torrent] }
        let child = try ChildProcess("/usr/bin/python3", arguments, label: "hostile \(mode)")
        let ready = try await child.waitForEvent("ready", timeout: 30)
        return (child, PeerAddress("\(hostileHost):\(ready["port"] as? Int ?? 0)")!, ready["infohash"] as? String ?? "")
    }

    /// How long after connecting memofs dropped the hostile peer, as the peer measured it
    /// (its connection from memofs: the libtorrent seeder, told of it by PEX, connects too).
    static func timeToDrop(_ hostile: ChildProcess, within seconds: Double) async throws -> Double {
        let closed = try await hostile.waitForJSON(timeout: seconds) {
            $0["event"] as? String == "closed" && $0["client"] as? String == memofsClient
        }
        return closed["seconds"] as? Double ?? .infinity
    }

    /// Mode, whether it lies (a ban) or only stalls (a drop), and the bound on its drop
    /// (generous for a loaded machine; the rules' own bounds are in the test's comment).
    static let pieceLiars: [(String, Bool, Double)] = [
        ("wrong-length", true, 10),   // the third short block
        ("unrequested", true, 10),    // the 17th unasked block in a row
        ("stall", false, 15),         // snub 2 s + 3 s, ticks of 1 s
        ("reject-all", false, 10),    // the 201st reject in a row
        ("choke-storm", false, 10),   // the 20th choke within a minute (one every 40 ms)
    ]

    /// A file is open and a read starts while only the liar is connected and has been
    /// asked; an honest libtorrent seeder joins; the read completes with the right bytes, and the liar is
    /// dropped (banned if it lied) within its bound.
    @Test(arguments: pieceLiars.indices)
    func aLiarIsDroppedWhileAReadCompletesFromAnHonestPeer(index: Int) async throws {
        let (mode, lies, bound) = Self.pieceLiars[index]
        let folder = try TemporaryFolder()
        let content = try folder.write("seed/talk.opus", count: 1 << 20, seed: 90 + UInt64(index))
        let metainfo = try TorrentCreator.createBlocking(from: folder.path + "/seed/talk.opus", options: .init(pieceLength: 64 << 10))
        let torrentPath = folder.path + "/talk.torrent"
        try Data(metainfo.encoded()).write(to: URL(fileURLWithPath: torrentPath))
        let (hostile, address, _) = try await Self.startHostile(mode, torrent: torrentPath)
        defer { hostile.stop() }
        let (seeder, port) = try await startLibtorrent("seed", torrent: torrentPath, folder: folder.path + "/seed")
        defer { seeder.stop() }

        try await withSession(Self.shortTimeouts(folder.path + "/memofs")) { session in
            let torrent = try await session.add(metainfo: metainfo, downloadWhole: false, peers: [address])
            // The file is open, as through the mount: we stay interested in every peer with
            // pieces we lack, the liar too, after the read.
            let reader = await torrent.openReader(file: 0)
            defer { Task { await torrent.closeReader(reader) } }
            let read = Task { try await torrent.read(file: 0, offset: 200_000, length: 300_000) }
            defer { read.cancel() }
            // The liar has the read's requests (or was dropped before it got any).
            _ = try await hostile.waitForJSON(timeout: 20) {
                ["request", "closed"].contains($0["event"] as? String) && $0["client"] as? String == Self.memofsClient
            }
            await torrent.addPeers([PeerAddress("127.0.0.2:\(port)")!])
            let bytes = try await withTimeout(30, "the read from the honest peer") { try await read.value }
            #expect(bytes == Array(content[200_000..<500_000]))
            let seconds = try await Self.timeToDrop(hostile, within: bound)
            print("\(mode): dropped \(seconds) s after connecting\(lies ? ", banned" : "")")
            #expect(seconds < bound)
            let lastError = await torrent.lastError
            #expect(await torrent.bannedPeerHosts.contains(Self.hostileHost) == lies, "\(lastError ?? "")")
        }
    }

    /// A magnet whose only peer says a 500 MB metadata_size (a lie: banned at its extension
    /// handshake) or says a wrong size (5 MiB) and never answers for the metadata (dropped
    /// after 3 s): the torrent then gets its metadata from an honest peer (whose size is
    /// another: the liar's is forgotten with it), and a read waiting on it completes.
    @Test(arguments: [("huge-metadata", true), ("never-metadata", false)])
    func aPeerThatWithholdsTheMetadataIsDroppedAndAnotherGivesIt(mode: String, lies: Bool) async throws {
        let folder = try TemporaryFolder()
        let content = try folder.write("seed/talk.opus", count: 300_000, seed: 99)
        let metainfo = try TorrentCreator.createBlocking(from: folder.path + "/seed/talk.opus", options: .init(pieceLength: 64 << 10))
        let torrentPath = folder.path + "/talk.torrent"
        try Data(metainfo.encoded()).write(to: URL(fileURLWithPath: torrentPath))
        let (hostile, address, _) = try await Self.startHostile(mode, torrent: torrentPath)
        defer { hostile.stop() }

        try await withSession(Self.shortTimeouts(folder.path + "/memofs")) { session in
            let torrent = try await session.add(magnet: MagnetLink(infoHash: metainfo.infoHash, peers: [address]))
            let read = Task { try await torrent.read(file: 0, offset: 0, length: 100_000) }
            defer { read.cancel() }
            let seconds = try await Self.timeToDrop(hostile, within: 15)
            print("\(mode): dropped \(seconds) s after connecting\(lies ? ", banned" : "")")
            #expect(seconds < (lies ? 5 : 10))
            let lastError = await torrent.lastError
            #expect(await torrent.bannedPeerHosts.contains(Self.hostileHost) == lies, "\(lastError ?? "")")
            #expect(await torrent.torrentInfo == nil)

            let (seeder, port) = try await startLibtorrent("seed", torrent: torrentPath, folder: folder.path + "/seed")
            defer { seeder.stop() }
            await torrent.addPeers([PeerAddress("127.0.0.2:\(port)")!])
            let bytes = try await withTimeout(30, "the read after the metadata from the honest peer") { try await read.value }
            #expect(bytes == Array(content[0..<100_000]))
        }
    }

    /// Metadata that hashes to the magnet's info hash but names a file "../escape": the
    /// torrent fails with the reason, in its status; the waiting read ends with that error;
    /// nobody stays connected, and the peer that sent it is not banned (it did not lie).
    @Test func refusedMetadataFailsTheTorrentWithTheReason() async throws {
        let folder = try TemporaryFolder()
        let (hostile, address, hex) = try await Self.startHostile("unsafe-metadata", torrent: nil)
        defer { hostile.stop() }
        let infoHash = try #require(InfoHash(magnetForm: hex))

        try await withSession(Self.shortTimeouts(folder.path + "/memofs")) { session in
            let torrent = try await session.add(magnet: MagnetLink(infoHash: infoHash, peers: [address]))
            let read = Task { try await torrent.read(file: 0, offset: 0, length: 1000) }
            defer { read.cancel() }
            let error = try await withTimeout(20, "the read to fail") { () -> String in
                do {
                    _ = try await read.value
                    return "the read returned bytes"
                } catch {
                    return "\(error)"
                }
            }
            #expect(error.contains("torrent failed: metadata refused") && error.contains("escape"), "\(error)")
            let status = await torrent.status
            #expect(status.failure?.contains("unsafe file name") == true, "\(status.failure ?? "nil")")
            #expect(!status.hasMetadata)
            _ = try await Self.timeToDrop(hostile, within: 10)
            #expect(await torrent.peerCount == 0)
            #expect(await torrent.bannedPeerHosts.isEmpty)
            // Asked again, it says the same at once.
            await #expect(throws: TorrentError.self) { try await torrent.waitForMetadata() }
            // And it goes like any other torrent.
            try await session.remove(infoHash, deleteFiles: true)
            #expect(await session.torrent(infoHash) == nil)
        }
    }
}
