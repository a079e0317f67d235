import Foundation
import SystemCalls
import SystemPackage

/// Whether the daemon that wrote a status report still runs.
public enum DaemonState: Sendable, Equatable {
    /// Running; its report is fresh. The pid is nil in reports of older versions.
    case running(pid: Int32?)
    /// Its process is there, but the report has not been touched for `seconds` (the daemon
    /// touches it every second): stuck, or stopped with SIGSTOP.
    case silent(pid: Int32?, seconds: Double)
    /// It stopped cleanly (unmounted, or SIGINT/SIGTERM) and said so in the report.
    case stopped(at: Double)
    /// Its process is gone but the report was never marked stopped: it crashed or was
    /// killed (SIGKILL). `lastReport` is when the report was last written or touched.
    case ended(lastReport: Double)

    public var isRunning: Bool {
        switch self {
        case .running, .silent: true
        case .stopped, .ended: false
        }
    }

    /// A report touched less than this long ago is fresh.
    public static let freshFor: Double = 10

    /// Decides from the report, when its file was last touched, and whether a process with
    /// its pid (and start time, when the report has it) exists.
    public static func of(_ report: StatusReport, touched: Double, now: Double,
                          processExists: (_ pid: Int32, _ start: UInt64?) -> Bool) -> DaemonState {
        if let stoppedAt = report.stoppedAt { return .stopped(at: stoppedAt) }
        let last = max(report.updated, touched)
        if let pid = report.pid, !processExists(pid, report.processStart) { return .ended(lastReport: last) }
        return now - last > freshFor ? .silent(pid: report.pid, seconds: now - last) : .running(pid: report.pid)
    }
}

/// The daemon's process as /proc shows it.
public enum DaemonProcess {
    /// When this process started, in clock ticks since boot.
    public static let ownStartTicks: UInt64? = startTicks(of: getpid())

    /// When process `pid` started, in clock ticks since boot (field 22 of /proc/PID/stat);
    /// nil if there is no such process.
    public static func startTicks(of pid: Int32) -> UInt64? {
        procStat(pid)?.start
    }

    /// Fields 3 (the state: R, S, D, Z, …) and 22 (the start time) of /proc/PID/stat.
    static func procStat(_ pid: Int32) -> (state: Substring, start: UInt64)? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        // After the command name (which may hold spaces and parentheses) come fields 3, 4, …
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 19, let start = UInt64(fields[19]) else { return nil }
        return (fields[0], start)
    }

    /// Whether process `pid` exists and, when `start` is given, is the process that started
    /// then (not a later one that was given the same id). A zombie (ended, not yet reaped by
    /// its parent) does not count.
    public static func exists(_ pid: Int32, start: UInt64?) -> Bool {
        guard pid > 0 else { return false }
        do {
            try Errno.check(kill(pid, 0))
        } catch .noSuchProcess {
            return false
        } catch {
            // EPERM: it exists, as another user's.
        }
        guard let stat = procStat(pid) else { return true }
        return stat.state != "Z" && (start == nil || stat.start == start)
    }
}
