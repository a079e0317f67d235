import Bencode
@testable import Discovery
import Testing
import TorrentModel

@Suite struct HTTPAnnounceResponseTests {
    @Test func compactPeers() throws {
        let peers = [ipv4(1, 2, 3, 4, port: 6881), ipv4(192, 168, 0, 255, port: 65535)]
        let body = bencode(["complete": .integer(5), "incomplete": .integer(7), "interval": .integer(1800),
                            "min interval": .integer(900), "peers": .bytes(compact(peers))])
        let response = try HTTPTracker.parseAnnounceResponse(body)
        #expect(response == AnnounceResponse(interval: 1800, minInterval: 900, peers: peers, seeders: 5, leechers: 7))
    }

    @Test func dictionaryPeers() throws {
        let entries: [BencodeValue] = [
            .dict(["ip": .string("10.0.0.1"), "peer id": .bytes(Array(repeating: 0x41, count: 20)), "port": .integer(6881)]),
            .dict(["ip": .string("2001:db8::2"), "port": .integer(51413)]),
            .dict(["ip": .string("peer.example"), "port": .integer(1)]),
        ]
        let response = try HTTPTracker.parseAnnounceResponse(bencode(["interval": .integer(600), "peers": .list(entries)]))
        #expect(response.peers == [
            ipv4(10, 0, 0, 1, port: 6881),
            PeerAddress("[2001:db8::2]:51413")!,
            PeerAddress(host: .name("peer.example"), port: 1),
        ])
    }

    @Test func peers6AfterPeers() throws {
        let v6 = PeerAddress(host: .ipv6([0x20, 0x01, 0x0d, 0xb8] + Array(repeating: 0, count: 11) + [1]), port: 6881)
        let v4 = ipv4(8, 8, 8, 8, port: 443)
        let body = bencode(["interval": .integer(600), "peers": .bytes(compact([v4])), "peers6": .bytes(compact([v6]))])
        #expect(try HTTPTracker.parseAnnounceResponse(body).peers == [v4, v6])
        let onlyV6 = bencode(["interval": .integer(600), "peers6": .bytes(compact([v6, v6]))])
        #expect(try HTTPTracker.parseAnnounceResponse(onlyV6).peers == [v6], "duplicates are dropped")
    }

    @Test func failureReasonWins() {
        let body = bencode(["failure reason": .string("unregistered torrent"), "interval": .integer(1800)])
        #expect(throws: TrackerError.failure(reason: "unregistered torrent")) {
            try HTTPTracker.parseAnnounceResponse(body)
        }
        #expect(TrackerError.failure(reason: "unregistered torrent").description.contains("unregistered torrent"))
        let long = bencode(["failure reason": .bytes(Array(repeating: 0x61, count: 100_000))])
        do {
            _ = try HTTPTracker.parseAnnounceResponse(long)
            Issue.record("should throw")
        } catch {
            guard case .failure(let reason) = error else { Issue.record("\(error)"); return }
            #expect(reason.utf8.count == HTTPTracker.maxMessageBytes)
        }
    }

    @Test func missingInterval() {
        let body = bencode(["peers": .bytes([])])
        #expect(throws: TrackerError.missingField("interval")) { try HTTPTracker.parseAnnounceResponse(body) }
        #expect(TrackerError.missingField("interval").description == "tracker response has no 'interval'")
    }

    @Test func intervalOfTheWrongType() {
        let body = bencode(["interval": .string("1800")])
        #expect(throws: TrackerError.wrongType(field: "interval", expected: "integer", found: "byte string")) {
            try HTTPTracker.parseAnnounceResponse(body)
        }
    }

    @Test(arguments: [(Int64(-5), 60), (0, 60), (59, 60), (60, 60), (1800, 1800), (7200, 7200), (86400, 7200),
                      (Int64.max, 7200), (Int64.min, 60)])
    func intervalsAreClamped(sent: Int64, used: Int) throws {
        let response = try HTTPTracker.parseAnnounceResponse(bencode(["interval": .integer(sent), "min interval": .integer(sent)]))
        #expect(response.interval == used)
        #expect(response.minInterval == used)
    }

    @Test func malformedCompactLength() {
        let body = bencode(["interval": .integer(600), "peers": .bytes(Array(repeating: 1, count: 13))])
        #expect(throws: TrackerError.malformedPeers(field: "peers", length: 13, entrySize: 6)) {
            try HTTPTracker.parseAnnounceResponse(body)
        }
        let body6 = bencode(["interval": .integer(600), "peers6": .bytes(Array(repeating: 1, count: 17))])
        #expect(throws: TrackerError.malformedPeers(field: "peers6", length: 17, entrySize: 18)) {
            try HTTPTracker.parseAnnounceResponse(body6)
        }
        #expect(TrackerError.malformedPeers(field: "peers", length: 13, entrySize: 6).description
            == "tracker response 'peers' is 13 bytes, not a multiple of 6")
    }

    @Test func informationalFields() throws {
        let body = bencode(["interval": .integer(600), "peers": .bytes([]), "tracker id": .string("abc123"),
                            "warning message": .string("please upgrade"), "complete": .integer(0),
                            "incomplete": .integer(-1)])
        let response = try HTTPTracker.parseAnnounceResponse(body)
        #expect(response.trackerID == "abc123")
        #expect(response.warning == "please upgrade")
        #expect(response.seeders == 0)
        #expect(response.leechers == nil, "a negative count means nothing")
        #expect(response.minInterval == nil)
        #expect(response.peers.isEmpty)
    }

    @Test func informationalFieldsOfTheWrongTypeAreIgnored() throws {
        let body = bencode(["complete": .string("5"), "incomplete": .list([]), "interval": .integer(600),
                            "min interval": .string("x"), "tracker id": .integer(3)])
        let response = try HTTPTracker.parseAnnounceResponse(body)
        #expect(response == AnnounceResponse(interval: 600, peers: []))
    }

    @Test func portZeroIsIgnored() throws {
        let compactBody = bencode(["interval": .integer(600),
                                   "peers": .bytes(compact([ipv4(1, 1, 1, 1, port: 0), ipv4(2, 2, 2, 2, port: 2)]))])
        #expect(try HTTPTracker.parseAnnounceResponse(compactBody).peers == [ipv4(2, 2, 2, 2, port: 2)])
        let dictBody = bencode(["interval": .integer(600),
                                "peers": .list([.dict(["ip": .string("1.1.1.1"), "port": .integer(0)])])])
        #expect(try HTTPTracker.parseAnnounceResponse(dictBody).peers.isEmpty)
    }

    @Test func notBencodeOrNotADictionary() {
        let html = Array("<html><body>502 Bad Gateway</body></html>".utf8)
        #expect {
            try HTTPTracker.parseAnnounceResponse(html)
        } throws: { error in
            guard let error = error as? TrackerError, case .notBencode(let detail) = error else { return false }
            return detail.contains("byte 0")
        }
        #expect(throws: TrackerError.notADictionary(found: "list")) {
            try HTTPTracker.parseAnnounceResponse(Bencode.encode(.list([])))
        }
        #expect(throws: TrackerError.notBencode("invalid bencode at byte 0: input ends in the middle of a value")) {
            try HTTPTracker.parseAnnounceResponse([])
        }
    }

    @Test func trailingNewlineIsTolerated() throws {
        let body = bencode(["interval": .integer(600), "peers": .bytes([])]) + [0x0a]
        #expect(try HTTPTracker.parseAnnounceResponse(body).interval == 600)
    }
}
