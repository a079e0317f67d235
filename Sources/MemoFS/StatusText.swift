import Foundation

/// The text `memofs status` prints for a report: a pure function of the report, whether
/// its daemon runs, and the time now.
public enum StatusText {
    public static func lines(_ report: StatusReport, daemon: DaemonState, now: Double, showPeers: Bool = false) -> [String] {
        let mountpoint = report.mountpoint ?? "MOUNTPOINT"
        switch daemon {
        case .stopped(let at):
            // A stopped daemon's items (states, peers, rates) described a process that is gone:
            // they are not shown, so nothing stale reads as live. `--json` still has them.
            return ["memofs is not running (stopped at \(clock(at, now: now))).",
                    "It was mounted on \(mountpoint); mount it again with: memofs mount \(mountpoint)"]
        case .ended(let last):
            return ["memofs is not running: it ended without a clean stop (a crash or kill -9); its last report was at "
                    + "\(clock(last, now: now)).",
                    "If \(mountpoint) says \"Transport endpoint is not connected\", run fusermount3 -u \(mountpoint); "
                    + "then mount it again with: memofs mount \(mountpoint)"]
        case .running(let pid):
            return header(report, "memofs is running" + (pid.map { " (pid \($0))" } ?? "")) + body(report, now: now, showPeers: showPeers)
        case .silent(let pid, let seconds):
            return header(report, "memofs" + (pid.map { " (pid \($0))" } ?? "")
                          + " has not updated its report for \(Int(seconds)) s: is it stuck? Its log is <data>/memofs.log."
                          + " Below is its last report:")
                + body(report, now: now, showPeers: showPeers)
        }
    }

    static func header(_ report: StatusReport, _ first: String) -> [String] {
        var lines = [first, "mounted on \(report.mountpoint ?? "?"), peers on port \(report.peerPort)",
                     report.dhtNodes.map { "DHT: \($0) nodes" } ?? "DHT: off"]
        if let passthrough = report.passthrough {
            lines.append("complete files: " + (passthrough ? "read straight from disk (FUSE passthrough)"
                                                          : "read through memofs (no FUSE passthrough)"))
        }
        if let cache = report.cache { lines.append(cacheLine(cache)) }
        return lines
    }

    static func body(_ report: StatusReport, now: Double, showPeers: Bool) -> [String] {
        var lines: [String] = []
        if let errors = report.addErrors, !errors.isEmpty {
            lines.append("recent .add errors:")
            for error in errors { lines.append("  \(clock(error.time, now: now)) \(error.text)") }
        }
        if report.items.isEmpty { lines.append("nothing yet: cp a recording into local/, or write a magnet link into shared/.add") }
        if showPeers, let omitted = report.peerListsOmitted {
            lines.append("peers are not listed: \(omitted) are connected, more than the report lists (\(StatusReport.peerListLimit))")
        }
        for item in report.items {
            let rates = item.kind == "shared" ? "↓\(rate(item.downloadRate)) ↑\(rate(item.uploadRate))" : "↑\(rate(item.uploadRate))"
            var line = "\(item.kind == "recording" ? "local " : "shared") \(bar(item.progress)) "
                + "\(String(format: "%5.1f%%", item.progress * 100)) \(item.name) (\(size(item.size))) \(item.state), "
                + (item.pinned == true ? "pinned, " : "")
                + "\(ShareActivity.peers(item.peers)) \(rates)"
            if item.state == "downloading", let remaining = item.remainingBytes,
               let eta = eta(remaining: remaining, rate: item.downloadRate) {
                line += ", \(size(remaining)) left, ETA \(eta)"
            }
            lines.append(line)
            if let reason = item.reason { lines.append("       why: \(reason)") }
            if let sources = item.peerSources, !sources.isEmpty { lines.append("       connected peers from: " + list(sources)) }
            if let learned = item.peersLearned, !learned.isEmpty { lines.append("       peers found through: " + list(learned)) }
            if let tracker = item.trackerError { lines.append("       tracker error: \(tracker)") }
            if let swarm = item.trackerSwarm {
                lines.append("       the WebSocket tracker counts \(swarm.seeders) seeder\(swarm.seeders == 1 ? "" : "s") and \(swarm.leechers) leecher\(swarm.leechers == 1 ? "" : "s")")
            }
            if let error = item.error, !error.isEmpty { lines.append("       error: \(error)") }
            if showPeers && report.peerListsOmitted == nil {
                let peers = item.connectedPeers ?? []
                if peers.isEmpty { lines.append("       no peer connected") }
                for peer in peers { lines.append("       peer " + describe(peer)) }
            }
        }
        return lines
    }

