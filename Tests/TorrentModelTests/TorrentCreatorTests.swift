import Foundation
import TestSupport
import Testing
@testable import TorrentModel

@Suite struct TorrentCreatorTests {
    @Test func setsNameCommentDateAndTrackers() async throws {
        let folder = try TemporaryFolder()
        let data = try folder.write("memo.webm", count: 40_000)
        let made = try await TorrentCreator.create(from: folder.path + "/memo.webm", options: .init(
            name: "renamed.webm", comment: "hello", createdBy: "memofs test", creationDate: 42,
            trackers: [["http://127.0.0.1:1/a"]]))
        #expect(made.info.name == "renamed.webm")
        #expect(made.info.isSingleFile)
        #expect(made.comment == "hello")
        #expect(made.createdBy == "memofs test")
        #expect(made.creationDate == 42)
        #expect(made.announce == "http://127.0.0.1:1/a")
        #expect(made.announceList.isEmpty)  // one tracker: `announce` alone, as libtorrent writes it
        #expect(made.info.pieceHashes[2] == SHA1.hash(data[32768...]))
        let reparsed = try Metainfo(bytes: made.encoded())
        #expect(reparsed.infoHash == made.infoHash)
        #expect(reparsed.comment == "hello")
    }

    @Test func creationDateDefaultsToNow() throws {
        let folder = try TemporaryFolder()
        try folder.write("a", count: 10)
        let before = Int64(Date().timeIntervalSince1970)
        let made = try TorrentCreator.createBlocking(from: folder.path + "/a")
        let after = Int64(Date().timeIntervalSince1970)
        let date = try #require(made.creationDate)
        // Between the two readings of the wall clock, whichever way it went: on these VMs it
        // has been seen to step backwards between two readings.
        #expect(date >= min(before, after) && date <= max(before, after))
    }

    @Test func hashesPiecesThatSpanFiles() throws {
        let folder = try TemporaryFolder()
        let a = try folder.write("d/a", count: 10_000, seed: 1)
        let b = try folder.write("d/b", count: 10_000, seed: 2)
        let c = try folder.write("d/c", count: 30_000, seed: 3)
        let made = try TorrentCreator.createBlocking(from: folder.path + "/d/")
        let stream = a + b + c
        #expect(made.info.name == "d")
        #expect(made.info.pieceCount == 4)
        for index in 0..<4 {
            let piece = stream[(index * 16384)..<min((index + 1) * 16384, stream.count)]
            #expect(made.info.pieceHashes[index] == SHA1.hash(piece))
        }
    }

    @Test func hashesAcrossBatchBoundaries() throws {
        // More than one 32 MiB batch, with a last piece that ends mid-piece.
        let folder = try TemporaryFolder()
        let size = (PieceHasher.batchBytes + 3 * 65536 + 5)
        let data = try folder.write("big", count: size)
        let made = try TorrentCreator.createBlocking(from: folder.path + "/big", options: .init(pieceLength: 65536))
        #expect(made.info.pieceCount == (size + 65535) / 65536)
        let last = made.info.pieceCount - 1
        #expect(made.info.pieceHashes[last] == SHA1.hash(data[(last * 65536)...]))
        #expect(made.info.pieceHashes[512] == SHA1.hash(data[(512 * 65536)..<(513 * 65536)]))
    }

    @Test func leavesOutSymbolicLinks() throws {
        let folder = try TemporaryFolder()
        try folder.write("d/real", count: 100)
        try FileManager.default.createSymbolicLink(atPath: folder.path + "/d/link", withDestinationPath: "/etc/passwd")
        let made = try TorrentCreator.createBlocking(from: folder.path + "/d")
        #expect(made.info.files.map(\.pathString) == ["d/real"])
    }

    @Test func refusesWhatCannotBeShared() throws {
        let folder = try TemporaryFolder()
        try folder.write("empty", count: 0)
        try FileManager.default.createDirectory(atPath: folder.path + "/nothing", withIntermediateDirectories: true)
        try folder.write("ok", count: 10)
        #expect(throws: MetainfoError.io(path: folder.path + "/empty", reason: "there is no data to share (0 bytes)")) {
            try TorrentCreator.createBlocking(from: folder.path + "/empty")
        }
        #expect(throws: MetainfoError.io(path: folder.path + "/nothing", reason: "the folder holds no files")) {
            try TorrentCreator.createBlocking(from: folder.path + "/nothing")
        }
        #expect(throws: MetainfoError.io(path: folder.path + "/missing", reason: "No such file or directory")) {
            try TorrentCreator.createBlocking(from: folder.path + "/missing")
        }
        #expect(throws: MetainfoError.invalidValue(field: "piece length",
                                                   reason: "1000 is not a power of two from 16 KiB to 16 MiB")) {
            try TorrentCreator.createBlocking(from: folder.path + "/ok", options: .init(pieceLength: 1000))
        }
        #expect(throws: MetainfoError.unsafePath(file: "'..'", reason: "a path component is '..'")) {
            try TorrentCreator.createBlocking(from: folder.path + "/ok", options: .init(name: ".."))
        }
    }
}
