import Discovery
@testable import Engine
import Foundation
import NIOPosix
import PeerHarness
import Testing
import TorrentModel

/// The WebSocket tracker client against a tracker that misbehaves (written here, with
/// NIOWebSocket's server side): every bad input is a clear status or an ignored message, the
/// socket is closed when it must be, and the client comes back after the announcer's back-off.
@Suite struct WebSocketTrackerHostileTests {
    let infoHash = randomInfoHash()
    let status = StatusBox()
    let signaling = RecordingSignaling(name: "us")

    func client(_ tracker: HostileWebSocketTracker, clock: EngineClock = .continuous,
                options: WebSocketTrackerConnectionOptions = .init()) -> WebSocketTrackerClient {
        WebSocketTrackerClient(url: WebSocketTrackerURL(tracker.url)!, peerID: .random(), signaling: signaling,
                               group: MultiThreadedEventLoopGroup.singleton, clock: clock, options: options,
                               logger: testLogger, tickInterval: .milliseconds(50))
    }

    func relayed(_ kind: String, infoHash: InfoHash, offerID: WebRTCOfferID) -> String {
        jsonText(["action": "announce", kind: ["type": kind, "sdp": "v=0\r\na=hostile\r\n"],
                  "offer_id": binaryString(offerID.bytes), "peer_id": binaryString(PeerID.random().bytes),
                  "info_hash": binaryString(infoHash.digest.bytes)])
    }

    @Test func garbageJSONIsAStatusAndTheSocketStaysOpen() async throws {
        let tracker = try await HostileWebSocketTracker { _ in [.text("{\"action\": announce")] }
        let client = client(tracker)
        await client.add(status.torrent(infoHash))
        try await eventually("a status for the garbage", timeout: 30) { status.current?.contains("is not JSON") == true }
        #expect(status.current!.hasPrefix(tracker.url + ": WebSocket tracker message is not JSON"))
        #expect(await client.isConnected)
        #expect(await client.connectionsOpened == 1)
        await client.shutdown()
        await tracker.stop()
    }

    @Test(arguments: [HostileWebSocketTracker.Step.hugeFrame(bytes: 5 << 20),
                      .fragmented(total: 5 << 20, fragment: 64 << 10)])
    func aMessageAboveTheLimitClosesTheSocket(_ step: HostileWebSocketTracker.Step) async throws {
        let tracker = try await HostileWebSocketTracker { _ in [step] }
        let client = client(tracker)
        await client.add(status.torrent(infoHash))
        try await eventually("the socket closed for the big message", timeout: 30) {
            status.current?.contains("above the 1048576-byte limit") == true
        }
        #expect(status.current == "\(tracker.url): the tracker sent a message above the 1048576-byte limit; the socket was closed")
        #expect(await !client.isConnected)
        await client.shutdown()
        await tracker.stop()
    }

    @Test func anOfferForAnotherTorrentIsIgnoredAndOneForOursIsAnswered() async throws {
        let ours = infoHash
        let offerID = WebRTCOfferID(bytes: [UInt8](repeating: 7, count: 20))!
        let stranger = randomInfoHash()
        let tracker = try await HostileWebSocketTracker { [self] _ in
            [.text(relayed("offer", infoHash: stranger, offerID: offerID)), .text(relayed("offer", infoHash: ours, offerID: offerID))]
        }
        let client = client(tracker)
        await client.add(status.torrent(infoHash))
        try await eventually("our answer at the tracker", timeout: 30) {
            tracker.received.withLockedValue { $0.contains { $0.contains("\"answer\"") } }
        }
        let answered = await signaling.offersAnswered
        #expect(answered.map(\.infoHash) == [ours])
        #expect(await client.ignored.contains("message for info hash \(stranger), which is not announced on this tracker"))
        let answer = try #require(tracker.received.withLockedValue { $0.first { $0.contains("\"answer\"") } })
        let json = try #require(JSONSerialization.jsonObject(with: Data(answer.utf8)) as? [String: Any])
        #expect(json["offer_id"] as? String == binaryString(offerID.bytes))
        #expect(json["to_peer_id"] as? String == binaryString(answered[0].peerID.bytes))
        await client.shutdown()
        await tracker.stop()
    }

    @Test func anAnswerToAnOfferWeNeverMadeIsIgnored() async throws {
        let ours = infoHash
        let tracker = try await HostileWebSocketTracker { [self] _ in
            [.text(relayed("answer", infoHash: ours, offerID: WebRTCOfferID(bytes: [UInt8](repeating: 9, count: 20))!))]
        }
        let client = client(tracker)
        await client.add(status.torrent(infoHash))
        try await eventually("the answer ignored", timeout: 30) {
            await client.ignored.contains { $0.contains("which is not pending") }
        }
        #expect(await signaling.answersAccepted.isEmpty)
        #expect(await client.isConnected)
        await client.shutdown()
        await tracker.stop()
    }

