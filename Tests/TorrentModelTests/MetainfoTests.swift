import Bencode
import Testing
@testable import TorrentModel

@Suite struct MetainfoTests {
    @Test func parsesASingleFileTorrentWithEveryTopLevelField() throws {
        let bytes = encodeTorrent(info: infoDictionary(files: nil, singleLength: 40000), top: [
            "announce": .string("http://127.0.0.1:6969/announce"),
            "announce-list": .list([.list([.string("http://a/announce"), .string("udp://b:1")]), .list([.string("http://c/x")])]),
            "url-list": .string("http://seed.example/file"),
            "comment": .string("a memo"),
            "created by": .string("test"),
            "creation date": .integer(1_700_000_000),
        ])
        let metainfo = try Metainfo(bytes: bytes)
        let info = metainfo.info
        #expect(info.name == "memo")
        #expect(info.isSingleFile)
        #expect(info.totalLength == 40000)
        #expect(info.pieceCount == 3)
        #expect(info.length(ofPiece: 0) == 16384)
        #expect(info.length(ofPiece: 2) == 40000 - 2 * 16384)
        #expect(info.files == [TorrentFile(path: ["memo"], length: 40000, offset: 0)])
        #expect(metainfo.announce == "http://127.0.0.1:6969/announce")
        #expect(metainfo.trackerTiers == [["http://a/announce", "udp://b:1"], ["http://c/x"]])
        #expect(metainfo.urlList == ["http://seed.example/file"])
        #expect(metainfo.comment == "a memo")
        #expect(metainfo.createdBy == "test")
        #expect(metainfo.creationDate == 1_700_000_000)
        #expect(!info.isPrivate)
    }

    @Test func parsesAMultiFileTorrentWithOffsets() throws {
        let bytes = encodeTorrent(info: infoDictionary(files: [
            (["a.webm"], 20000), (["empty"], 0), (["sub", "b.ogg"], 5),
        ]).merging(["private": .integer(1)]) { $1 })
        let info = try Metainfo(bytes: bytes).info
        #expect(!info.isSingleFile)
        #expect(info.isPrivate)
        #expect(info.files.map(\.pathString) == ["memo/a.webm", "memo/empty", "memo/sub/b.ogg"])
        #expect(info.files.map(\.offset) == [0, 20000, 20000])
        #expect(info.totalLength == 20005)
        #expect(info.pieceCount == 2)
    }

    /// The info hash is taken over the original bytes, so keys memofs does not know
    /// (here `source` and `x-custom`) still count.
    @Test func infoHashCoversTheOriginalBytes() throws {
        var info = infoDictionary(files: nil)
        info["source"] = .string("somewhere")
        info["x-custom"] = .list([.integer(1)])
        let bytes = encodeTorrent(info: info, top: ["comment": .string("outside the hash")])
        let metainfo = try Metainfo(bytes: bytes)
        let root = try BencodeDecoder().decodeNode(bytes)
        let infoRange = try #require(root["info"]).range
        #expect(metainfo.infoHash.digest == SHA1.hash(bytes[infoRange]))
        #expect(metainfo.info.rawBytes == Array(bytes[infoRange]))
        // Writing the torrent again keeps the hash and the fields.
        let again = try Metainfo(bytes: metainfo.encoded())
        #expect(again.infoHash == metainfo.infoHash)
        #expect(again.comment == "outside the hash")
        // The same info dictionary parsed alone (as BEP 9 delivers it) gives the same hash.
        #expect(try TorrentInfo(bytes: metainfo.info.rawBytes).infoHash == metainfo.infoHash)
    }

    @Test func prefersUTF8VariantsAndReplacesBadUTF8() throws {
        var info = infoDictionary(files: nil)
        info["name"] = .bytes([0x6d, 0xe9, 0x6d, 0x6f])  // Latin-1 "mémo"
        #expect(try Metainfo(bytes: encodeTorrent(info: info)).info.name == "m\u{FFFD}mo")
        info["name.utf-8"] = .string("mémo")
        #expect(try Metainfo(bytes: encodeTorrent(info: info)).info.name == "mémo")
    }

    @Test func readsPaddingFiles() throws {
        var info = infoDictionary(files: [(["a"], 100), ([".pad", "16284"], 16284), (["b"], 10)])
        var files = info["files"]!.list!
        files[1] = .dict(["attr": .string("p"), "length": .integer(16284), "path": .list([.string(".pad"), .string("16284")])])
        info["files"] = .list(files)
        let parsed = try Metainfo(bytes: encodeTorrent(info: info)).info
        #expect(parsed.files.map(\.isPadding) == [false, true, false])
    }

