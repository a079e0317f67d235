import TestSupport
import Bencode
import Testing
import TorrentModel
@testable import PeerProtocol

@Suite struct MetadataAssemblerTests {
    let info = sampleInfoBytes(minimumSize: 50_000)
    var infoHash: InfoHash { InfoHash(SHA1.hash(info)) }

    @Test func sampleIsAValidMultiPieceInfoDictionary() throws {
        #expect(info.count > 3 * 16384)
        #expect(try TorrentInfo(bytes: info).infoHash == infoHash)
        let pieces = metadataPieces(info)
        #expect(pieces.count == 4)
        #expect(pieces.dropLast().allSatisfy { $0.count == 16384 })
        #expect(pieces.last!.count == info.count - 3 * 16384)
        #expect(pieces.flatMap { $0 } == info)
    }

    @Test func assemblesInOrder() throws {
        var assembler = try MetadataAssembler(infoHash: infoHash, totalSize: info.count)
        #expect(assembler.pieceCount == 4)
        #expect(assembler.missingPieces() == [0, 1, 2, 3])
        let pieces = metadataPieces(info)
        for index in 0..<3 {
            #expect(try assembler.receive(piece: index, bytes: pieces[index]) == nil)
        }
        #expect(assembler.missingPieces() == [3])
        let torrent = try #require(try assembler.receive(piece: 3, bytes: pieces[3]))
        #expect(torrent.infoHash == infoHash)
        #expect(torrent.rawBytes == info)
        #expect(torrent.name == "memo.mkv")
        #expect(assembler.missingPieces() == [])
    }

    @Test func assemblesOutOfOrderAndWithDuplicates() throws {
        var assembler = try MetadataAssembler(infoHash: infoHash, totalSize: info.count)
        let pieces = metadataPieces(info)
        #expect(try assembler.receive(piece: 2, bytes: pieces[2]) == nil)
        #expect(try assembler.receive(piece: 3, bytes: pieces[3]) == nil)
        #expect(try assembler.receive(piece: 2, bytes: pieces[2]) == nil)
        #expect(try assembler.receive(piece: 0, bytes: pieces[0]) == nil)
        #expect(assembler.missingPieces() == [1])
        #expect(assembler.receivedPieceCount == 3)
        #expect(try assembler.receive(piece: 1, bytes: pieces[1])?.infoHash == infoHash)
    }

    @Test func singlePieceMetadata() throws {
        let small = sampleInfoBytes(minimumSize: 100)
        var assembler = try MetadataAssembler(infoHash: InfoHash(SHA1.hash(small)), totalSize: small.count)
        #expect(assembler.pieceCount == 1)
        #expect(try assembler.receive(piece: 0, bytes: small) != nil)
    }

