import Testing
@testable import PeerProtocol
import TorrentModel

/// BEP 52's hash request, hashes and hash reject messages, and the v2 handshake bit.
@Suite struct HashMessageTests {
    static let root = (0..<32).map { UInt8($0 * 7 & 0xff) }
    static let request = HashRequest(piecesRoot: root, base: 0, index: 16, count: 16, proofLayers: 0)

    @Test func framesAreLaidOutAsBEP52Says() {
        // <len=0049><id=21><pieces root><base layer><index><length><proof layers>
        let frame = PeerMessage.hashRequest(Self.request).encoded()
        #expect(frame == [0, 0, 0, 49, 21] + Self.root + [0, 0, 0, 0, 0, 0, 0, 16, 0, 0, 0, 16, 0, 0, 0, 0])
        let hashes = [UInt8](repeating: 0xab, count: 64)
        #expect(PeerMessage.hashes(Self.request, hashes).encoded() == [0, 0, 0, 113, 22] + Array(frame[5...]) + hashes)
        #expect(PeerMessage.hashReject(Self.request).encoded() == [0, 0, 0, 49, 23] + Array(frame[5...]))
    }

    @Test(arguments: [
        PeerMessage.hashRequest(request), .hashReject(request), .hashes(request, []),
        .hashes(HashRequest(piecesRoot: root, base: 4, index: 0, count: 2, proofLayers: 3), [UInt8](repeating: 9, count: 5 * 32)),
    ])
    func roundTrips(message: PeerMessage) throws {
        let frame = message.encoded()
        #expect(try PeerMessage(id: frame[4], payload: frame[5...]) == message)
    }

    @Test func refusesBrokenLengths() {
        let body = Array(PeerMessage.hashRequest(Self.request).encoded()[5...])
        #expect(throws: PeerWireError.self) { try PeerMessage(id: 21, payload: body.dropLast()) }
        #expect(throws: PeerWireError.self) { try PeerMessage(id: 21, payload: body + [0]) }
        #expect(throws: PeerWireError.self) { try PeerMessage(id: 23, payload: body + [0]) }
        #expect(throws: PeerWireError.self) { try PeerMessage(id: 22, payload: body.dropLast()) }
        // A hash is 32 bytes: 31 more is a truncated message.
        #expect(throws: PeerWireError.self) { try PeerMessage(id: 22, payload: body + [UInt8](repeating: 0, count: 31)) }
        #expect(PeerMessage.name(ofID: 22) == "hashes")
    }

    @Test func theV2BitIsByte7Bit0x10() throws {
        var handshake = Handshake(infoHash: .init(bytes: [UInt8](repeating: 1, count: 20))!, peerID: .init(bytes: [UInt8](repeating: 2, count: 20))!)
        #expect(!handshake.supportsV2)
        handshake.supportsV2 = true
        #expect(handshake.reserved[7] == Handshake.memofsReserved[7] | 0x10)
        #expect(try Handshake(decoding: handshake.encoded()).supportsV2)
    }
}
