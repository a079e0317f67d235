import Testing
@testable import TorrentModel

@Suite struct SHA1Tests {
    @Test func matchesKnownVectors() {
        #expect(SHA1.hash(Array("abc".utf8)).hex == "a9993e364706816aba3e25717850c26c9cd0d89d")
        #expect(SHA1.hash([UInt8]()).hex == "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        let million = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
        #expect(SHA1.hash(million).hex == "34aa973cd4c4daa4f61eeb2bdbad27316534016f")
    }

    @Test func incrementalHashingMatchesOneShot() {
        let data = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let hasher = SHA1Hasher()
        hasher.update(data[0..<1])
        hasher.update(data[1..<16384])
        hasher.update(data[16384...])
        #expect(hasher.finish() == SHA1.hash(data))
        // The hasher resets after finish.
        hasher.update(Array("abc".utf8))
        #expect(hasher.finish().hex == "a9993e364706816aba3e25717850c26c9cd0d89d")
    }

    @Test func parallelPieceHashingMatchesOneByOne() {
        let data = (0..<(5 * 16384 + 123)).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
        let digests = data.withUnsafeBytes { PieceHasher.hashPieces($0, pieceLength: 16384) }
        #expect(digests.count == 6)
        for index in 0..<6 {
            let piece = data[(index * 16384)..<min((index + 1) * 16384, data.count)]
            #expect(digests[index] == SHA1.hash(piece))
        }
    }

    @Test func infoHashReadsHexAndBase32() throws {
        let hex = try #require(InfoHash(magnetForm: "00443214C74254B635CF84653A56D7C675BE77DF"))
        let base32 = try #require(InfoHash(magnetForm: "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"))
        #expect(hex == base32)
        #expect(base32.base32 == "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        #expect(InfoHash(magnetForm: String(repeating: "g", count: 40)) == nil)
        #expect(InfoHash(magnetForm: String(repeating: "1", count: 32)) == nil)
        #expect(InfoHash(magnetForm: "abc") == nil)
    }
}
