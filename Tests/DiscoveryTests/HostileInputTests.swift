import TestSupport
import Bencode
@testable import Discovery
import Testing
import TorrentModel

/// Inputs a broken or hostile tracker could send: nothing may crash, hang or grow without bound.
@Suite struct HostileInputTests {
    @Test func hugeCompactListIsCapped() throws {
        var bytes: [UInt8] = []
        for index in 0..<100_000 { bytes += be32(UInt32(index) | 0x0a00_0000) + be16(6881) }
        let body = bencode(["interval": .integer(600), "peers": .bytes(bytes), "peers6": .bytes(Array(repeating: 7, count: 18 * 100))])
        let response = try HTTPTracker.parseAnnounceResponse(body)
        #expect(response.peers.count == AnnounceResponse.maxPeers)
        #expect(response.peers.first == ipv4(10, 0, 0, 0, port: 6881))
    }

    @Test func hugeDictionaryListIsCapped() throws {
        let entries = (0..<5000).map { index -> BencodeValue in
            .dict(["ip": .string("10.0.\(index / 256).\(index % 256)"), "port": .integer(6881)])
        }
        let response = try HTTPTracker.parseAnnounceResponse(bencode(["interval": .integer(600), "peers": .list(entries)]))
        #expect(response.peers.count == AnnounceResponse.maxPeers)
    }

    @Test func tooManyValuesIsRefused() {
        let entries = (0..<30_000).map { _ in BencodeValue.list([.integer(1), .integer(2), .integer(3)]) }
        #expect(throws: TrackerError.self) {
            try HTTPTracker.parseAnnounceResponse(bencode(["interval": .integer(600), "peers": .list(entries)]))
        }
    }

    @Test func peersOfTheWrongType() {
        for value in [BencodeValue.integer(5), .dict(["a": .integer(1)])] {
            #expect(throws: TrackerError.wrongType(field: "peers", expected: "byte string or list", found: value.typeName)) {
                try HTTPTracker.parseAnnounceResponse(bencode(["interval": .integer(600), "peers": value]))
            }
        }
    }

    @Test func brokenDictionaryEntriesAreSkipped() throws {
        let entries: [BencodeValue] = [
            .integer(3),
            .string("1.2.3.4:5"),
            .dict(["ip": .integer(1), "port": .integer(1)]),
            .dict(["ip": .string("1.2.3.4"), "port": .string("80")]),
            .dict(["ip": .string("1.2.3.4"), "port": .integer(70000)]),
            .dict(["ip": .string("1.2.3.4"), "port": .integer(-1)]),
            .dict(["ip": .string("1.2.3.4")]),
            .dict(["port": .integer(80)]),
            .dict(["ip": .bytes([0xff, 0xfe, 0x00]), "port": .integer(80)]),
            .dict(["ip": .string("not a host!"), "port": .integer(80)]),
            .dict(["ip": .string("300.1.1.1"), "port": .integer(80)]),
            .dict(["ip": .string("fe80::1%eth0"), "port": .integer(80)]),
            .dict(["ip": .string(String(repeating: "a", count: 300)), "port": .integer(80)]),
            .dict(["ip": .string("5.6.7.8"), "port": .integer(80)]),
        ]
        let response = try HTTPTracker.parseAnnounceResponse(bencode(["interval": .integer(600), "peers": .list(entries)]))
        #expect(response.peers == [ipv4(5, 6, 7, 8, port: 80)])
    }

    @Test func deepNestingIsRefused() {
        var value = BencodeValue.integer(1)
        for _ in 0..<50 { value = .list([value]) }
        #expect(throws: TrackerError.self) {
            try HTTPTracker.parseAnnounceResponse(bencode(["interval": .integer(600), "peers": value]))
        }
    }

    @Test func randomBytesNeverCrash() {
        var random = SeededGenerator(seed: 42)
        for _ in 0..<3000 {
            let bytes = random.bytes(Int.random(in: 0...200, using: &random))
            _ = try? HTTPTracker.parseAnnounceResponse(bytes)
            _ = try? UDPTrackerResponse(decoding: bytes, peerAddressLength: 6)
            _ = try? UDPTrackerResponse(decoding: bytes, peerAddressLength: 18)
        }
    }

    @Test func mutatedResponsesNeverCrash() throws {
        let peers = (1...20).map { ipv4(10, 0, 0, UInt8($0), port: UInt16($0)) }
        let valid = bencode(["complete": .integer(1), "incomplete": .integer(2), "interval": .integer(1800),
                             "peers": .bytes(compact(peers)), "peers6": .bytes(Array(repeating: 1, count: 36)),
                             "tracker id": .string("x"), "warning message": .string("w")])
        _ = try HTTPTracker.parseAnnounceResponse(valid)
        var validUDP = be32(1) + be32(9) + be32(1800) + be32(3) + be32(4) + compact(peers)
        _ = try UDPTrackerResponse(decoding: validUDP, peerAddressLength: 6)
        var random = SeededGenerator(seed: 99)
        for _ in 0..<3000 {
            var http = valid
            var udp = validUDP
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                http[Int.random(in: 0..<http.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
                udp[Int.random(in: 0..<udp.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
            }
            http = Array(http.prefix(Int.random(in: 0...http.count, using: &random)))
            udp = Array(udp.prefix(Int.random(in: 0...udp.count, using: &random)))
            if let response = try? HTTPTracker.parseAnnounceResponse(http) {
                #expect(AnnounceResponse.acceptedIntervals.contains(response.interval))
                #expect(response.peers.count <= AnnounceResponse.maxPeers)
                #expect(!response.peers.contains { $0.port == 0 })
            }
            _ = try? UDPTrackerResponse(decoding: udp, peerAddressLength: 6)
        }
        validUDP[0] = 7
        #expect(throws: TrackerError.unexpectedAction(0x0700_0001)) {
            try UDPTrackerResponse(decoding: validUDP, peerAddressLength: 6)
        }
    }

    @Test func randomDatagramsDoNotDisturbAnExchange() {
        var random = SeededGenerator(seed: 5)
        let t0 = ContinuousClock.now
        var exchange = UDPTrackerExchange(request: sampleRequest(), cachedConnection: nil, peerAddressLength: 6,
                                          random: &random)
        _ = exchange.start(now: t0)
        for _ in 0..<2000 {
            let datagram = random.bytes(Int.random(in: 0...120, using: &random))
            #expect(exchange.receive(datagram, now: t0) == [])
        }
        #expect(!exchange.isDone)
    }
}
