import Discovery
@testable import Engine
import Foundation
import PeerHarness
import TestSupport
import Testing
import TorrentModel

/// A session announces a torrent on its `ws://` tracker when it has a WebRTC stack to signal
/// for, and shows the tracker's errors where HTTP and UDP trackers' errors show; without one it
/// leaves the tracker alone.
@Suite struct WebSocketTrackerSessionTests {
    @Test func aTorrentAnnouncesOnItsWebSocketTrackerAndShowsItsFailure() async throws {
        let tracker = try await HostileWebSocketTracker { _ in [.text(jsonText(["failure reason": "unregistered torrent"]))] }
        let folder = try TemporaryFolder()
        var configuration = testConfiguration(folder.path + "/memofs")
        configuration.webRTCSignaling = RecordingSignaling(name: "session")
        let session = try await Session.start(configuration: configuration)
        let infoHash = randomInfoHash()
        let torrent = try await session.add(magnet: MagnetLink(infoHash: infoHash, trackers: [tracker.url]))
        try await eventually("the failure in the torrent's status", timeout: 30) {
            await torrent.status.activity.lastTrackerError != nil
        }
        #expect(await torrent.status.activity.lastTrackerError == "\(tracker.url): failure reason: unregistered torrent")
        #expect(await torrent.status.activity.trackers == 1)
        let announce = try #require(tracker.received.withLockedValue { $0.first { $0.contains("\"announce\"") } })
        let fields = try #require(JSONSerialization.jsonObject(with: Data(announce.utf8)) as? [String: Any])
        #expect(fields["info_hash"] as? String == binaryString(infoHash.digest.bytes))
        #expect(fields["event"] as? String == "started")
        await session.shutdown()
        // Stopping the torrent said `stopped`.
        try await eventually("the stopped announce", timeout: 30) {
            tracker.received.withLockedValue { $0.contains { $0.contains("\"stopped\"") } }
        }
        await tracker.stop()
    }

    @Test func withoutAWebRTCStackTheWebSocketTrackerIsSkipped() async throws {
        let tracker = try await HostileWebSocketTracker { _ in [] }
        let folder = try TemporaryFolder()
        let session = try await Session.start(configuration: testConfiguration(folder.path + "/memofs"))
        let torrent = try await session.add(magnet: MagnetLink(infoHash: randomInfoHash(), trackers: [tracker.url]))
        try await Task.sleep(for: .seconds(1))
        #expect(tracker.connections.withLockedValue { $0 } == 0)
        #expect(await torrent.status.activity.lastTrackerError == nil)
        await session.shutdown()
        await tracker.stop()
    }
}
