import Foundation
import PeerHarness
import TestSupport
import Testing
import TorrentModel

/// `memofs seed` and `memofs download` end cleanly, the way their service group promises:
/// on SIGINT (Ctrl-C) and SIGTERM with exit status 0, by themselves when a download is done
/// (its state saved, so a second run has nothing to fetch), and with the cause when their
/// work fails.
@Suite(.serialized) struct CommandStopTests {
    func engineArguments(_ data: String, listen: String) -> [String] {
        ["--data", data, "--listen", listen, "--port", "0", "--no-dht", "--no-lsd", "--json"]
    }

    /// The exit status once `child` has ended by itself, nil if it is still running after `timeout`.
    func exitStatus(_ child: ChildProcess, within timeout: TimeInterval) async throws -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while child.process.isRunning && Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        return child.process.isRunning ? nil : child.process.terminationStatus
    }

    @Test func seedStopsWithStatusZeroOnSIGINTAndSIGTERM() async throws {
        let folder = try TemporaryFolder()
        try folder.write("memo.webm", count: 1 << 20, seed: 51)
        for signalNumber in [SIGINT, SIGTERM] {
            let seeder = try ChildProcess(memofsExecutable, ["seed", folder.path + "/memo.webm"]
                                          + engineArguments(folder.path + "/state", listen: "127.0.0.1"),
                                          label: "memofs seed (signal \(signalNumber))")
            defer { seeder.kill9() }
            _ = try await seeder.waitForEvent("ready", timeout: 30)
            kill(seeder.process.processIdentifier, signalNumber)
            #expect(try await exitStatus(seeder, within: 10) == 0, "signal \(signalNumber): \(seeder.errorOutput.suffix(2000))")
        }
    }

    @Test func aDownloadEndsByItselfWithItsStateSavedAndAFailureNamesItsCause() async throws {
        let folder = try TemporaryFolder()
        let content = try folder.write("seed/talk.webm", count: 2 << 20, seed: 52)
        let seeder = try ChildProcess(memofsExecutable, ["seed", folder.path + "/seed/talk.webm"]
                                      + engineArguments(folder.path + "/state-seed", listen: "127.0.0.2"), label: "memofs seed")
        defer { seeder.stop() }
        let magnet = try #require(try await seeder.waitForEvent("ready", timeout: 30)["magnet"] as? String)
        let infoHash = try MagnetLink(parsing: magnet).infoHash

        let download = ["download", magnet] + engineArguments(folder.path + "/state", listen: "127.0.0.1")
        let first = try ChildProcess(memofsExecutable, download, label: "memofs download")
        defer { first.kill9() }
        _ = try await first.waitForEvent("done", timeout: 60)
        #expect(try await exitStatus(first, within: 10) == 0, "\(first.errorOutput.suffix(2000))")
        let downloaded = try Data(contentsOf: URL(fileURLWithPath: folder.path + "/state/torrents/\(infoHash.hex)/talk.webm"))
        #expect(Array(downloaded) == content)

        // With the seeder gone, a second run finishes from the saved state alone, hashing nothing.
        seeder.stop()
        let second = try ChildProcess(memofsExecutable, download, label: "memofs download (again)")
        defer { second.kill9() }
        let done = try await second.waitForJSON(timeout: 30) { ($0["progress"] as? Double ?? 0) >= 1 }
        #expect(done["downloaded"] as? Int == 0)
        #expect(done["rechecked"] as? Int == 0)
        #expect(try await exitStatus(second, within: 10) == 0, "\(second.errorOutput.suffix(2000))")

        // The work fails (no such .torrent file): the session still shuts down, and the cause is said.
        let missing = try await run([memofsExecutable, "download", folder.path + "/nowhere.torrent"]
                                    + engineArguments(folder.path + "/state", listen: "127.0.0.1"), timeout: 30)
        #expect(missing.status != 0)
        #expect(missing.errors.contains("nowhere.torrent"), "\(missing.errors)")
    }
}
