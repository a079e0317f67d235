import ArgumentParser
import Foundation
import MemoFS

/// `memofs status`: every recording and torrent with a progress bar, from the report the
/// daemon writes to `<data>/status.json`, or that memofs is not running.
struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show every recording and torrent: progress, peers, rates, why nothing moves, errors.",
        discussion: "Exits with status 3 when memofs is not running (the report says it stopped, or its process is gone).")

    @Option(help: "The data folder of the mount (default: $XDG_DATA_HOME/memofs).") var data: String?
    @Flag(help: "Print the raw JSON report.") var json = false
    @Flag(help: "List each connected peer: address, where it came from, client, what it has, rates, choke and interest both ways.")
    var peers = false

    func run() async throws {
        let path = (data ?? Mount.defaultDataFolder()) + "/status.json"
        guard let bytes = FileManager.default.contents(atPath: path) else {
            throw MemofsError("no status at \(path): is memofs mounted with this data folder?")
        }
        if json {
            print(String(decoding: bytes, as: UTF8.self))
            return
        }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let report = try decoder.decode(StatusReport.self, from: bytes)
        // The daemon rewrites the report when something changed and touches it every second.
        let touched = ((try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date)?
            .timeIntervalSince1970 ?? 0
        let now = Date().timeIntervalSince1970
        let daemon = DaemonState.of(report, touched: touched, now: now) { DaemonProcess.exists($0, start: $1) }
        for line in StatusText.lines(report, daemon: daemon, now: now, showPeers: peers) { print(line) }
        if !daemon.isRunning { throw ExitCode(3) }
    }
}