    /// "cache: 1.2 GiB of 2.0 GiB used by shares (60 %), 300.0 MiB pinned"
    static func cacheLine(_ cache: StatusReport.Cache) -> String {
        var line = "cache: " + CacheSize.describe(cache.used)
        if let limit = cache.limit {
            let share = limit > 0 ? " (\(Int((Double(cache.used) / Double(limit) * 100).rounded())) %)" : ""
            line += " of \(CacheSize.describe(limit)) used by shares\(share), least recently read evicted past it"
        } else {
            line += " used by shares, no limit"
        }
        if cache.pinned > 0 { line += "; \(CacheSize.describe(cache.pinned)) pinned, kept whole" }
        return line
    }

    /// One connected peer: where it is and came from, its client, what it has, the rates,
    /// and the choke and interest flags both ways.
    public static func describe(_ peer: StatusReport.Peer) -> String {
        "\(peer.address)" + (peer.transport.map { $0 == "tcp" ? "" : " over \($0)" } ?? "")
            + " from \(peer.source)" + (peer.client.map { ", \($0)" } ?? "")
            + ": has " + (peer.progress.map { String(format: "%.1f%%", $0 * 100) } ?? "?")
            + ", ↓\(rate(peer.downloadRate)) ↑\(rate(peer.uploadRate))"
            + "; we: \(peer.amInterested ? "interested" : "not interested"), \(peer.peerChoking ? "choked" : "unchoked") by them"
            + "; they: \(peer.peerInterested ? "interested" : "not interested"), \(peer.amChoking ? "choked" : "unchoked") by us"
    }

    /// How long `remaining` bytes take at `rate` bytes a second; nil when nothing is left
    /// or nothing arrives (below a byte a second).
    public static func eta(remaining: Int64, rate: Double) -> String? {
        guard remaining > 0, rate >= 1 else { return nil }
        return duration(Int((Double(remaining) / rate).rounded(.up)))
    }

    /// "45 s", "3 min 20 s", "2 h 5 min", "3 d 4 h".
    public static func duration(_ seconds: Int) -> String {
        switch seconds {
        case ..<60: "\(max(0, seconds)) s"
        case ..<3600: "\(seconds / 60) min \(seconds % 60) s"
        case ..<86400: "\(seconds / 3600) h \(seconds % 3600 / 60) min"
        default: "\(seconds / 86400) d \(seconds % 86400 / 3600) h"
        }
    }

    /// A time of day today, else the date and the time.
    public static func clock(_ time: Double, now: Double) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        let date = Date(timeIntervalSince1970: time)
        formatter.dateFormat = Calendar.current.isDate(date, inSameDayAs: Date(timeIntervalSince1970: now))
            ? "HH:mm:ss" : "yyyy-MM-dd HH:mm:ss"
        return formatter.string(from: date)
    }

    static func list(_ counts: [String: Int]) -> String {
        counts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
    }

    static func bar(_ progress: Double) -> String {
        let filled = Int((progress * 20).rounded(.down))
        return "[" + String(repeating: "#", count: filled) + String(repeating: "-", count: 20 - filled) + "]"
    }

    public static func rate(_ bytesPerSecond: Double) -> String {
        bytesPerSecond < 1 ? "0 kB/s" : bytesPerSecond < 1000 ? "\(Int(bytesPerSecond)) B/s"
            : bytesPerSecond < 1e6 ? "\(Int(bytesPerSecond / 1e3)) kB/s" : String(format: "%.1f MB/s", bytesPerSecond / 1e6)
    }

    public static func size(_ bytes: Int64) -> String {
        bytes < 1 << 20 ? "\(bytes / 1024) KiB" : String(format: "%.1f MiB", Double(bytes) / Double(1 << 20))
    }
}