    /// The scrape at connect names our torrent; the tracker's counts, from a scrape reply or an
    /// announce reply, are the torrent's swarm.
    @Test func scrapeAndAnnounceRepliesCountTheSwarm() async throws {
        let hash = binaryString(infoHash.digest.bytes)
        let tracker = try await HostileWebSocketTracker { _ in
            [.text(jsonText(["action": "scrape", "files": [hash: ["complete": 4, "incomplete": 2, "downloaded": 9]]]))]
        }
        let client = client(tracker)
        await client.add(status.torrent(infoHash))
        try await eventually("the scrape's counts", timeout: 30) { await client.swarm(of: infoHash) != nil }
        #expect(await client.swarm(of: infoHash) == WebSocketTrackerSwarm(seeders: 4, leechers: 2))
        let scrape = try #require(tracker.received.withLockedValue { $0.first })
        let fields = try #require(try JSONSerialization.jsonObject(with: Data(scrape.utf8)) as? [String: Any])
        #expect(fields["action"] as? String == "scrape")
        #expect(fields["info_hash"] as? [String] == [hash])
        await client.shutdown()
        await tracker.stop()
    }

    @Test func aFailureReasonIsTheStatus() async throws {
        let tracker = try await HostileWebSocketTracker { _ in [.text(jsonText(["failure reason": "torrent not registered"]))] }
        let client = client(tracker)
        await client.add(status.torrent(infoHash))
        try await eventually("the failure as status", timeout: 30) { status.current != nil }
        #expect(status.current == "\(tracker.url): failure reason: torrent not registered")
        await client.shutdown()
        await tracker.stop()
    }

    @Test func aCloseFrameIsClosedByTheTracker() async throws {
        let tracker = try await HostileWebSocketTracker { _ in [.closeFrame(code: 1001)] }
        let client = client(tracker)
        await client.add(status.torrent(infoHash))
        try await eventually("the close as status", timeout: 30) { status.current != nil }
        #expect(status.current == "\(tracker.url): closed by the tracker (code 1001)")
        await client.shutdown()
        await tracker.stop()
    }

    @Test func aTrackerThatNeverAnswersPingsIsDead() async throws {
        let tracker = try await HostileWebSocketTracker { _ in [] }
        let client = client(tracker, options: .init(pingInterval: .milliseconds(200), pongTimeout: .milliseconds(300)))
        await client.add(status.torrent(infoHash))
        try await eventually("the dead socket noticed", timeout: 30) { status.current != nil }
        #expect(status.current == "\(tracker.url): no pong within 0.3 seconds of a ping: the connection is dead")
        #expect(await !client.isConnected)
        await client.shutdown()
        await tracker.stop()
    }

    @Test func theSessionClockExpiresOffersAndDrivesReannounces() async throws {
        let manual = ManualClock()
        let reply = jsonText(["action": "announce", "info_hash": binaryString(infoHash.digest.bytes), "interval": 60])
        let tracker = try await HostileWebSocketTracker { _ in [.text(reply)] }
        let client = client(tracker, clock: manual.clock)
        await client.add(status.torrent(infoHash))
        try await eventually("the first announce's reply taken in", timeout: 30) { await client.messagesReceived == 1 }
        let firstOffers = await signaling.offersMade.map(\.offerID)
        #expect(firstOffers.count == 5)
        manual.advance(by: .seconds(50))  // bittorrent-tracker's offer timeout
        try await eventually("the unanswered offers dropped", timeout: 30) { await Set(signaling.offersDropped) == Set(firstOffers) }
        let announces = { tracker.received.withLockedValue { $0.filter { $0.contains("\"action\":\"announce\"") } } }
        #expect(announces().count == 1)
        manual.advance(by: .seconds(10))  // the tracker's interval
        try await eventually("the second announce", timeout: 30) { announces().count == 2 }
        let second = announces()[1]
        #expect(!second.contains("\"started\"") && second.contains("\"offers\""))
        await client.shutdown()
        await tracker.stop()
    }

    @Test func anAbruptCloseReconnectsAfterTheBackOff() async throws {
        let manual = ManualClock()
        let tracker = try await HostileWebSocketTracker { index in index == 0 ? [.abruptClose] : [] }
        let client = client(tracker, clock: manual.clock)
        await client.add(status.torrent(infoHash))
        try await eventually("the close noticed", timeout: 30) { status.current != nil }
        #expect(status.current == "\(tracker.url): connection lost: the tracker closed the socket without a close frame")
        // The announcer's first back-off is 10 s of the session's clock: nothing before it.
        try await Task.sleep(for: .milliseconds(500))
        #expect(tracker.connections.withLockedValue { $0 } == 1)
        manual.advance(by: .seconds(9))
        try await Task.sleep(for: .milliseconds(300))
        #expect(tracker.connections.withLockedValue { $0 } == 1)
        manual.advance(by: .seconds(1))
        try await eventually("the reconnect", timeout: 30) { await client.connectionsOpened == 2 }
        try await eventually("a second announce", timeout: 30) {
            tracker.received.withLockedValue { $0.filter { $0.contains("\"started\"") }.count } == 2
        }
        await client.shutdown()
        await tracker.stop()
    }
}
