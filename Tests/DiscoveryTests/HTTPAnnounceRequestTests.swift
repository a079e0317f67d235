import TestSupport
@testable import Discovery
import Testing
import TorrentModel

@Suite struct HTTPAnnounceRequestTests {
    let url = TrackerURL("http://tracker.example/announce")!

    @Test func fullTargetForAStartedAnnounce() {
        let target = HTTPTracker.announcePathAndQuery(for: url, request: sampleRequest(numWant: 50))
        #expect(target == "/announce?info_hash=%124Vx%9A%BC%DE%F1%23Eg%89%AB%CD%EF%124Vx%9A"
            + "&peer_id=-MF0100-abcdefghijkl&port=6881&uploaded=1000&downloaded=2000&left=3000"
            + "&compact=1&event=started&numwant=50&key=0000BEEF")
    }

    @Test func binaryInfoHashEscapesEveryReservedByte() {
        var random = SeededGenerator(seed: 7)
        for _ in 0..<200 {
            let hash = random.bytes(20)
            let target = HTTPTracker.announcePathAndQuery(for: url, request: sampleRequest(infoHash: hash))
            let parameters = queryParameters(target)
            let value = parameters.first { $0.0 == "info_hash" }!.1
            #expect(percentDecode(value) == hash)
            // Only unreserved characters and escapes: nothing that could end the parameter.
            #expect(value.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-._~%".contains($0)) })
        }
        let allBytes = PercentEncoding.encode(bytes: [0x00, 0x20, 0x26, 0x3d, 0x25, 0x2b, 0x41, 0x7e, 0xff])
        #expect(allBytes == "%00%20%26%3D%25%2BA~%FF")
    }

    @Test func baseURLWithAQuery() {
        let withQuery = TrackerURL("https://tracker.example/announce.php?passkey=abc")!
        let target = HTTPTracker.announcePathAndQuery(for: withQuery, request: sampleRequest())
        #expect(target.hasPrefix("/announce.php?passkey=abc&info_hash=%124Vx"))
        let endingInQuestionMark = TrackerURL("http://tracker.example/announce?")!
        #expect(HTTPTracker.announcePathAndQuery(for: endingInQuestionMark, request: sampleRequest())
            .hasPrefix("/announce?info_hash="))
        let endingInAmpersand = TrackerURL("http://tracker.example/announce?a=b&")!
        #expect(HTTPTracker.announcePathAndQuery(for: endingInAmpersand, request: sampleRequest())
            .hasPrefix("/announce?a=b&info_hash="))
        let noPath = TrackerURL("http://tracker.example:8080")!
        #expect(HTTPTracker.announcePathAndQuery(for: noPath, request: sampleRequest()).hasPrefix("/?info_hash="))
    }

    @Test func eventOmittedWhenNone() {
        let target = HTTPTracker.announcePathAndQuery(for: url, request: sampleRequest(event: .none))
        #expect(!target.contains("event"))
        #expect(!target.contains("numwant"))
        #expect(!target.contains("trackerid"))
        for event in [AnnounceEvent.started, .completed, .stopped] {
            let names = queryParameters(HTTPTracker.announcePathAndQuery(for: url, request: sampleRequest(event: event)))
            #expect(names.contains { $0.0 == "event" && $0.1 == event.httpValue })
        }
    }

    @Test func trackerIDAndKey() {
        var request = sampleRequest(trackerID: "id 1&2")
        request.key = 0xDEADBEEF
        let parameters = queryParameters(HTTPTracker.announcePathAndQuery(for: url, request: request))
        #expect(parameters.contains { $0.0 == "trackerid" && $0.1 == "id%201%262" })
        #expect(parameters.contains { $0.0 == "key" && $0.1 == "DEADBEEF" })
        #expect(parameters.map(\.0) == ["info_hash", "peer_id", "port", "uploaded", "downloaded", "left",
                                        "compact", "event", "key", "trackerid"])
    }

    @Test func negativeCountsAreSentAsZero() {
        var request = sampleRequest(numWant: -5)
        request.left = -1
        request.uploaded = -2
        let parameters = queryParameters(HTTPTracker.announcePathAndQuery(for: url, request: request))
        #expect(parameters.contains { $0.0 == "left" && $0.1 == "0" })
        #expect(parameters.contains { $0.0 == "uploaded" && $0.1 == "0" })
        #expect(parameters.contains { $0.0 == "numwant" && $0.1 == "0" })
    }

    @Test func eventCodes() {
        #expect([AnnounceEvent.none, .completed, .started, .stopped].map(\.udpCode) == [0, 1, 2, 3])
        #expect([AnnounceEvent.none, .completed, .started, .stopped].map(\.httpValue)
            == ["", "completed", "started", "stopped"])
    }
}
