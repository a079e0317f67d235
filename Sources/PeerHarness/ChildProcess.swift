import Foundation

/// A process a test starts and always ends: stdin is kept open so closing it asks the
/// child to stop; `stop()` then sends SIGTERM and, after a grace period, SIGKILL, to
/// this PID only. Output lines are collected for bounded waits.
public final class ChildProcess: @unchecked Sendable {
    public let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private let errors = Pipe()
    private let lock = NSLock()
    private var lines: [String] = []
    private var partial = Data()
    private var stderrText = ""
    public let label: String

    /// `command[0]` with the rest as its arguments.
    public convenience init(command: [String], label: String) throws {
        try self.init(command[0], Array(command.dropFirst()), label: label)
    }

    public init(_ executable: String, _ arguments: [String], label: String) throws {
        self.label = label
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = confinedEnvironment
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        // Each pipe is drained by a thread of its own with blocking reads until end of file.
        // Foundation's readabilityHandler (a libdispatch source) crashed the test process in
        // CI once (in _dispatch_event_loop_drain) and is the likeliest cause of a later trap;
        // a thread that owns its pipe until EOF has no source to race the pipe's close.
        Self.drain(output, label: "\(label)-stdout") { [weak self] data in self?.appendOutput(data) }
        Self.drain(errors, label: "\(label)-stderr") { [weak self] data in self?.appendErrors(data) }
    }

    /// Reads `pipe` until end of file on a thread of its own, handing each chunk to `deliver`.
    /// The thread holds the pipe, so its descriptor stays open exactly as long as it is read.
    private static func drain(_ pipe: Pipe, label: String, deliver: @escaping @Sendable (Data) -> Void) {
        let reader = Thread {
            let fd = pipe.fileHandleForReading.fileDescriptor
            var buffer = [UInt8](repeating: 0, count: 64 * 1024)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if count > 0 {
                    deliver(Data(buffer[0..<count]))
                } else if count < 0 && errno == EINTR {
                    continue
                } else {
                    return
                }
            }
        }
        reader.name = label
        reader.start()
    }

    private func appendOutput(_ data: Data) {
        lock.lock()
        defer { lock.unlock() }
        partial.append(data)
        while let newline = partial.firstIndex(of: 0x0a) {
            lines.append(String(decoding: partial[partial.startIndex..<newline], as: UTF8.self))
            partial.removeSubrange(partial.startIndex...newline)
        }
    }

    private func appendErrors(_ data: Data) {
        lock.lock()
        defer { lock.unlock() }
        stderrText += String(decoding: data, as: UTF8.self)
        if stderrText.count > 20_000 { stderrText = String(stderrText.suffix(10_000)) }
    }

    deinit { stop() }

    public var allLines: [String] {
        lock.lock()
        defer { lock.unlock() }
        return lines
    }

    public var errorOutput: String {
        lock.lock()
        defer { lock.unlock() }
        return stderrText
    }

    public struct Timeout: Error, CustomStringConvertible {
        public let description: String
        public init(description: String) { self.description = description }
    }

    /// Waits (bounded) for an output line that is a JSON object satisfying `predicate`.
    public func waitForJSON(timeout: TimeInterval, _ predicate: ([String: Any]) -> Bool) async throws -> [String: Any] {
        let deadline = Date().addingTimeInterval(timeout)
        var seen = 0
        while Date() < deadline {
            let current = allLines
            while seen < current.count {
                let line = current[seen]
                seen += 1
                if let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], predicate(object) {
                    return object
                }
            }
            if !process.isRunning && seen == allLines.count {
                throw Timeout(description: "\(label) exited (\(process.terminationStatus)): \(errorOutput.suffix(2000))")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        // The periodic progress lines crowd out what happened: the last other events too.
        let events = allLines.filter { !$0.contains("\"event\": \"progress\"") }.suffix(12)
        throw Timeout(description: "\(label): no matching line within \(timeout) s; last lines: \(allLines.suffix(3)); "
                      + "last events: \(Array(events)); stderr: \(errorOutput.suffix(1000))")
    }

    public func waitForEvent(_ name: String, timeout: TimeInterval) async throws -> [String: Any] {
        try await waitForJSON(timeout: timeout) { $0["event"] as? String == name }
    }

    /// Ends the child: closes stdin, then SIGTERM, then SIGKILL after 3 s. Safe to call twice.
    public func stop() {
        try? input.fileHandleForWriting.close()
        guard process.isRunning else { return }
        let pid = process.processIdentifier
        let deadline = Date().addingTimeInterval(3)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { kill(pid, SIGTERM) }
        let killDeadline = Date().addingTimeInterval(3)
        while process.isRunning && Date() < killDeadline { usleep(20_000) }
        if process.isRunning { kill(pid, SIGKILL) }
        process.waitUntilExit()
    }

    /// Ends the child at once with SIGKILL (a crash).
    public func kill9() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

/// The environment every process a test starts gets: ours, plus the switch that keeps
/// memofs from defaulting to the public DHT routers or sending local peer discovery
/// multicast, so a test reaches nothing but what it started.
public var confinedEnvironment: [String: String] {
    ProcessInfo.processInfo.environment.merging(["MEMOFS_NO_PUBLIC_NETWORK": "1"]) { _, new in new }
}
