import Foundation
import PeerHarness
import TestSupport
import Testing
import TorrentModel

/// What `rm`, `mv` and overwriting do in the tree, and how bad options are refused.
@Suite(.serialized) struct TreeTests {
    func sidecar(_ path: String) async throws -> String? {
        let result = try await run(["/bin/cat", path], timeout: 10)
        return result.status == 0 ? result.text : nil
    }

    @Test func overwritingRenamingAndRemovingRecordings() async throws {
        let folder = try TemporaryFolder()
        try folder.write("one.ogg", count: 50_000, seed: 1)
        try folder.write("two.ogg", count: 60_000, seed: 2)
        let mount = try await MountedMemofs(mountpoint: folder.path + "/mnt", dataFolder: folder.path + "/data")
        defer { mount.stop() }
        #expect(try await run(["/bin/cp", folder.path + "/one.ogg", mount.local + "/memo.ogg"], timeout: 10).status == 0)
        var first: String?
        try await eventually("the first sidecar") { first = try await sidecar(mount.local + "/memo.ogg.magnet"); return first != nil }

        // Overwriting shares the new content under a new magnet.
        #expect(try await run(["/bin/cp", folder.path + "/two.ogg", mount.local + "/memo.ogg"], timeout: 10).status == 0)
        var second: String?
        try await eventually("the new sidecar") {
            second = try await sidecar(mount.local + "/memo.ogg.magnet")
            return second != nil && second != first
        }
        // A user.description set before copying becomes the torrent's comment.
        #expect(try await run(["/usr/bin/setfattr", "-n", "user.description", "-v", "standup notes", mount.local + "/memo.ogg"],
                        timeout: 10).status == 0)
        #expect(try await run(["/usr/bin/getfattr", "--only-values", "-n", "user.description", mount.local + "/memo.ogg"],
                        timeout: 10).text == "standup notes")

        // mv re-shares under the new name.
        #expect(try await run(["/bin/mv", mount.local + "/memo.ogg", mount.local + "/renamed.ogg"], timeout: 10).status == 0)
        try await eventually("the renamed sidecar") {
            try await sidecar(mount.local + "/renamed.ogg.magnet").map { try MagnetLink(parsing: $0).displayName == "renamed.ogg" } ?? false
        }
        #expect(try await sidecar(mount.local + "/memo.ogg.magnet") == nil)
        #expect(try await run(["/usr/bin/cmp", folder.path + "/two.ogg", mount.local + "/renamed.ogg"], timeout: 10).status == 0)

        // rm stops seeding and removes the sidecar; the sidecar itself cannot be removed.
        #expect(try await run(["/bin/rm", mount.local + "/renamed.ogg.magnet"], timeout: 10).status != 0)
        #expect(try await run(["/bin/rm", mount.local + "/renamed.ogg"], timeout: 10).status == 0)
        let listing = try await run(["/bin/ls", "-A", mount.local], timeout: 10).text
        #expect(listing.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "\(listing)")
        try await eventually("no recording in the status") {
            !(try await run([memofsExecutable, "status", "--data", mount.dataFolder, "--json"], timeout: 10).text.contains("renamed.ogg"))
        }
    }

    /// The log says once how others can find what is shared from local/.
    /// chmod and touch reach a recording's file, and the file's refusal reaches the caller
    /// (they were once ignored and answered as done): an immutable file (`chattr +i`, which
    /// even root cannot change) answers EPERM.
    @Test(.enabled(if: getuid() == 0, "chattr +i needs root"))
    func changingARecordingsModeAndTimeReachesItsFileOrFailsWithItsReason() async throws {
        let folder = try TemporaryFolder()
        try folder.write("memo.ogg", count: 20_000)
        let mount = try await MountedMemofs(mountpoint: folder.path + "/mnt", dataFolder: folder.path + "/data")
        defer { mount.stop() }
        let backing = mount.dataFolder + "/local/memo.ogg"
        #expect(try await run(["/bin/cp", folder.path + "/memo.ogg", mount.local + "/memo.ogg"], timeout: 10).status == 0)
        #expect(try await run(["/bin/chmod", "600", mount.local + "/memo.ogg"], timeout: 10).status == 0)
        #expect(try await run(["/usr/bin/touch", "-m", "-d", "@981173106", mount.local + "/memo.ogg"], timeout: 10).status == 0)
        let changed = try FileManager.default.attributesOfItem(atPath: backing)
        #expect((changed[.posixPermissions] as? Int) == 0o600)
        #expect((changed[.modificationDate] as? Date)?.timeIntervalSince1970 == 981_173_106)

        #expect(try await run(["/usr/bin/chattr", "+i", backing], timeout: 10).status == 0)
        defer { _ = try? runBlocking(["/usr/bin/chattr", "-i", backing], timeout: 10) }
        let chmod = try await run(["/bin/chmod", "644", mount.local + "/memo.ogg"], timeout: 10)
        #expect(chmod.status != 0)
        #expect(chmod.errors.contains("Operation not permitted"), "\(chmod.errors)")
        let touch = try await run(["/usr/bin/touch", "-m", "-d", "@1000000000", mount.local + "/memo.ogg"], timeout: 10)
        #expect(touch.status != 0)
        #expect(touch.errors.contains("Operation not permitted"), "\(touch.errors)")
    }

    @Test func theLogSaysHowOthersFindRecordings() async throws {
        let folder = try TemporaryFolder()
        let mount = try await MountedMemofs(mountpoint: folder.path + "/mnt", dataFolder: folder.path + "/data",
                                            extra: ["--no-dht", "--no-lsd", "--tracker", "http://127.0.0.1:9/announce"])
        defer { mount.stop() }
        try await eventually("the line in the log", timeout: 10) {
            mount.daemonLog.contains("others find recordings through the tracker in their magnets, x.pe=127.0.0.1 in their magnets\n")
        }
    }

    @Test func rmDashRRemovesASharedTorrentAndItsData() async throws {
        let folder = try TemporaryFolder()
        try folder.write("seed/album/a.opus", count: 40_000, seed: 3)
        try folder.write("seed/album/cd2/b.opus", count: 40_000, seed: 4)
        let metainfo = try TorrentCreator.createBlocking(from: folder.path + "/seed/album")
        try Data(metainfo.encoded()).write(to: URL(fileURLWithPath: folder.path + "/album.torrent"))
        let (seeder, port) = try await startLibtorrent("seed", torrent: folder.path + "/album.torrent", folder: folder.path + "/seed")
        defer { seeder.stop() }
        let mount = try await MountedMemofs(mountpoint: folder.path + "/mnt", dataFolder: folder.path + "/data")
        defer { mount.stop() }
        try await run(["/bin/sh", "-c", "cat > '\(mount.shared)/.add'"], timeout: 10,
                input: Data("magnet:?xt=urn:btih:\(metainfo.infoHash.hex)&x.pe=127.0.0.2:\(port)\n".utf8))
        try await eventually("the album folder") {
            try await run(["/usr/bin/cmp", folder.path + "/seed/album/cd2/b.opus", mount.shared + "/album/cd2/b.opus"], timeout: 10).status == 0
        }
        let stored = folder.path + "/data/torrents/\(metainfo.infoHash.hex)/album/cd2/b.opus"
        // A reader gets a verified piece from memory while it is written: the file may
        // reach the disk a moment after the read.
        try await eventually("the stored file", timeout: 10) { FileManager.default.fileExists(atPath: stored) }
        let removal = try await run(["/bin/rm", "-r", mount.shared + "/album"], timeout: 20)
        #expect(removal.status == 0, "\(removal.errors)")
        #expect(try await run(["/bin/ls", "-A", mount.shared], timeout: 10).text.trimmingCharacters(in: .whitespacesAndNewlines) == ".add")
        #expect(!FileManager.default.fileExists(atPath: stored))
    }

    @Test func badOptionsFailAtOnceWithAReason() async throws {
        let folder = try TemporaryFolder()
        try FileManager.default.createDirectory(atPath: folder.path + "/mnt", withIntermediateDirectories: true)
        for (arguments, reason) in [
            (["-o", "bogus=1"], "unknown mount option 'bogus'"),
            (["--port", "70000"], "port 70000 is not 0–65535"),
            (["-o", "port=abc"], "-o port=abc is not a number"),
            (["--read-timeout", "0"], "must be more than 0 seconds"),
            (["--tracker", "ftp://x"], "not an http://, https://, udp://, ws:// or wss:// URL"),
            (["--stun", "stun.example:3478"], "is not ip:port"),
            (["--webrtc-address", "eth0"], "is not a numeric IP address"),
        ] {
            let result = try await run([memofsExecutable, "mount", folder.path + "/mnt", "--data", folder.path + "/data"] + arguments, timeout: 10)
            #expect(result.status != 0)
            #expect(result.errors.contains(reason), "\(arguments): \(result.errors)")
        }
        let missing = try await run([memofsExecutable, "mount", folder.path + "/nowhere", "--data", folder.path + "/data"], timeout: 10)
        #expect(missing.errors.contains("does not exist: create it"))
        #expect(!MountedMemofs.isMounted(folder.path + "/mnt"))
    }
}