    // MARK: hostile metainfo

    @Test(arguments: [
        (["..", "etc", "passwd"], "a path component is '..'"),
        (["a", "..", "..", "b"], "a path component is '..'"),
        (["."], "a path component is '.'"),
        (["/etc/passwd"], "a path component contains '/'"),
        (["a/../../b"], "a path component contains '/'"),
        (["a", ""], "a path component is empty"),
        (["nul\u{0}byte"], "a path component contains a NUL byte"),
        ([String(repeating: "x", count: 256)], "a path component is longer than 255 bytes"),
    ])
    func refusesUnsafeFilePaths(path: [String], reason: String) {
        let bytes = encodeTorrent(info: infoDictionary(files: [(["ok"], 10), (path, 10)]))
        #expect {
            try Metainfo(bytes: bytes)
        } throws: { error in
            guard case MetainfoError.unsafePath(_, let why) = error else { return false }
            return why == reason
        }
    }

    @Test(arguments: ["..", ".", "", "/etc", "/", "a/b", "x\u{0}"])
    func refusesUnsafeNames(name: String) {
        for files in [nil, [(path: ["f"], length: Int64(10))]] as [[(path: [String], length: Int64)]?] {
            let bytes = encodeTorrent(info: infoDictionary(name: name, files: files))
            #expect {
                try Metainfo(bytes: bytes)
            } throws: { error in
                if case MetainfoError.unsafePath = error { return true }
                return false
            }
        }
    }

    @Test func refusesAnEmptyPathList() {
        let bytes = encodeTorrent(info: infoDictionary(files: [([], 10)]))
        #expect(throws: MetainfoError.invalidValue(field: "info.files[0].path", reason: "the path is empty")) {
            try Metainfo(bytes: bytes)
        }
    }

    @Test func refusesTwoFilesWithOnePath() {
        let bytes = encodeTorrent(info: infoDictionary(files: [(["a"], 10), (["a"], 10)]))
        #expect(throws: MetainfoError.unsafePath(file: "'memo/a'", reason: "two files have this path")) {
            try Metainfo(bytes: bytes)
        }
    }

    @Test func refusesAPathThatIsBothFileAndFolder() {
        let bytes = encodeTorrent(info: infoDictionary(files: [(["a"], 10), (["a", "b"], 10)]))
        #expect(throws: MetainfoError.unsafePath(file: "'memo/a'", reason: "it is both a file and a folder")) {
            try Metainfo(bytes: bytes)
        }
    }

    @Test func refusesLengthsThatDoNotAddUp() {
        var info = infoDictionary(files: nil, singleLength: 40000)
        info["length"] = .integer(60000)  // 4 pieces' worth, but 3 hashes
        #expect(throws: MetainfoError.inconsistent(
            "60000 bytes in pieces of 16384 make 4 pieces, but 'pieces' holds 3 hashes")) {
            try Metainfo(bytes: encodeTorrent(info: info))
        }
        info["length"] = .integer(-1)
        #expect(throws: MetainfoError.invalidValue(field: "info.length", reason: "-1 is negative")) {
            try Metainfo(bytes: encodeTorrent(info: info))
        }
        info["length"] = .integer(0)
        info["pieces"] = .bytes([])
        #expect(throws: MetainfoError.invalidValue(field: "info", reason: "the torrent holds no data (total length 0)")) {
            try Metainfo(bytes: encodeTorrent(info: info))
        }
    }

    @Test func refusesFileLengthsThatOverflow() {
        let bytes = encodeTorrent(info: infoDictionary(files: [(["a"], 1), (["b"], 0)]).merging([
            "files": .list([
                .dict(["length": .integer(.max), "path": .list([.string("a")])]),
                .dict(["length": .integer(.max), "path": .list([.string("b")])]),
            ]),
        ]) { $1 })
        #expect(throws: MetainfoError.tooLarge("the file lengths add up to more than 2^63 bytes")) {
            try Metainfo(bytes: bytes)
        }
    }

    @Test func refusesAbsurdPieceCountsAndLengths() {
        // A terabyte in 16 KiB pieces wants 2^26 hashes; the torrent has one.
        var info = infoDictionary(files: nil, singleLength: 1)
        info["length"] = .integer(1 << 40)
        #expect { try Metainfo(bytes: encodeTorrent(info: info)) } throws: { error in
            if case MetainfoError.inconsistent = error { return true }
            return false
        }
        // More hashes than the cap: refused before anything is done with them.
        let limits = BencodeDecoder.Limits(maxStringLength: 200 << 20)
        var huge = infoDictionary(files: nil, singleLength: 1)
        huge["pieces"] = .bytes([UInt8](repeating: 0, count: (TorrentInfo.maxPieceCount + 1) * 20))
        #expect(throws: MetainfoError.tooLarge("4194305 pieces, more than the limit of 4194304")) {
            try Metainfo(bytes: encodeTorrent(info: huge), limits: limits)
        }
        for bad: Int64 in [0, -16384, Int64(TorrentInfo.maxPieceLength) + 1] {
            var info = infoDictionary(files: nil)
            info["piece length"] = .integer(bad)
            #expect { try Metainfo(bytes: encodeTorrent(info: info)) } throws: { error in
                if case MetainfoError.invalidValue(field: "info.piece length", _) = error { return true }
                return false
            }
        }
    }

    @Test func refusesPiecesThatAreNotWholeHashes() {
        var info = infoDictionary(files: nil)
        info["pieces"] = .bytes([UInt8](repeating: 1, count: 59))
        #expect(throws: MetainfoError.invalidValue(field: "info.pieces", reason: "its length 59 is not a multiple of 20")) {
            try Metainfo(bytes: encodeTorrent(info: info))
        }
    }

    @Test func refusesMissingAndMistypedFields() {
        for (key, replacement, expected) in [
            ("name", nil, MetainfoError.missingField("info.name")),
            ("piece length", nil, .missingField("info.piece length")),
            ("pieces", nil, .missingField("info.pieces")),
            ("length", nil, .missingField("info.length or info.files")),
            ("piece length", .string("16384"), .wrongType(field: "info.piece length", expected: "an integer")),
            ("pieces", .integer(3), .wrongType(field: "info.pieces", expected: "a byte string")),
            ("length", .string("x"), .wrongType(field: "info.length", expected: "an integer")),
            ("files", .list([]), .inconsistent("the info dictionary has both 'length' and 'files'")),
        ] as [(String, BencodeValue?, MetainfoError)] {
            var info = infoDictionary(files: nil)
            info[key] = replacement
            #expect(throws: expected) { try Metainfo(bytes: encodeTorrent(info: info)) }
        }
        #expect(throws: MetainfoError.missingField("info")) {
            try Metainfo(bytes: Bencode.encode(.dict(["announce": .string("x")])))
        }
        #expect(throws: MetainfoError.wrongType(field: "(top level)", expected: "a dictionary")) {
            try Metainfo(bytes: Array("li1ee".utf8))
        }
    }

    @Test func refusesNonCanonicalInfoWithTheOffset() throws {
        var bytes = encodeTorrent(info: infoDictionary(files: nil))
        // Turn "i20000e" into "i020000"-style garbage: insert a leading zero.
        let marker = Array("6:lengthi".utf8)
        let at = try #require((0...(bytes.count - marker.count)).first { Array(bytes[$0..<($0 + marker.count)]) == marker })
        bytes.insert(UInt8(ascii: "0"), at: at + marker.count)
        #expect(throws: MetainfoError.notBencode(BencodeError(.leadingZero, at: at + marker.count))) {
            try Metainfo(bytes: bytes)
        }
    }

    @Test func errorMessagesSayWhatIsWrong() {
        #expect(MetainfoError.unsafePath(file: "'memo/..'", reason: "a path component is '..'").description
                == "unsafe file name 'memo/..' in torrent: a path component is '..'")
        #expect(MetainfoError.missingField("info").description == "torrent has no 'info'")
    }

    @Test func mutatedTorrentsNeverCrash() throws {
        let original = encodeTorrent(info: infoDictionary(files: [(["a"], 30000), (["b", "c"], 7)]),
                                     top: ["announce": .string("http://127.0.0.1/a")])
        var state: UInt64 = 12345
        func next() -> Int { state = state &* 6364136223846793005 &+ 1442695040888963407; return Int(state >> 33) }
        var accepted = 0
        for _ in 0..<20_000 {
            var bytes = original
            for _ in 0..<(1 + next() % 3) { bytes[next() % bytes.count] = UInt8(truncatingIfNeeded: next()) }
            if let parsed = try? Metainfo(bytes: bytes) {
                accepted += 1
                // Whatever is accepted has safe names.
                for file in parsed.info.files { #expect(file.path.allSatisfy { SafePath.problem(with: $0) == nil }) }
            }
        }
        #expect(accepted < 20_000)
    }
}
