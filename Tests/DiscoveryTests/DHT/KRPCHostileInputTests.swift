import TestSupport
import Bencode
@testable import Discovery
import Testing
import TorrentModel

/// Datagrams any host could send: each is refused with an error that names the fault,
/// or decoded within bounds; none crashes.
@Suite struct KRPCHostileInputTests {
    static let id = Array("abcdefghij0123456789".utf8)

    func decode(_ root: BencodeValue) throws(DHTError) -> KRPCMessage {
        try KRPCMessage(decoding: Bencode.encode(root))
    }

    func query(_ method: String, _ arguments: BencodeValue) -> BencodeValue {
        .dict(["a": arguments, "q": .string(method), "t": .string("aa"), "y": .string("q")])
    }

    func response(_ fields: BencodeValue) -> BencodeValue {
        .dict(["r": fields, "t": .string("aa"), "y": .string("r")])
    }

    @Test func notBencodeOrNotADictionary() {
        #expect(throws: DHTError.self) { try KRPCMessage(decoding: Array("hello".utf8)) }
        #expect(throws: DHTError.notADictionary(field: "message", found: BencodeValue.list([]).typeName)) {
            try decode(.list([]))
        }
    }

    @Test func missingKeys() {
        #expect(throws: DHTError.missingField("t")) { try decode(.dict(["y": .string("q")])) }
        #expect(throws: DHTError.missingField("y")) { try decode(.dict(["t": .string("aa")])) }
        #expect(throws: DHTError.missingField("a")) {
            try decode(.dict(["q": .string("ping"), "t": .string("aa"), "y": .string("q")]))
        }
        #expect(throws: DHTError.missingField("a.id")) { try decode(query("ping", .dict([:]))) }
        #expect(throws: DHTError.missingField("a.target")) { try decode(query("find_node", .dict(["id": .bytes(Self.id)]))) }
        #expect(throws: DHTError.missingField("r.id")) { try decode(response(.dict([:]))) }
        #expect(throws: DHTError.missingField("a.token")) {
            try decode(query("announce_peer", .dict(["id": .bytes(Self.id), "info_hash": .bytes(Self.id), "port": .integer(1)])))
        }
    }

    @Test func wrongTypes() {
        #expect(throws: DHTError.wrongType(field: "t", expected: "byte string", found: BencodeValue.integer(1).typeName)) {
            try decode(.dict(["t": .integer(1), "y": .string("r")]))
        }
        #expect(throws: DHTError.notADictionary(field: "a", found: BencodeValue.integer(1).typeName)) {
            try decode(query("ping", .integer(1)))
        }
        #expect(throws: DHTError.wrongType(field: "a.id", expected: "byte string", found: BencodeValue.list([]).typeName)) {
            try decode(query("ping", .dict(["id": .list([])])))
        }
        #expect(throws: DHTError.wrongType(field: "r.values", expected: "list", found: BencodeValue.bytes([]).typeName)) {
            try decode(response(.dict(["id": .bytes(Self.id), "values": .bytes([1, 2, 3, 4, 5, 6])])))
        }
        #expect(throws: DHTError.wrongType(field: "e[0]", expected: "integer", found: BencodeValue.bytes([]).typeName)) {
            try decode(.dict(["e": .list([.string("x"), .string("y")]), "t": .string("aa"), "y": .string("e")]))
        }
        #expect(throws: DHTError.missingField("e[1]")) {
            try decode(.dict(["e": .list([.integer(201)]), "t": .string("aa"), "y": .string("e")]))
        }
    }

    @Test func idsMustBeTwentyBytes() {
        for length in [0, 19, 21] {
            #expect(throws: DHTError.wrongLength(field: "a.id", length: length, expected: 20)) {
                try decode(query("ping", .dict(["id": .bytes(Array(repeating: 1, count: length))])))
            }
        }
        #expect(throws: DHTError.wrongLength(field: "a.info_hash", length: 5, expected: 20)) {
            try decode(query("get_peers", .dict(["id": .bytes(Self.id), "info_hash": .bytes([1, 2, 3, 4, 5])])))
        }
    }

    @Test func longTokensAndTransactionIDsAreRefused() {
        #expect(throws: DHTError.tooLong(field: "r.token", length: 65, limit: 64)) {
            try decode(response(.dict(["id": .bytes(Self.id), "token": .bytes(Array(repeating: 1, count: 65))])))
        }
        #expect(throws: DHTError.tooLong(field: "a.token", length: 65, limit: 64)) {
            try decode(query("announce_peer", .dict(["id": .bytes(Self.id), "info_hash": .bytes(Self.id),
                                                     "port": .integer(1), "token": .bytes(Array(repeating: 1, count: 65))])))
        }
        #expect(throws: DHTError.tooLong(field: "t", length: 33, limit: 32)) {
            try decode(.dict(["t": .bytes(Array(repeating: 1, count: 33)), "y": .string("r")]))
        }
    }

    @Test func portsOutOfRange() {
        for port: Int64 in [0, -1, 65536, .max] {
            #expect(throws: DHTError.invalidPort(port)) {
                try decode(query("announce_peer", .dict(["id": .bytes(Self.id), "info_hash": .bytes(Self.id),
                                                         "port": .integer(port), "token": .string("x")])))
            }
        }
    }

    @Test func unknownTypeAndMethod() {
        #expect(throws: DHTError.unknownMessageType("z")) { try decode(.dict(["t": .string("aa"), "y": .string("z")])) }
        #expect(throws: DHTError.unknownMethod("vote", transactionID: Array("aa".utf8))) {
            try decode(query("vote", .dict(["id": .bytes(Self.id)])))
        }
    }

    @Test func valuesAreCappedAndBadEntriesSkipped() throws {
        var entries: [BencodeValue] = [.integer(1), .bytes([1, 2, 3]), .bytes([1, 2, 3, 4, 0, 0]), .list([])]
        for index in 0..<300 { entries.append(.bytes([10, 0, UInt8(index >> 8), UInt8(index & 0xff), 0x1a, 0xe1])) }
        entries.append(entries[entries.count - 1])
        let message = try decode(response(.dict(["id": .bytes(Self.id), "values": .list(entries)])))
        guard case .response(let body) = message.body else { Issue.record("not a response"); return }
        #expect(body.values.count == KRPCResponse.maxValues)
        #expect(body.values.first == ipv4(10, 0, 0, 0, port: 6881))
    }

    @Test func decoderLimitsHold() {
        let many = BencodeValue.list((0..<600).map { _ in .bytes([1, 2, 3, 4, 5, 6]) })
        #expect(throws: DHTError.self) { try decode(response(.dict(["id": .bytes(Self.id), "values": many]))) }
        let deep = BencodeValue.list([.list([.list([.list([])])])])
        #expect(throws: DHTError.self) { try decode(response(.dict(["id": .bytes(Self.id), "x": deep]))) }
        let long = BencodeValue.bytes(Array(repeating: 0, count: 2049))
        #expect(throws: DHTError.self) { try decode(response(.dict(["id": .bytes(Self.id), "nodes": long]))) }
    }

    @Test func randomBytesNeverCrash() {
        var generator = SeededGenerator(seed: 42)
        for _ in 0..<2000 {
            let length = Int.random(in: 0..<200, using: &generator)
            _ = try? KRPCMessage(decoding: generator.bytes(length))
        }
    }

    @Test func mutatedMessagesNeverCrashAndRoundTripWhenAccepted() throws {
        var generator = SeededGenerator(seed: 9)
        let seeds: [[UInt8]] = [
            "d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe",
            "d1:rd2:id20:abcdefghij01234567895:token8:aoeusnth6:valuesl6:axje.u6:idhtnmee1:t2:aa1:y1:re",
            "d1:ad2:id20:abcdefghij012345678912:implied_porti1e9:info_hash20:mnopqrstuvwxyz1234564:porti6881e5:token8:aoeusnthe1:q13:announce_peer1:t2:aa1:y1:qe",
            "d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee",
        ].map { Array($0.utf8) }
        for round in 0..<4000 {
            var bytes = seeds[round % seeds.count]
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                let index = Int.random(in: 0..<bytes.count, using: &generator)
                switch Int.random(in: 0..<3, using: &generator) {
                case 0: bytes[index] = UInt8.random(in: 0...255, using: &generator)
                case 1: bytes.remove(at: index)
                default: bytes.insert(UInt8.random(in: 0...255, using: &generator), at: index)
                }
                if bytes.isEmpty { break }
            }
            if let message = try? KRPCMessage(decoding: bytes) {
                #expect(try KRPCMessage(decoding: message.encoded()) == message)
            }
        }
    }
}
