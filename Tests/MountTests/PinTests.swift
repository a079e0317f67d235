import Foundation
import PeerHarness
import TestSupport
import Testing
import TorrentModel

/// `memofs pin` and `user.memofs.pin`: a share downloaded whole in the background and
/// kept so across a remount; refusals for what cannot be pinned.
@Suite(.serialized) struct PinTests {
    func attribute(_ name: String, of path: String) async throws -> String {
        try await run(["/usr/bin/getfattr", "--only-values", "-n", name, path], timeout: 10).text
    }

    func statusLine(of name: String, data: String) async throws -> String? {
        try await run([memofsExecutable, "status", "--data", data], timeout: 10).text
            .split(separator: "\n").first { $0.contains(" \(name) (") }.map(String.init)
    }

    @Test func aPinnedShareIsDownloadedWholeAndStaysPinned() async throws {
        let folder = try TemporaryFolder()
        let (_, _, seeder, magnet) = try await seedWithLibtorrent(folder, name: "album.bin", count: 6 << 20, seed: 21,
                                                                  pieceLength: 256 << 10)
        defer { seeder.stop() }
        let mount = try await MountedMemofs(mountpoint: folder.path + "/mnt", dataFolder: folder.path + "/data",
                                            extra: ["--no-dht", "--no-lsd"])
        defer { mount.stop() }
        try await run(["/bin/sh", "-c", "cat > '\(mount.shared)/.add'"], timeout: 10, input: Data((magnet.uri + "\n").utf8))
        let file = mount.shared + "/album.bin"
        try await eventually("the share listed", timeout: 20) { FileManager.default.fileExists(atPath: file) }
        // Nobody reads it: on demand, nothing is fetched.
        try await Task.sleep(for: .seconds(1))
        #expect(try await attribute("user.memofs.progress", of: file) == "0.0%")
        #expect(try await attribute("user.memofs.pin", of: file) == "0")

        let pinned = try await run([memofsExecutable, "pin", file], timeout: 10)
        #expect(pinned.status == 0, "\(pinned.errors)")
        #expect(pinned.text.contains("pinned \(file)"))
        #expect(try await attribute("user.memofs.pin", of: file) == "1")
        try await eventually("the whole share downloaded", timeout: 30) {
            try await attribute("user.memofs.progress", of: file) == "100.0%"
        }
        try await eventually("the share marked pinned in the status", timeout: 10) {
            try await statusLine(of: "album.bin", data: mount.dataFolder)?.contains("complete, pinned") == true
        }

        // Kept across a remount, and undone by unpin.
        mount.stop()
        try await mount.start(extra: ["--no-dht", "--no-lsd"])
        try await eventually("the share listed again", timeout: 20) { FileManager.default.fileExists(atPath: file) }
        #expect(try await attribute("user.memofs.pin", of: file) == "1")
        let unpinned = try await run([memofsExecutable, "unpin", file], timeout: 10)
        #expect(unpinned.status == 0, "\(unpinned.errors)")
        #expect(try await attribute("user.memofs.pin", of: file) == "0")
        try await eventually("the mark gone from the status", timeout: 10) {
            try await statusLine(of: "album.bin", data: mount.dataFolder).map { !$0.contains("pinned") } == true
        }
        // setfattr works the same, and a value other than 1 or 0 is refused.
        #expect(try await run(["/usr/bin/setfattr", "-n", "user.memofs.pin", "-v", "1", file], timeout: 10).status == 0)
        #expect(try await attribute("user.memofs.pin", of: file) == "1")
        #expect(try await run(["/usr/bin/setfattr", "-n", "user.memofs.pin", "-v", "yes", file], timeout: 10).status != 0)
        #expect(try await attribute("user.memofs.pin", of: file) == "1")
    }

    @Test func whatCannotBePinnedIsRefusedWithAReason() async throws {
        let folder = try TemporaryFolder()
        try folder.write("plain.bin", count: 1000, seed: 22)
        try folder.write("memo.ogg", count: 40_000, seed: 23)
        let mount = try await MountedMemofs(mountpoint: folder.path + "/mnt", dataFolder: folder.path + "/data",
                                            extra: ["--no-dht", "--no-lsd"])
        defer { mount.stop() }
        let outside = try await run([memofsExecutable, "pin", folder.path + "/plain.bin"], timeout: 10)
        #expect(outside.status == 1)
        #expect(outside.errors.contains("not a share of a mounted memofs"), "\(outside.errors)")
        #expect(!outside.errors.contains("Usage:"))
        let missing = try await run([memofsExecutable, "pin", mount.shared + "/nothing.bin"], timeout: 10)
        #expect(missing.status == 1)
        #expect(missing.errors.contains("No such file or directory"), "\(missing.errors)")

        #expect(try await run(["/bin/cp", folder.path + "/memo.ogg", mount.local + "/memo.ogg"], timeout: 10).status == 0)
        try await eventually("the recording shared") { FileManager.default.fileExists(atPath: mount.local + "/memo.ogg.magnet") }
        let recording = try await run([memofsExecutable, "pin", mount.local + "/memo.ogg"], timeout: 10)
        #expect(recording.status == 1)
        #expect(recording.errors.contains("only shares under shared/ can be pinned"), "\(recording.errors)")
    }
}
