import TestSupport
import Bencode
import TorrentModel
import Testing
@testable import PeerProtocol

/// Random and mutated input into every decoder: each must return or throw, never crash.
/// Seeded, with bounded iterations, so a failure reproduces. The wire decoder that frames
/// these messages is fuzzed with the engine (EngineTests/PeerWireDecoderFuzzTests).
@Suite struct FuzzTests {
    @Test func messageDecoderOnEveryIDWithRandomPayloads() {
        var generator = SeededGenerator(seed: 7)
        for id in UInt8.min...UInt8.max {
            for length in [0, 1, 2, 3, 4, 5, 7, 8, 9, 11, 12, 13, 40] {
                let payload = generator.bytes(length)
                if let message = try? PeerMessage(id: id, payload: payload) {
                    // Whatever decodes re-encodes to the same frame.
                    #expect(message.encoded() == [0, 0, 0, UInt8(length + 1), id] + payload)
                }
            }
        }
    }

    @Test func handshakeOnRandomBytes() {
        var generator = SeededGenerator(seed: 3)
        let valid = Handshake(infoHash: sampleInfoHash, peerID: samplePeerID).encoded()
        for _ in 0..<500 {
            var bytes = Bool.random(using: &generator) ? valid : generator.bytes(Int.random(in: 60...70, using: &generator))
            if !bytes.isEmpty { bytes[Int.random(in: 0..<bytes.count, using: &generator)] ^= 0x41 }
            if let handshake = try? Handshake(decoding: bytes) { #expect(handshake.encoded() == bytes) }
        }
    }

    @Test func extensionHandshakeAndMetadataOnMutatedInput() throws {
        var generator = SeededGenerator(seed: 99)
        let seeds: [[UInt8]] = [
            ExtensionHandshake(extensions: ["ut_metadata": 2, "ut_pex": 1], client: "libtorrent", listenPort: 6881,
                               requestQueueLength: 500, metadataSize: 31235, yourIP: [127, 0, 0, 1]).encoded(),
            MetadataMessage.request(piece: 3).encoded(),
            MetadataMessage.data(piece: 1, totalSize: 20000, bytes: generator.bytes(100)).encoded(),
            MetadataMessage.reject(piece: 0).encoded(),
        ]
        for _ in 0..<2000 {
            var bytes = seeds[Int.random(in: 0..<seeds.count, using: &generator)]
            switch Int.random(in: 0..<3, using: &generator) {
            case 0: bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            case 1: bytes = Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &generator)))
            default: bytes = generator.bytes(Int.random(in: 0...64, using: &generator))
            }
            if let handshake = try? ExtensionHandshake(decoding: bytes) {
                #expect(try ExtensionHandshake(decoding: handshake.encoded()) == handshake)
            }
            if let message = try? MetadataMessage(decoding: bytes) {
                #expect(try MetadataMessage(decoding: message.encoded()) == message)
            }
        }
    }

    @Test func assemblerOnRandomPieces() throws {
        var generator = SeededGenerator(seed: 5)
        let info = sampleInfoBytes(minimumSize: 40_000)
        var assembler = try MetadataAssembler(infoHash: InfoHash(SHA1.hash(info)), totalSize: info.count)
        for _ in 0..<200 {
            let index = Int.random(in: -1...assembler.pieceCount, using: &generator)
            let length = Bool.random(using: &generator) && index >= 0 && index < assembler.pieceCount
                ? assembler.expectedLength(ofPiece: index) : Int.random(in: 0...16385, using: &generator)
            _ = try? assembler.receive(piece: index, bytes: generator.bytes(length))
        }
    }
}