    @Test func refusesWrongLengthsAndIndices() throws {
        var assembler = try MetadataAssembler(infoHash: infoHash, totalSize: info.count)
        let pieces = metadataPieces(info)
        #expect(throws: PeerWireError.metadataPieceLength(piece: 0, actual: 16383, expected: 16384)) {
            try assembler.receive(piece: 0, bytes: Array(pieces[0].dropLast()))
        }
        #expect(throws: PeerWireError.metadataPieceLength(piece: 3, actual: 16384, expected: pieces[3].count)) {
            try assembler.receive(piece: 3, bytes: pieces[0])
        }
        #expect(throws: PeerWireError.metadataPieceOutOfRange(piece: 4, pieceCount: 4)) {
            try assembler.receive(piece: 4, bytes: pieces[3])
        }
        #expect(throws: PeerWireError.metadataPieceOutOfRange(piece: -1, pieceCount: 4)) {
            try assembler.receive(piece: -1, bytes: pieces[0])
        }
        #expect(assembler.missingPieces() == [0, 1, 2, 3])
        #expect(PeerWireError.metadataPieceLength(piece: 0, actual: 16383, expected: 16384).description
                == "metadata piece 0 has 16383 bytes, expected 16384")
    }

    @Test func corruptedPieceResetsEverything() throws {
        var assembler = try MetadataAssembler(infoHash: infoHash, totalSize: info.count)
        var pieces = metadataPieces(info)
        pieces[1][100] ^= 0x01
        for index in [0, 1, 2] { _ = try assembler.receive(piece: index, bytes: pieces[index]) }
        let actual = InfoHash(SHA1.hash(pieces.flatMap { $0 }))
        #expect(throws: PeerWireError.metadataHashMismatch(expected: infoHash, actual: actual)) {
            try assembler.receive(piece: 3, bytes: pieces[3])
        }
        #expect(assembler.missingPieces() == [0, 1, 2, 3])
        // Fetched again, from an honest peer, it completes.
        let good = metadataPieces(info)
        for index in [3, 2, 1] { #expect(try assembler.receive(piece: index, bytes: good[index]) == nil) }
        #expect(try assembler.receive(piece: 0, bytes: good[0]) != nil)
    }

    @Test func validHashButInvalidInfoResets() throws {
        let notInfo = BencodeEncoder.encode(.dict(["foo": .integer(1)]))
        var assembler = try MetadataAssembler(infoHash: InfoHash(SHA1.hash(notInfo)), totalSize: notInfo.count)
        do {
            _ = try assembler.receive(piece: 0, bytes: notInfo)
            Issue.record("an info dictionary without a name was accepted")
        } catch {
            guard case .invalidMetadata(.missingField("info.name")) = error else {
                Issue.record("wrong error \(error)"); return
            }
            #expect(error.description.hasPrefix("metadata matches the info hash but is not a valid info dictionary"))
        }
        #expect(assembler.missingPieces() == [0])
    }

    @Test func refusesSizesOutOfRange() {
        for size in [0, -1, ExtensionHandshake.maxMetadataSize + 1] {
            #expect(throws: PeerWireError.metadataSizeOutOfRange(size)) {
                try MetadataAssembler(infoHash: sampleInfoHash, totalSize: size)
            }
        }
        #expect((try? MetadataAssembler(infoHash: sampleInfoHash, totalSize: ExtensionHandshake.maxMetadataSize))?.pieceCount == 1024)
    }

    @Test func servingSidePieces() {
        let raw = [UInt8](repeating: 1, count: 16384 * 2 + 5)
        #expect(MetadataAssembler.piece(0, of: raw)?.count == 16384)
        #expect(MetadataAssembler.piece(2, of: raw) == [1, 1, 1, 1, 1])
        #expect(MetadataAssembler.piece(3, of: raw) == nil)
        #expect(MetadataAssembler.piece(-1, of: raw) == nil)
        #expect(MetadataAssembler.piece(0, of: []) == nil)
        let exact = [UInt8](repeating: 2, count: 16384)
        #expect(MetadataAssembler.piece(0, of: exact) == exact)
        #expect(MetadataAssembler.piece(1, of: exact) == nil)
    }

    @Test func exchangeThroughMessages() throws {
        // A serving side answers requests; the fetching side decodes and assembles.
        var assembler = try MetadataAssembler(infoHash: infoHash, totalSize: info.count)
        var result: TorrentInfo?
        for index in assembler.missingPieces().reversed() {
            let request = try MetadataMessage(decoding: MetadataMessage.request(piece: index).encoded())
            let bytes = try #require(MetadataAssembler.piece(request.piece, of: info))
            let reply = MetadataMessage.data(piece: index, totalSize: info.count, bytes: bytes)
            guard case .data(let piece, let total, let received) = try MetadataMessage(decoding: reply.encoded()) else {
                Issue.record("not data"); return
            }
            #expect(total == info.count)
            result = try assembler.receive(piece: piece, bytes: received)
        }
        #expect(result?.infoHash == infoHash)
    }
}
