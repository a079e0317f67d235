import TestSupport
import Testing
@testable import PeerProtocol

@Suite struct PeerMessageTests {
    @Test(arguments: sampleMessages)
    func roundTrips(message: PeerMessage) throws {
        let frame = message.encoded()
        let length = Int(frame[0]) << 24 | Int(frame[1]) << 16 | Int(frame[2]) << 8 | Int(frame[3])
        #expect(length == frame.count - 4)
        if message == .keepAlive {
            #expect(frame == [0, 0, 0, 0])
            return
        }
        #expect(frame[4] == message.id)
        #expect(try PeerMessage(id: frame[4], payload: frame[5...]) == message)
        #expect(try PeerMessage(id: frame[4], payload: Array(frame[5...])) == message)
    }

    /// Frames written out by hand from BEP 3, 5, 6 and 10.
    @Test func exactByteLayouts() {
        #expect(PeerMessage.choke.encoded() == [0, 0, 0, 1, 0])
        #expect(PeerMessage.unchoke.encoded() == [0, 0, 0, 1, 1])
        #expect(PeerMessage.interested.encoded() == [0, 0, 0, 1, 2])
        #expect(PeerMessage.notInterested.encoded() == [0, 0, 0, 1, 3])
        #expect(PeerMessage.have(piece: 0x0102_0304).encoded() == [0, 0, 0, 5, 4, 1, 2, 3, 4])
        #expect(PeerMessage.bitfield([0xf0, 0x01]).encoded() == [0, 0, 0, 3, 5, 0xf0, 0x01])
        // request: <len=0013><id=6><index><begin><length>
        #expect(PeerMessage.request(BlockRequest(piece: 1, begin: 0x4000, length: 0x4000)).encoded()
                == [0, 0, 0, 0x0d, 6, 0, 0, 0, 1, 0, 0, 0x40, 0, 0, 0, 0x40, 0])
        #expect(PeerMessage.piece(piece: 2, begin: 0x8000, block: [0xaa, 0xbb]).encoded()
                == [0, 0, 0, 11, 7, 0, 0, 0, 2, 0, 0, 0x80, 0, 0xaa, 0xbb])
        #expect(PeerMessage.cancel(BlockRequest(piece: 1, begin: 2, length: 3)).encoded()
                == [0, 0, 0, 13, 8, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3])
        #expect(PeerMessage.port(6881).encoded() == [0, 0, 0, 3, 9, 0x1a, 0xe1])
        #expect(PeerMessage.suggestPiece(5).encoded() == [0, 0, 0, 5, 0x0d, 0, 0, 0, 5])
        #expect(PeerMessage.haveAll.encoded() == [0, 0, 0, 1, 0x0e])
        #expect(PeerMessage.haveNone.encoded() == [0, 0, 0, 1, 0x0f])
        #expect(PeerMessage.rejectRequest(BlockRequest(piece: 1, begin: 2, length: 3)).encoded()
                == [0, 0, 0, 13, 0x10, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3])
        #expect(PeerMessage.allowedFast(0x0a0b).encoded() == [0, 0, 0, 5, 0x11, 0, 0, 0x0a, 0x0b])
        #expect(PeerMessage.extended(id: 3, payload: Array("de".utf8)).encoded() == [0, 0, 0, 4, 20, 3, 0x64, 0x65])
        #expect(PeerMessage.unknown(id: 0x30, payload: [9]).encoded() == [0, 0, 0, 2, 0x30, 9])
    }

    @Test func pieceHeaderPlusBlockIsThePieceMessage() {
        let block: [UInt8] = Array(repeating: 0x5a, count: 16384)
        let header = PeerMessage.encodePieceHeader(piece: 77, begin: 16384, blockLength: block.count)
        #expect(header.count == PeerMessage.pieceHeaderLength)
        #expect(header == [0, 0, 0x40, 0x09, 7, 0, 0, 0, 77, 0, 0, 0x40, 0])
        #expect(header + block == PeerMessage.piece(piece: 77, begin: 16384, block: block).encoded())
    }

    @Test func appendEncodedConcatenatesFrames() {
        var output: [UInt8] = [0xee]
        PeerMessage.appendEncoded(.choke, to: &output)
        PeerMessage.have(piece: 1).appendEncoded(to: &output)
        #expect(output == [0xee, 0, 0, 0, 1, 0, 0, 0, 0, 5, 4, 0, 0, 0, 1])
    }

    /// Every id with a fixed or minimum payload length, and that length.
    static let lengthRules: [(id: UInt8, name: String, length: Int, exact: Bool)] = [
        (0, "choke", 0, true), (1, "unchoke", 0, true), (2, "interested", 0, true),
        (3, "not interested", 0, true), (4, "have", 4, true), (6, "request", 12, true),
        (7, "piece", 8, false), (8, "cancel", 12, true), (9, "port", 2, true),
        (0x0d, "suggest piece", 4, true), (0x0e, "have all", 0, true), (0x0f, "have none", 0, true),
        (0x10, "reject request", 12, true), (0x11, "allowed fast", 4, true), (20, "extended", 1, false),
    ]

    @Test(arguments: lengthRules.map(\.id))
    func refusesWrongPayloadLengths(id: UInt8) throws {
        let rule = Self.lengthRules.first { $0.id == id }!
        // The right length decodes.
        _ = try PeerMessage(id: id, payload: [UInt8](repeating: 1, count: rule.length))
        var wrong = [rule.length + 1, rule.length + 5, 1000].filter { _ in rule.exact }
        if rule.length > 0 { wrong += [rule.length - 1, 0] }
        for count in Set(wrong) {
            let expected = rule.exact ? String(rule.length) : "at least \(rule.length)"
            let error = PeerWireError.payloadLength(message: rule.name, actual: count, expected: expected)
            #expect(throws: error) { try PeerMessage(id: id, payload: [UInt8](repeating: 0, count: count)) }
        }
    }

    @Test func errorMessagesNameTheMessageAndLengths() {
        do {
            _ = try PeerMessage(id: 6, payload: [UInt8](repeating: 0, count: 9))
            Issue.record("a 9-byte request was accepted")
        } catch {
            #expect(error.description == "request message has 9 bytes of payload, expected 12")
        }
        do {
            _ = try PeerMessage(id: 7, payload: [1, 2, 3])
            Issue.record("a 3-byte piece was accepted")
        } catch {
            #expect(error.description == "piece message has 3 bytes of payload, expected at least 8")
        }
    }

    @Test func bitfieldAndUnknownTakeAnyLength() throws {
        for count in [0, 1, 524_288] {
            let bytes = [UInt8](repeating: 0x80, count: count)
            #expect(try PeerMessage(id: 5, payload: bytes) == .bitfield(bytes))
            #expect(try PeerMessage(id: 0x63, payload: bytes) == .unknown(id: 0x63, payload: bytes))
        }
    }

    @Test func decodesFromNonArrayCollections() throws {
        let payload: [UInt8] = [0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3]
        #expect(try PeerMessage(id: 6, payload: payload.reversed().reversed()) == .request(BlockRequest(piece: 1, begin: 2, length: 3)))
        // A slice that does not start at index 0.
        let shifted = ([0xff, 0xff] + payload)[2...]
        #expect(try PeerMessage(id: 8, payload: shifted) == .cancel(BlockRequest(piece: 1, begin: 2, length: 3)))
        #expect(try PeerMessage(id: 9, payload: [0xff, 0x1a, 0xe1][1...]) == .port(6881))
    }

    @Test func namesFollowTheBEPs() {
        #expect(PeerMessage.name(ofID: 0x10) == "reject request")
        #expect(PeerMessage.name(ofID: 0x99) == "unknown (id 153)")
        #expect(PeerMessage.keepAlive.id == nil)
    }
}
