import ArgumentParser
import Foundation
import MemoFS

/// `memofs status`: every recording and torrent with a progress bar, from the report the
/// running daemon writes to `<data>/status.json`.
struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show every recording and torrent: progress, peers, rates, errors.")

    @Option(help: "The data folder of the mount (default: $XDG_DATA_HOME/memofs).") var data: String?
    @Flag(help: "Print the raw JSON report.") var json = false

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
        let age = Date().timeIntervalSince1970 - max(report.updated, touched)
        print("memofs on \(report.mountpoint ?? "?"), peers on port \(report.peerPort)"
              + (age > 10 ? " — last update \(Int(age)) s ago: is it still running?" : ""))
        print(report.dhtNodes.map { "DHT: \($0) nodes" } ?? "DHT: off")
        if let passthrough = report.passthrough {
            print("complete files: " + (passthrough ? "read straight from disk (FUSE passthrough)" : "read through memofs (no FUSE passthrough)"))
        }
        if let error = report.lastAddError { print("last .add error: \(error)") }
        if report.items.isEmpty { print("nothing yet: cp a recording into local/, or write a magnet link into shared/.add") }
        for item in report.items {
            let bar = Self.bar(item.progress)
            let rates = item.kind == "shared"
                ? "↓\(Self.rate(item.downloadRate)) ↑\(Self.rate(item.uploadRate))" : "↑\(Self.rate(item.uploadRate))"
            print("\(item.kind == "recording" ? "local " : "shared") \(bar) \(String(format: "%5.1f%%", item.progress * 100)) "
                  + "\(item.name) (\(Self.size(item.size))) \(item.state), \(item.peers) peers \(rates)")
            if let sources = item.peerSources, !sources.isEmpty {
                print("       connected peers from: " + Self.list(sources))
            }
            if let learned = item.peersLearned, !learned.isEmpty {
                print("       peers found through: " + Self.list(learned))
            }
            if let error = item.error, !error.isEmpty { print("       error: \(error)") }
        }
    }

    static func list(_ counts: [String: Int]) -> String {
        counts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
    }

    static func bar(_ progress: Double) -> String {
        let filled = Int((progress * 20).rounded(.down))
        return "[" + String(repeating: "#", count: filled) + String(repeating: "-", count: 20 - filled) + "]"
    }

    static func rate(_ bytesPerSecond: Double) -> String {
        bytesPerSecond < 1000 ? "0 kB/s" : bytesPerSecond < 1e6 ? "\(Int(bytesPerSecond / 1e3)) kB/s"
            : String(format: "%.1f MB/s", bytesPerSecond / 1e6)
    }

    static func size(_ bytes: Int64) -> String {
        bytes < 1 << 20 ? "\(bytes / 1024) KiB" : String(format: "%.1f MiB", Double(bytes) / Double(1 << 20))
    }
}
