import Engine
import Foundation
import PeerHarness
import TestSupport
import Testing
import TorrentModel

/// A data folder on a disk that fills up (a small tmpfs, so root only): downloading stops
/// with one log line and a status that names the cause and the space left, reads fail at
/// once instead of waiting, memofs mounts again on the full disk, `rm` frees it, and
/// downloading resumes by itself when space returns.
@Suite(.serialized, .enabled(if: getuid() == 0, "mounting a tmpfs needs root"))
struct FullDiskTests {
    func status(_ mount: MountedMemofs) async throws -> String {
        try await run([memofsExecutable, "status", "--data", mount.dataFolder], timeout: 10).text
    }

    func add(_ magnet: MagnetLink, to mount: MountedMemofs) async throws {
        let added = try await run(["/bin/sh", "-c", "printf '%s\\n' \"$1\" > \"$2\"", "sh", magnet.uri, mount.shared + "/.add"],
                                  timeout: 10)
        #expect(added.status == 0, "\(added.errors)")
    }

    /// A data folder of its own on a tmpfs of `size`, unmounted by the caller's `defer`.
    func smallDisk(_ folder: TemporaryFolder, size: String) async throws -> String {
        let data = folder.path + "/data"
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        let mounted = try await run(["/bin/mount", "-t", "tmpfs", "-o", "size=\(size)", "tmpfs", data], timeout: 10)
        #expect(mounted.status == 0, "\(mounted.errors)")
        return data
    }

    func availableBytes(_ path: String) throws -> Int64 {
        let attributes = try FileManager.default.attributesOfFileSystem(forPath: path)
        return (attributes[.systemFreeSize] as? NSNumber)?.int64Value ?? 0
    }

    /// A 16 MiB share read into an 8 MiB data folder, then the full folder mounted again and
    /// the share removed from it.
    @Test func aFullDiskStopsDownloadingSaysSoAndStillMountsForRm() async throws {
        let folder = try TemporaryFolder()
        let seeded = try await seedWithLibtorrent(folder, name: "big.bin", count: 16 << 20, seed: 41, pieceLength: 256 << 10)
        defer { seeded.seeder.stop() }
        let data = try await smallDisk(folder, size: "8m")
        defer { _ = try? runBlocking(["/bin/umount", "-l", data], timeout: 10) }
        let mount = try await MountedMemofs(mountpoint: folder.path + "/mnt", dataFolder: data, extra: ["--no-dht"])
        defer { mount.stop() }
        #expect(FileManager.default.fileExists(atPath: data + "/" + SpaceReserve.fileName))
        try await add(seeded.magnet, to: mount)
        try await eventually("big.bin in shared/") { FileManager.default.fileExists(atPath: mount.shared + "/big.bin") }

        // The read fails (EIO) when the disk fills, rather than waiting on pieces that
        // cannot be stored.
        let read = try await run(["/bin/cat", mount.shared + "/big.bin"], timeout: 60)
        #expect(read.status != 0)
        #expect(read.errors.contains("Input/output error"), "\(read.errors)")
        var text = ""
        try await eventually("disk full in the status") {
            text = try await status(mount)
            return text.contains("big.bin (16.0 MiB) disk full")
        }
        #expect(text.contains("No space left on device") && text.contains("available"), "\(text)")
        // A read of a piece that is not here fails at once, without a peer being asked.
        let started = Date()
        let seek = try await run(["/bin/dd", "if=" + mount.shared + "/big.bin", "of=/dev/null", "bs=64k", "skip=200", "count=1"],
                                 timeout: 10)
        #expect(seek.status != 0 && seek.errors.contains("Input/output error"), "\(seek.errors)")
        #expect(Date().timeIntervalSince(started) < 5)
        // One line says it, not one per piece.
        try await Task.sleep(for: .seconds(2))
        let log = mount.daemon?.errorOutput ?? ""
        let failures = log.components(separatedBy: "\n").filter { $0.contains("could not write piece") }
        #expect(failures.count == 1 && failures[0].contains("downloading stopped"), "\(log.suffix(3000))")

        // Mounted again on the full disk: the share is listed, the status is written, and
        // `rm` gives its space back, for good.
        #expect(mount.stop() == 0)
        try await mount.start(extra: ["--no-dht"])
        #expect(FileManager.default.fileExists(atPath: mount.shared + "/big.bin"))
        try await eventually("a fresh status") { try await status(mount).contains("memofs is running") }
        let before = try availableBytes(data)
        let removed = try await run(["/bin/rm", mount.shared + "/big.bin"], timeout: 10)
        #expect(removed.status == 0, "\(removed.errors)")
        #expect(try availableBytes(data) > before + (4 << 20))
        #expect(mount.stop() == 0)
        try await mount.start(extra: ["--no-dht"])
        #expect(!FileManager.default.fileExists(atPath: mount.shared + "/big.bin"))
        // Room again: the reserve is back.
        try await eventually("the space reserve made again", timeout: 10) {
            FileManager.default.fileExists(atPath: data + "/" + SpaceReserve.fileName)
        }
    }

    /// The disk grows back (space freed elsewhere): the stopped download resumes by itself
    /// and the whole file reads byte-exact.
    @Test func downloadingResumesWhenSpaceReturns() async throws {
        let folder = try TemporaryFolder()
        let seeded = try await seedWithLibtorrent(folder, name: "long.bin", count: 16 << 20, seed: 42, pieceLength: 256 << 10)
        defer { seeded.seeder.stop() }
        let data = try await smallDisk(folder, size: "8m")
        defer { _ = try? runBlocking(["/bin/umount", "-l", data], timeout: 10) }
        let mount = try await MountedMemofs(mountpoint: folder.path + "/mnt", dataFolder: data, extra: ["--no-dht"])
        defer { mount.stop() }
        try await add(seeded.magnet, to: mount)
        try await eventually("long.bin in shared/") { FileManager.default.fileExists(atPath: mount.shared + "/long.bin") }
        #expect(try await run([memofsExecutable, "pin", mount.shared + "/long.bin"], timeout: 10).status == 0)
        try await eventually("disk full in the status") { try await status(mount).contains("long.bin (16.0 MiB) disk full") }

        let grown = try await run(["/bin/mount", "-o", "remount,size=48m", data], timeout: 10)
        #expect(grown.status == 0, "\(grown.errors)")
        try await eventually("complete", timeout: 60) { try await status(mount).contains("long.bin (16.0 MiB) complete") }
        let compared = try await run(["/usr/bin/cmp", folder.path + "/seed/long.bin", mount.shared + "/long.bin"], timeout: 60)
        #expect(compared.status == 0, "\(compared.text) \(compared.errors)")
        let log = mount.daemon?.errorOutput ?? ""
        #expect(log.contains("downloading resumed"), "\(log.suffix(3000))")
    }
}
