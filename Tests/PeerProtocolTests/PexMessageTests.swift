import Bencode
import Testing
import TorrentModel
@testable import PeerProtocol

@Suite struct PexMessageTests {
    @Test func roundTripsBothFamilies() throws {
        let message = PexMessage(added: [PeerAddress("127.0.0.2:6881")!, PeerAddress("[::1]:51413")!],
                                 addedFlags: [PexMessage.seedFlag, 0], dropped: [PeerAddress("10.0.0.9:1")!])
        let decoded = try PexMessage(decoding: message.encoded())
        #expect(decoded == message)
    }

    @Test func readsTheCompactLayoutOfBEP11() throws {
        // added: 127.0.0.2:6881, added.f: seed, dropped: empty
        let payload = Bencode.encode(.dict([
            "added": .bytes([127, 0, 0, 2, 0x1a, 0xe1]), "added.f": .bytes([2]), "dropped": .bytes([]),
        ]))
        let message = try PexMessage(decoding: payload)
        #expect(message.added == [PeerAddress("127.0.0.2:6881")!])
        #expect(message.addedFlags == [2])
    }

    @Test func boundsHostileMessages() throws {
        let many = (0..<500).flatMap { index in [127, 0, UInt8(index >> 8), UInt8(index & 0xff), 0x1a, 0xe1] as [UInt8] }
        let message = try PexMessage(decoding: Bencode.encode(.dict([
            "added": .bytes(many + [1, 2, 3]), "dropped": .bytes([127, 0, 0, 1, 0, 0]),
        ])))
        #expect(message.added.count == PexMessage.maxEntries)
        #expect(message.dropped.isEmpty)  // port 0 is no peer
        #expect(throws: PeerWireError.self) { try PexMessage(decoding: Array("li1ee".utf8)) }
        #expect(throws: PeerWireError.self) { try PexMessage(decoding: [0xff, 0x00]) }
    }
}
