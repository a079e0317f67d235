import Bencode
import Testing
@testable import PeerProtocol

@Suite struct MetadataMessageTests {
    @Test(arguments: [
        MetadataMessage.request(piece: 0), .request(piece: 1023),
        .data(piece: 0, totalSize: 31235, bytes: [UInt8](repeating: 7, count: 16384)),
        .data(piece: 1, totalSize: 16385, bytes: [0x65]),
        .data(piece: 2, totalSize: 40000, bytes: []),
        .reject(piece: 5),
    ])
    func roundTrips(message: MetadataMessage) throws {
        #expect(try MetadataMessage(decoding: message.encoded()) == message)
    }

    /// The examples of BEP 9.
    @Test func exactByteLayouts() throws {
        #expect(MetadataMessage.request(piece: 0).encoded() == Array("d8:msg_typei0e5:piecei0ee".utf8))
        #expect(MetadataMessage.reject(piece: 0).encoded() == Array("d8:msg_typei2e5:piecei0ee".utf8))
        #expect(MetadataMessage.data(piece: 0, totalSize: 34256, bytes: Array("xxxx".utf8)).encoded()
                == Array("d8:msg_typei1e5:piecei0e10:total_sizei34256eexxxx".utf8))
        #expect(try MetadataMessage(decoding: Array("d8:msg_typei0e5:piecei0ee".utf8)) == .request(piece: 0))
    }

    @Test func rawBytesAfterTheDictionaryMayLookLikeBencode() throws {
        let tail = Array("d8:msg_typei2ee".utf8)
        let message = MetadataMessage.data(piece: 0, totalSize: 100, bytes: tail)
        #expect(try MetadataMessage(decoding: message.encoded()) == message)
        #expect(message.piece == 0)
    }

    @Test func toleratesExtraKeys() throws {
        // libtorrent adds total_size to rejects.
        #expect(try MetadataMessage(decoding: Array("d8:msg_typei2e5:piecei3e10:total_sizei9ee".utf8)) == .reject(piece: 3))
        #expect(try MetadataMessage(decoding: Array("d8:msg_typei0e5:piecei1eeJUNK".utf8)) == .request(piece: 1))
    }

    @Test func unknownTypeIsItsOwnError() {
        #expect(throws: PeerWireError.unknownMetadataMessageType(3)) {
            try MetadataMessage(decoding: Array("d8:msg_typei3e5:piecei0ee".utf8))
        }
        #expect(PeerWireError.unknownMetadataMessageType(3).description == "metadata message has unknown msg_type 3")
    }

    @Test(arguments: [
        ("", "invalid bencode"),
        ("le", "the payload starts with a list, not a dictionary"),
        ("d5:piecei0ee", "\"msg_type\" is missing or not an integer"),
        ("d8:msg_typei0ee", "\"piece\" is missing or not an integer"),
        ("d8:msg_typei0e5:piece1:0e", "\"piece\" is missing or not an integer"),
        ("d8:msg_typei0e5:piecei-1ee", "piece -1 is not between 0 and 1023"),
        ("d8:msg_typei0e5:piecei1024ee", "piece 1024 is not between 0 and 1023"),
        ("d8:msg_typei1e5:piecei0ee", "data message has no integer \"total_size\""),
    ])
    func refusesMalformed(text: String, reason: String) {
        do {
            _ = try MetadataMessage(decoding: Array(text.utf8))
            Issue.record("\(text) was accepted")
        } catch {
            guard case .invalidMetadataMessage(let actual) = error else { Issue.record("wrong error \(error)"); return }
            #expect(actual.hasPrefix(reason))
        }
    }

    @Test func refusesBadSizes() {
        #expect(throws: PeerWireError.metadataSizeOutOfRange(0)) {
            try MetadataMessage(decoding: Array("d8:msg_typei1e5:piecei0e10:total_sizei0ee".utf8))
        }
        #expect(throws: PeerWireError.metadataSizeOutOfRange(16_777_217)) {
            try MetadataMessage(decoding: Array("d8:msg_typei1e5:piecei0e10:total_sizei16777217ee".utf8))
        }
        let tooLong = MetadataMessage.data(piece: 0, totalSize: 40000, bytes: [UInt8](repeating: 0, count: 16385)).encoded()
        #expect(throws: PeerWireError.metadataPieceLength(piece: 0, actual: 16385, expected: 16384)) {
            try MetadataMessage(decoding: tooLong)
        }
    }
}
