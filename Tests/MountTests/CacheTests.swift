import Foundation
import MemoFS
import PeerHarness
import TestSupport
import Testing
import TorrentModel

/// `--cache-size` through a real mount: a share larger than the limit copied out whole
/// through the kernel, byte-exact, while its file in the data folder holds no more than the
/// limit and the reader's window; a pinned share and a recording are kept; `memofs status`
/// shows the use.
@Suite(.serialized) struct CacheTests {
    /// Bytes the file system holds for a file (its blocks: evicted pieces are holes).
    static func diskBytes(_ path: String) -> Int64 {
        var status = stat()
        guard stat(path, &status) == 0 else { return 0 }
        return Int64(status.st_blocks) * 512
    }

    @Test func aShareLargerThanTheLimitIsReadWholeWithinIt() async throws {
        let folder = try TemporaryFolder()
        let size = 96 << 20, limit: Int64 = 8 << 20
        let (_, metainfo, seeder, magnet) = try await seedWithLibtorrent(folder, name: "long.bin", count: size, seed: 41,
                                                                         pieceLength: 256 << 10)
        defer { seeder.stop() }
        let (_, pinnedInfo, pinnedSeeder, pinnedMagnet) = try await seedWithLibtorrent(folder, name: "album.bin", count: 12 << 20,
                                                                                       seed: 42, pieceLength: 256 << 10)
        defer { pinnedSeeder.stop() }
        _ = try folder.write("memo.ogg", count: 5 << 20, seed: 43)

        let mount = try await MountedMemofs(mountpoint: folder.path + "/mnt", dataFolder: folder.path + "/data",
                                            extra: ["--no-dht", "--no-lsd", "-o", "cache_size=8M"])
        defer { mount.stop() }
        // A recording, and a pinned share larger than the limit, whole before the read.
        #expect(try await run(["/bin/cp", folder.path + "/memo.ogg", mount.local + "/memo.ogg"], timeout: 30).status == 0)
        try await eventually("the recording shared") { FileManager.default.fileExists(atPath: mount.local + "/memo.ogg.magnet") }
        let add = try await run(["/bin/sh", "-c", "cat > '\(mount.shared)/.add'"], timeout: 10,
                                input: Data((pinnedMagnet.uri + "\n" + magnet.uri + "\n").utf8))
        #expect(add.status == 0, "\(add.errors)")
        let shared = mount.shared + "/long.bin", album = mount.shared + "/album.bin"
        try await eventually("the shares listed", timeout: 20) {
            FileManager.default.fileExists(atPath: shared) && FileManager.default.fileExists(atPath: album)
        }
        #expect(try await run(["/usr/bin/setfattr", "-n", "user.memofs.pin", "-v", "1", album], timeout: 10).status == 0)
        try await eventually("the pinned share downloaded whole", timeout: 30) {
            try await run(["/usr/bin/getfattr", "--only-values", "-n", "user.memofs.progress", album], timeout: 10).text == "100.0%"
        }

        // Copy the share out through the mount, watching its file in the data folder.
        let onDisk = folder.path + "/data/torrents/\(metainfo.infoHash.hex)/long.bin"
        let copy = folder.path + "/copy.bin"
        let most = try await withThrowingTaskGroup(of: Int64.self) { group in
            group.addTask {
                let result = try await run(["/bin/cp", shared, copy], timeout: 120)
                #expect(result.status == 0, "\(result.errors)")
                return -1
            }
            group.addTask {
                var most: Int64 = 0
                while !Task.isCancelled {
                    most = max(most, Self.diskBytes(onDisk))
                    try? await Task.sleep(for: .milliseconds(20))
                }
                return most
            }
            _ = try await group.next()  // the copy
            group.cancelAll()
            return try await group.next() ?? 0
        }
        #expect(try await run(["/usr/bin/cmp", folder.path + "/seed/long.bin", copy], timeout: 60).status == 0,
                "the share copied out differs")
        // Slack: the reader's window (readahead doubles up to 32 MiB, held while it reads)
        // and a few pieces verified while an eviction was under way.
        let slack: Int64 = (32 << 20) + (3 << 20)
        print("--cache-size 8M: at most \(most >> 10) KiB of the \(size >> 10) KiB share on disk while copied out")
        #expect(most > 0)
        #expect(most <= limit + slack, "\(most) bytes on disk against a limit of \(limit)")
        // Once the reader is gone, down to the limit.
        try await eventually("evicted down to the limit", timeout: 20) { Self.diskBytes(onDisk) <= limit }

        // The pinned share and the recording are whole.
        #expect(try await run(["/usr/bin/getfattr", "--only-values", "-n", "user.memofs.progress", album], timeout: 10).text == "100.0%")
        #expect(try await run(["/usr/bin/cmp", folder.path + "/seed/album.bin", album], timeout: 30).status == 0)
        #expect(Self.diskBytes(folder.path + "/data/torrents/\(pinnedInfo.infoHash.hex)/album.bin") >= 12 << 20)
        #expect(try await run(["/usr/bin/cmp", folder.path + "/memo.ogg", mount.local + "/memo.ogg"], timeout: 30).status == 0)

        // The status shows the use against the limit, and the pinned share apart.
        try await eventually("the cache in the status", timeout: 10) {
            let text = try await run([memofsExecutable, "status", "--data", mount.dataFolder], timeout: 10).text
            return text.contains("of 8.0 MiB used by shares") && text.contains("12.0 MiB pinned")
        }
        // A second read of the start, evicted long ago, is fetched again and right.
        let head = try await run(["/bin/sh", "-c", "head -c 1048576 '\(shared)' | cmp - '\(folder.path)/seed/long.bin' -n 1048576"],
                                 timeout: 30)
        #expect(head.status == 0, "\(head.text) \(head.errors)")
    }

    @Test func cacheSizesParseAndTheDefaultIsATenthOfTheFreeSpace() throws {
        #expect(try CacheSize.parse("0") == 0)
        #expect(try CacheSize.parse("4096") == 4096)
        #expect(try CacheSize.parse("500M") == 500 << 20)
        #expect(try CacheSize.parse("2G") == 2 << 30)
        #expect(try CacheSize.parse("1.5GiB") == 3 << 29)
        #expect(try CacheSize.parse("750mb") == 750 << 20)
        #expect(try CacheSize.parse("1T") == 1 << 40)
        #expect(try CacheSize.parse("unlimited") == nil)
        #expect(try CacheSize.parse("none") == nil)
        for bad in ["", "-1G", "2X", "G", "1e9", "lots", "99999999999T"] {
            #expect(throws: CacheSizeError.self, "\(bad)") { try CacheSize.parse(bad) }
        }
        #expect(CacheSize.defaultLimit(availableBytes: 100 << 30) == 10 << 30)
        #expect(CacheSize.defaultLimit(availableBytes: 1 << 30) == CacheSize.minimumDefault)
        #expect(CacheSize.defaultLimit(availableBytes: 2 << 40) == CacheSize.maximumDefault)
    }

    @Test func aBadCacheSizeIsAUsageError() async throws {
        let folder = try TemporaryFolder()
        try FileManager.default.createDirectory(atPath: folder.path + "/mnt", withIntermediateDirectories: true)
        for arguments in [["--cache-size", "lots"], ["-o", "cache_size=2X"], ["-o", "cache_size"]] {
            let result = try await run([memofsExecutable, "mount", folder.path + "/mnt", "--data", folder.path + "/data"] + arguments,
                                       timeout: 10)
            #expect(result.status == 64, "\(arguments): \(result.errors)")
            #expect(result.errors.contains("cache"), "\(result.errors)")
        }
    }
}
