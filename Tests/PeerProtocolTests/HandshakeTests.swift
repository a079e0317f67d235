import TestSupport
import Testing
import TorrentModel
@testable import PeerProtocol

@Suite struct HandshakeTests {
    /// The layout BEP 3 gives: pstrlen, pstr, reserved, info_hash, peer_id.
    let handWritten: [UInt8] = [19] + Array("BitTorrent protocol".utf8)
        + [0, 0, 0, 0, 0, 0x10, 0, 0x05] + Array(1...20) + Array("-MF0100-abcdefghijkl".utf8)

    @Test func encodesTheBEP3Layout() {
        let handshake = Handshake(infoHash: sampleInfoHash, peerID: samplePeerID)
        #expect(handshake.encoded() == handWritten)
        #expect(handshake.encoded().count == Handshake.length)
    }

    @Test func decodesAndRoundTrips() throws {
        let handshake = try Handshake(decoding: handWritten)
        #expect(handshake.infoHash == sampleInfoHash)
        #expect(handshake.peerID == samplePeerID)
        #expect(handshake.reserved == Handshake.memofsReserved)
        #expect(try Handshake(decoding: handshake.encoded()) == handshake)
        // Any collection works, not only arrays.
        #expect(try Handshake(decoding: handWritten[...]) == handshake)
    }

    @Test func memofsAnnouncesExtensionFastAndDHT() {
        let handshake = Handshake(infoHash: sampleInfoHash, peerID: samplePeerID)
        #expect(handshake.supportsExtensionProtocol)
        #expect(handshake.supportsFastExtension)
        #expect(handshake.supportsDHT)
        #expect(Handshake.memofsReserved == [0, 0, 0, 0, 0, 0x10, 0, 0x05])
    }

    @Test func featureBitsReadAndWriteTheirOwnBit() {
        var handshake = Handshake(infoHash: sampleInfoHash, peerID: samplePeerID, reserved: [UInt8](repeating: 0, count: 8))
        #expect(!handshake.supportsExtensionProtocol && !handshake.supportsFastExtension && !handshake.supportsDHT)
        handshake.supportsFastExtension = true
        #expect(handshake.reserved == [0, 0, 0, 0, 0, 0, 0, 0x04])
        handshake.supportsExtensionProtocol = true
        handshake.supportsDHT = true
        handshake.supportsFastExtension = false
        #expect(handshake.reserved == [0, 0, 0, 0, 0, 0x10, 0, 0x01])
    }

    @Test func keepsUnknownReservedBits() throws {
        var bytes = handWritten
        bytes[20] = 0x80  // some other client's extension bit
        let handshake = try Handshake(decoding: bytes)
        #expect(handshake.reserved[0] == 0x80)
        #expect(handshake.encoded() == bytes)
    }

    @Test(arguments: [0, 1, 67, 69, 100])
    func refusesWrongLength(count: Int) {
        let bytes = Array((handWritten + handWritten).prefix(count))
        #expect(throws: PeerWireError.handshakeLength(count)) { try Handshake(decoding: bytes) }
        #expect(PeerWireError.handshakeLength(67).description == "handshake has 67 bytes, expected 68")
    }

    @Test func refusesOtherProtocols() {
        var wrongLength = handWritten
        wrongLength[0] = 18
        #expect(throws: PeerWireError.notBitTorrentHandshake) { try Handshake(decoding: wrongLength) }
        var wrongName = handWritten
        wrongName[1] = UInt8(ascii: "b")
        #expect(throws: PeerWireError.notBitTorrentHandshake) { try Handshake(decoding: wrongName) }
    }
}
