@testable import Engine
import Foundation
import PeerHarness
import TestSupport
import Testing
import TorrentModel

/// The engine reads the time from its session's clock: moved by hand, it takes a torrent
/// past minutes of peer timers in no time, and nothing fires before its time.
@Suite struct EngineClockTests {
    /// A peer that sends nothing for 180 s of the session's clock is dropped, and not a
    /// second before. (Its redial wait is on the same clock, but the seeder dials back at
    /// once: a redial cannot be told from that here. `RedialBackoffTests` cover the waits.)
    @Test func aSilentPeerIsDroppedAfter180SecondsOfTheSessionsClock() async throws {
        let folder = try TemporaryFolder()
        try folder.write("memo.ogg", count: 8 * 16384, seed: 3)
        let clock = ManualClock()
        try await withSession(testConfiguration(folder.path + "/seeder")) { seeding in
            let seeded = try await seeding.seed(path: folder.path + "/memo.ogg", options: .init(pieceLength: 16384))
            let metainfo = try #require(await seeded.metainfo)
            var configuration = testConfiguration(folder.path + "/watcher")
            configuration.clock = clock.clock
            try await withSession(configuration) { session in
                // Read on demand and nobody reads: no request is in flight, so only the
                // silent-peer limit can end the connection.
                let torrent = try await session.add(metainfo: metainfo, peers: [PeerAddress("127.0.0.1:\(seeding.listenPort)")!])
                try await eventually("connected to the seeder", timeout: 30) { await torrent.peerCount == 1 }

                clock.advance(by: .seconds(179))
                try await Task.sleep(for: .seconds(2.5))  // two ticks of the session's ticker
                #expect(await torrent.connectedPeers.map(\.source) == [.magnet], "dropped before 180 s of silence")

                clock.advance(by: .seconds(2))
                try await eventually("the silent seeder dropped", timeout: 10) {
                    await !torrent.connectedPeers.contains { $0.source == .magnet }
                }
            }
        }
    }
}
