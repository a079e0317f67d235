@testable import Engine
import PeerProtocol
import TestSupport
import Testing
import TorrentModel

/// The one decoder between the socket and the torrent: every message type comes out as it
/// went in, however the stream is cut into reads; frames that cannot be trusted are refused
/// with the reason; a length prefix over ``PeerMessage/maxLength`` is refused before its body.
@Suite struct PeerWireDecoderTests {
    let expected = sampleMessages + sampleMessages.reversed()
    var stream: [UInt8] { wireStream(expected) }

    @Test func everyMessageTypeInOneRead() {
        let feed = WireFeed.decode(stream)
        #expect(feed.handshakeDecoded)
        #expect(feed.messages == expected)
        #expect(feed.error == nil)
    }

    @Test func byteByByte() {
        let stream = stream
        let feed = WireFeed.decode(stream, cuts: Array(1..<stream.count))
        #expect(feed.messages == expected)
        #expect(feed.error == nil)
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func randomReads(seed: UInt64) {
        var generator = SeededGenerator(seed: seed)
        let stream = stream
        var cuts: [Int] = []
        var offset = 0
        while offset < stream.count {
            offset += Int.random(in: 1...20_000, using: &generator)
            cuts.append(offset)
        }
        let feed = WireFeed.decode(stream, cuts: cuts)
        #expect(feed.messages == expected)
        #expect(feed.error == nil)
    }

    /// Cut anywhere, the handshake and the stream give the messages whose frames are whole,
    /// no more, and the rest once the remainder arrives.
    @Test func aStreamCutAtEveryByteBoundaryDecodesTheSame() {
        let messages = sampleMessages.filter { $0.encoded().count < 2000 }
        let stream = WireFeed.handshake.encoded() + wireStream(messages)
        var frameEnds: [Int] = []
        var end = Handshake.length
        for message in messages {
            end += message.encoded().count
            frameEnds.append(end)
        }
        for cut in 0...stream.count {
            var feed = WireFeed(withHandshake: false)
            feed.read(stream[..<cut])
            #expect(feed.handshakeDecoded == (cut >= Handshake.length), "cut at \(cut)")
            #expect(feed.messages == Array(messages.prefix(frameEnds.filter { $0 <= cut }.count)), "cut at \(cut)")
            feed.read(stream[cut...])
            #expect(feed.handshakeDecoded)
            #expect(feed.messages == messages, "cut at \(cut)")
            #expect(feed.error == nil, "cut at \(cut)")
        }
    }

    @Test func blocksCutAcrossReadsDecodeLikeAnyMessage() {
        let block = (0..<16384).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let messages: [PeerMessage] = [.piece(piece: 3, begin: 16384, block: block), .have(piece: 5),
                                       .piece(piece: 4, begin: 0, block: []), .piece(piece: 1, begin: 32, block: [1, 2, 3])]
        let stream = wireStream(messages)
        for cuts in [[], [2, 4, 12], [4, 13, 5000], Array(stride(from: 0, to: stream.count, by: 997))] {
            let feed = WireFeed.decode(stream, cuts: cuts)
            #expect(feed.messages == messages, "cut at \(cuts.prefix(5))")
        }
    }

    @Test func refusesAnOversizedPrefixBeforeItsBody() {
        let tooLong = PeerMessage.maxLength + 1
        var feed = WireFeed()
        feed.read(PeerMessage.have(piece: 1).encoded() + be32(UInt32(tooLong)))
        #expect(feed.messages == [.have(piece: 1)], "what came before is delivered")
        #expect(feed.wireError == .messageTooLong(length: tooLong, limit: PeerMessage.maxLength))

        let huge = WireFeed.decode([0xff, 0xff, 0xff, 0xff])
        #expect(huge.wireError == .messageTooLong(length: Int(UInt32.max), limit: PeerMessage.maxLength))

        // A prefix at the limit waits for its body.
        let atLimit = WireFeed.decode(be32(UInt32(PeerMessage.maxLength)) + [99])
        #expect(atLimit.error == nil)
        #expect(atLimit.messages.isEmpty)
    }

    /// The largest messages well-behaved peers send, which ``PeerMessage/maxLength`` is there to let through.
    @Test func acceptsTheLargestMessagesPeersSend() {
        let bitfield = PeerMessage.bitfield([UInt8](repeating: 0xff, count: TorrentInfo.maxPieceCount / 8))
        let oldClientBlock = PeerMessage.piece(piece: 1, begin: 0, block: [UInt8](repeating: 3, count: 128 << 10))
        let hashes = PeerMessage.hashes(HashRequest(piecesRoot: Array(repeating: 2, count: 32), base: 0, index: 0,
                                                    count: 512, proofLayers: 30),
                                        [UInt8](repeating: 4, count: (512 + 30) * 32))
        let metadataPiece = PeerMessage.extended(
            id: 2, payload: MetadataMessage.data(piece: 0, totalSize: 1 << 24, bytes: [UInt8](repeating: 5, count: 16384)).encoded())
        let atLimit = PeerMessage.unknown(id: 99, payload: [UInt8](repeating: 1, count: PeerMessage.maxLength - 1))
        let messages = [bitfield, oldClientBlock, hashes, metadataPiece, atLimit]
        let feed = WireFeed.decode(wireStream(messages), cuts: [70_000, 300_000, 600_000])
        #expect(feed.messages == messages)
        #expect(feed.error == nil)
    }

    @Test func aBadPayloadIsRefusedWithItsReason() {
        let feed = WireFeed.decode([0, 0, 0, 3, PeerMessage.ID.have, 0, 0] + PeerMessage.choke.encoded())
        #expect(feed.wireError == .payloadLength(message: "have", actual: 2, expected: "4"))
        #expect(feed.messages.isEmpty, "nothing after a broken frame is trusted")
    }

    /// A piece message too short for its header is refused, as the generic decoder refuses it.
    @Test func aPieceTooShortForItsHeaderIsRefused() {
        let feed = WireFeed.decode([0, 0, 0, 5, PeerMessage.ID.piece, 0, 0, 0, 1])
        #expect(feed.wireError == .payloadLength(message: "piece", actual: 4, expected: "at least 8"))
    }

    @Test func aStreamThatIsNotBitTorrentIsRefused() {
        var feed = WireFeed(withHandshake: false)
        feed.read(Array("GET / HTTP/1.1\r\nHost: example\r\n\r\n".utf8) + [UInt8](repeating: 0, count: 40))
        #expect(feed.wireError == .notBitTorrentHandshake)
        #expect(!feed.handshakeDecoded)
    }

    @Test func aLongSessionInOddReads() {
        let messages = (0..<2_000).map {
            PeerMessage.piece(piece: UInt32($0), begin: 0, block: [UInt8](repeating: UInt8($0 & 0xff), count: 1000))
        }
        let stream = wireStream(messages)
        let feed = WireFeed.decode(stream, cuts: Array(stride(from: 1337, to: stream.count, by: 1337)))
        #expect(feed.messages == messages)
    }
}
