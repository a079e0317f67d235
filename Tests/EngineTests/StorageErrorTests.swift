import Engine
import Foundation
import Glibc
import SystemPackage
import TestSupport
import Testing
import TorrentModel

/// What a storage failure says: the file, and the system's reason as a typed `Errno`.
@Suite struct StorageErrorTests {
    /// A torrent of one 64 KiB file in 16 KiB pieces, stored under `root`.
    static func storage(in folder: TemporaryFolder, root: String) throws -> TorrentStorage {
        try folder.write("src/file.bin", count: 64 << 10)
        let info = try TorrentCreator.createBlocking(from: folder.path + "/src/file.bin",
                                                     options: .init(pieceLength: 16 << 10)).info
        return TorrentStorage(root: root, info: info)
    }

    @Test func readingPastTheEndOfAShortFileSaysItIsShorterThanTheTorrentSays() throws {
        let folder = try TemporaryFolder()
        let storage = try Self.storage(in: folder, root: folder.path + "/src")
        #expect(truncate(folder.path + "/src/file.bin", 40_000) == 0)
        #expect(try storage.read(at: 0, length: 40_000).count == 40_000)
        let error = try #require(throws: StorageError.self) { try storage.read(at: 39_000, length: 2_000) }
        #expect(error.path == folder.path + "/src/file.bin")
        #expect(error.reason == "the file is shorter than the torrent says")
        #expect(error.errno == nil)
    }

    @Test func aMissingFileIsNamedWithTheSystemsReason() throws {
        let folder = try TemporaryFolder()
        let storage = try Self.storage(in: folder, root: folder.path + "/dl")
        let error = try #require(throws: StorageError.self) { try storage.readPiece(0) }
        #expect(error.errno == .noSuchFileOrDirectory)
        #expect(error.description == folder.path + "/dl/file.bin: No such file or directory")
    }

    @Test func writingWhereAFolderIsGivesEISDIRNamingThePath() throws {
        let folder = try TemporaryFolder()
        let storage = try Self.storage(in: folder, root: folder.path + "/dl")
        try FileManager.default.createDirectory(atPath: folder.path + "/dl/file.bin", withIntermediateDirectories: true)
        let error = try #require(throws: StorageError.self) { try storage.writePiece(0, [UInt8](repeating: 1, count: 16 << 10)) }
        #expect(error.errno == .isDirectory)
        #expect(error.description == folder.path + "/dl/file.bin: Is a directory")
        #expect(!error.isDiskFull)
    }

    @Test(.enabled(if: getuid() == 0, "mounting a small tmpfs to fill needs root"))
    func aFullDiskIsReportedAsDiskFull() throws {
        let folder = try TemporaryFolder()
        let small = folder.path + "/small"
        try FileManager.default.createDirectory(atPath: small, withIntermediateDirectories: true)
        #expect(mount("tmpfs", small, "tmpfs", 0, "size=32k") == 0, "mount tmpfs: \(Errno(rawValue: errno))")
        defer { umount2(small, Int32(MNT_DETACH)) }
        let storage = try Self.storage(in: folder, root: small)
        defer { storage.close() }
        let error = try #require(throws: StorageError.self) {
            for piece in 0..<4 { try storage.writePiece(piece, [UInt8](repeating: 1, count: 16 << 10)) }
        }
        #expect(error.errno == .noSpace)
        #expect(error.isDiskFull)
        #expect(error.description == small + "/file.bin: No space left on device")
    }
}
