import Bencode
@testable import Discovery
import Testing
import TorrentModel

/// BEP 5's example packets, byte for byte.
@Suite struct KRPCMessageTests {
    static let queryingID = NodeID(bytes: Array("abcdefghij0123456789".utf8))!
    static let otherID = NodeID(bytes: Array("mnopqrstuvwxyz123456".utf8))!
    static let answeringID = NodeID(bytes: Array("0123456789abcdefghij".utf8))!
    static let infoHash = InfoHash(bytes: Array("mnopqrstuvwxyz123456".utf8))!
    static let t = Array("aa".utf8)

    func check(_ message: KRPCMessage, _ text: String) throws {
        #expect(message.encoded() == Array(text.utf8))
        #expect(try KRPCMessage(decoding: Array(text.utf8)) == message)
    }

    @Test func ping() throws {
        try check(KRPCMessage(transactionID: Self.t, body: .query(.ping(id: Self.queryingID))),
                  "d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe")
        try check(KRPCMessage(transactionID: Self.t, body: .response(KRPCResponse(id: Self.otherID))),
                  "d1:rd2:id20:mnopqrstuvwxyz123456e1:t2:aa1:y1:re")
    }

    @Test func findNode() throws {
        try check(KRPCMessage(transactionID: Self.t, body: .query(.findNode(id: Self.queryingID, target: Self.otherID))),
                  "d1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz123456e1:q9:find_node1:t2:aa1:y1:qe")
    }

    @Test func findNodeResponseWithRaggedNodes() throws {
        // BEP 5's example "def456..." is 9 bytes: not one whole node, so none are kept.
        let message = try KRPCMessage(decoding: Array("d1:rd2:id20:0123456789abcdefghij5:nodes9:def456...e1:t2:aa1:y1:re".utf8))
        #expect(message == KRPCMessage(transactionID: Self.t, body: .response(KRPCResponse(id: Self.answeringID))))
    }

    @Test func findNodeResponseWithNodes() throws {
        let nodes = [NodeInfo(id: Self.otherID, address: ipv4(1, 2, 3, 4, port: 6881))!,
                     NodeInfo(id: Self.queryingID, address: ipv4(5, 6, 7, 8, port: 1))!]
        let message = KRPCMessage(transactionID: Self.t, body: .response(KRPCResponse(id: Self.answeringID, nodes: nodes)))
        let expected = Array("d1:rd2:id20:0123456789abcdefghij5:nodes52:".utf8) + nodes.flatMap(\.compactBytes)
            + Array("e1:t2:aa1:y1:re".utf8)
        #expect(message.encoded() == expected)
        #expect(try KRPCMessage(decoding: expected) == message)
    }

    @Test func getPeers() throws {
        try check(KRPCMessage(transactionID: Self.t, body: .query(.getPeers(id: Self.queryingID, infoHash: Self.infoHash))),
                  "d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz123456e1:q9:get_peers1:t2:aa1:y1:qe")
    }

    @Test func getPeersResponseWithValues() throws {
        let peers = [CompactAddress.decode(Array("axje.u".utf8))!, CompactAddress.decode(Array("idhtnm".utf8))!]
        #expect(peers[0] == ipv4(97, 120, 106, 101, port: 0x2e75))
        try check(KRPCMessage(transactionID: Self.t, body: .response(
            KRPCResponse(id: Self.queryingID, values: peers, token: Array("aoeusnth".utf8)))),
                  "d1:rd2:id20:abcdefghij01234567895:token8:aoeusnth6:valuesl6:axje.u6:idhtnmee1:t2:aa1:y1:re")
    }

    @Test func getPeersResponseWithNodes() throws {
        let message = try KRPCMessage(decoding: Array(
            "d1:rd2:id20:abcdefghij01234567895:nodes9:def456...5:token8:aoeusnthe1:t2:aa1:y1:re".utf8))
        #expect(message == KRPCMessage(transactionID: Self.t, body: .response(
            KRPCResponse(id: Self.queryingID, token: Array("aoeusnth".utf8)))))
    }

    @Test func announcePeer() throws {
        try check(KRPCMessage(transactionID: Self.t, body: .query(.announcePeer(
            id: Self.queryingID, infoHash: Self.infoHash, port: 6881, token: Array("aoeusnth".utf8), impliedPort: false))),
                  "d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234564:porti6881e5:token8:aoeusnthe1:q13:announce_peer1:t2:aa1:y1:qe")
        try check(KRPCMessage(transactionID: Self.t, body: .query(.announcePeer(
            id: Self.queryingID, infoHash: Self.infoHash, port: 6881, token: Array("aoeusnth".utf8), impliedPort: true))),
                  "d1:ad2:id20:abcdefghij012345678912:implied_porti1e9:info_hash20:mnopqrstuvwxyz1234564:porti6881e5:token8:aoeusnthe1:q13:announce_peer1:t2:aa1:y1:qe")
    }

    @Test func impliedPortIgnoresThePort() throws {
        let message = try KRPCMessage(decoding: Array(
            "d1:ad2:id20:abcdefghij012345678912:implied_porti1e9:info_hash20:mnopqrstuvwxyz1234564:porti0e5:token1:xe1:q13:announce_peer1:t2:aa1:y1:qe".utf8))
        #expect(message.body == .query(.announcePeer(id: Self.queryingID, infoHash: Self.infoHash, port: 0,
                                                     token: Array("x".utf8), impliedPort: true)))
    }

    @Test func error() throws {
        try check(KRPCMessage(transactionID: Self.t, body: .error(KRPCError(code: 201, message: "A Generic Error Ocurred"))),
                  "d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee")
    }

    @Test func versionRoundTrips() throws {
        try check(KRPCMessage(transactionID: Self.t, body: .query(.ping(id: Self.queryingID)), version: Array("MF01".utf8)),
                  "d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:v4:MF011:y1:qe")
    }

    @Test func nodes6RoundTrip() throws {
        let node = NodeInfo(id: Self.otherID, address: PeerAddress(host: .ipv6(Array(1...16)), port: 80))!
        let message = KRPCMessage(transactionID: [1, 2, 3, 4], body: .response(KRPCResponse(
            id: Self.answeringID, nodes6: [node], values: [PeerAddress(host: .ipv6(Array(1...16)), port: 81)], token: [9])))
        #expect(try KRPCMessage(decoding: message.encoded()) == message)
    }
}
