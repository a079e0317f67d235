@testable import Engine
import NIOCore
import NIOEmbedded
import PeerProtocol
import Testing
import TorrentModel

/// The decoder between the socket and the torrent: blocks take a path of their own (read
/// straight from the socket's bytes), and must come out as the generic decoder makes them,
/// whichever way the stream is cut into reads.
@Suite struct PeerWireDecoderTests {
    let handshake = Handshake(infoHash: InfoHash(bytes: Array(repeating: 7, count: 20))!,
                              peerID: PeerID(bytes: Array(repeating: 9, count: 20))!)

    func events(from stream: [UInt8], cuts: [Int]) throws -> [PeerWireEvent] {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(PeerWireDecoder()))
        var start = 0
        for cut in cuts + [stream.count] where cut > start {
            try channel.writeInbound(channel.allocator.buffer(bytes: stream[start..<min(cut, stream.count)]))
            start = min(cut, stream.count)
        }
        var events: [PeerWireEvent] = []
        while let event = try channel.readInbound(as: PeerWireEvent.self) { events.append(event) }
        _ = try? channel.finish()
        return events
    }

    @Test func blocksCutAcrossReadsDecodeLikeAnyMessage() throws {
        let block = (0..<16384).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let messages: [PeerMessage] = [.piece(piece: 3, begin: 16384, block: block), .have(piece: 5),
                                       .piece(piece: 4, begin: 0, block: []), .piece(piece: 1, begin: 32, block: [1, 2, 3])]
        let stream = handshake.encoded() + messages.flatMap { $0.encoded() }
        for cuts in [[], [1, 70, 80], [68 + 4, 68 + 13, 68 + 5000], Array(stride(from: 0, to: stream.count, by: 997))] {
            let decoded = try events(from: stream, cuts: cuts)
            #expect(decoded.count == 1 + messages.count)
            let got = decoded.dropFirst().compactMap { event -> PeerMessage? in
                if case .message(let message) = event { return message } else { return nil }
            }
            #expect(got == messages, "cut at \(cuts.prefix(5))")
        }
    }

    /// A piece message too short for its header is refused, as the generic decoder refuses it.
    @Test func aPieceTooShortForItsHeaderIsRefused() throws {
        let short: [UInt8] = [0, 0, 0, 5, PeerMessage.ID.piece, 0, 0, 0, 1]
        #expect(throws: (any Error).self) { try events(from: handshake.encoded() + short, cuts: []) }
    }
}
