import Foundation

/// The real WebTorrent 3.0.21 browser build in headless Chromium, or its WebSocket tracker,
/// driven by `wt_peer.py` (/work/shared/peers/webtorrent, not part of memofs) inside a
/// `LoopbackNamespace` shared with memofs. Third-party code found on the machine, never in
/// the repository: tests skip with `unavailableReason` when it is not there.
///
/// Ending it: the test runner's children inherit a blocked SIGTERM, so wt_peer.py cannot be
/// asked to stop; `stop()` SIGKILLs each Chromium it started (by the PID it logs; Chromium is
/// the leader of a process group of its own, which holds its helpers) and then wt_peer.py.
public final class WebTorrentPeer: @unchecked Sendable {
    public static let script = ProcessInfo.processInfo.environment["MEMOFS_WT_PEER"] ?? "/work/shared/peers/webtorrent/wt_peer.py"
    static let bundle = ProcessInfo.processInfo.environment["WT_BUNDLE"] ?? "/var/tmp/wt_peer/webtorrent.min.js"

    /// Why wt_peer.py's WebSocket tracker (which needs the WebTorrent build, not a browser)
    /// cannot run here, nil when it can.
    public static var trackerUnavailableReason: String? {
        let files = FileManager.default
        if !files.fileExists(atPath: script) { return "wt_peer.py not found at \(script) (set MEMOFS_WT_PEER)" }
        if !files.fileExists(atPath: bundle) && ProcessInfo.processInfo.environment["WT_MIRROR"] == nil {
            return "the WebTorrent browser build is not at \(bundle) (see wt_peer.py's README)"
        }
        return nil
    }

    /// Why the browser peer cannot run here, nil when it can.
    public static var unavailableReason: String? {
        let files = FileManager.default
        if let reason = trackerUnavailableReason { return reason }
        if !files.isExecutableFile(atPath: "/usr/bin/chromium") { return "chromium is not installed" }
        if getuid() != 0 { return "needs root for a network namespace" }
        return nil
    }

    public let child: ChildProcess

    /// `wt_peer.py --netns none --log-dir LOGS OPTIONS… ARGUMENTS…` inside `namespace`; `options` are
    /// wt_peer.py's own, e.g. `--wss` (a wss:// tracker, its certificate `LOGS/tracker.crt`) or
    /// `--ignore-cert-errors` (a browser that trusts it).
    public init(_ arguments: [String], options: [String] = [], in namespace: LoopbackNamespace, logs: String, label: String) throws {
        child = try ChildProcess(command: namespace.command(["/usr/bin/python3", Self.script, "--netns", "none",
                                                             "--log-dir", logs] + options + arguments), label: label)
    }

    /// `wt_peer.py tracker`: the WebSocket tracker only; returns it and its ws:// URL.
    public static func tracker(options: [String] = [], in namespace: LoopbackNamespace,
                               logs: String) async throws -> (WebTorrentPeer, String) {
        let peer = try WebTorrentPeer(["tracker", "--hold", "900"], options: options, in: namespace, logs: logs,
                                      label: "wt_peer tracker")
        do {
            let event = try await peer.child.waitForEvent("tracker", timeout: 20)
            guard let url = event["url"] as? String else { throw ChildProcess.Timeout(description: "wt_peer tracker: no url in \(event)") }
            return (peer, url)
        } catch {
            peer.stop()
            throw error
        }
    }

    /// `wt_peer.py seed FILE --announce TRACKER`: a browser seeding `file`; returns it and the magnet it made.
    public static func seed(_ file: String, announce tracker: String, options: [String] = [], in namespace: LoopbackNamespace,
                            logs: String) async throws -> (WebTorrentPeer, String) {
        let peer = try WebTorrentPeer(["seed", file, "--announce", tracker, "--hold", "600"], options: options, in: namespace,
                                      logs: logs, label: "wt_peer seed")
        do {
            let event = try await peer.child.waitForEvent("seeding", timeout: 90)
            guard let magnet = event["magnet"] as? String else { throw ChildProcess.Timeout(description: "wt_peer seed: no magnet") }
            return (peer, magnet)
        } catch {
            peer.stop()
            throw error
        }
    }

    /// `wt_peer.py download MAGNET --out-dir FOLDER`: a browser downloading the torrent; returns
    /// its result line (`ok`, `files` with `sha1` and `length`, `metadata_s`, `done_s`).
    public static func download(_ magnet: String, into folder: String, timeout: Int, options: [String] = [],
                                in namespace: LoopbackNamespace, logs: String) async throws -> [String: Any] {
        let peer = try WebTorrentPeer(["download", magnet, "--out-dir", folder, "--timeout", "\(timeout)"], options: options,
                                      in: namespace, logs: logs, label: "wt_peer download")
        defer { peer.stop() }
        return try await peer.child.waitForEvent("result", timeout: TimeInterval(timeout + 60))
    }

    /// The PIDs of the Chromium processes wt_peer.py logged starting (`chromium[ROLE] pid N`).
    var browserPIDs: [pid_t] {
        child.errorOutput.split(separator: "\n").compactMap { line in
            guard line.contains("chromium["), let range = line.range(of: "] pid ") else { return nil }
            return pid_t(line[range.upperBound...].prefix { $0.isNumber })
        }
    }

    /// Once wt_peer.py has exited by itself it has stopped its browsers (and their PIDs may be reused).
    public func stop() {
        guard child.process.isRunning else { return }
        for pid in browserPIDs where pid > 1 {
            kill(-pid, SIGKILL)
            kill(pid, SIGKILL)
        }
        child.kill9()
    }

    deinit { stop() }
}
