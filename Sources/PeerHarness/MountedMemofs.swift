import Foundation

/// A `memofs mount --foreground` daemon that a test starts on a temporary mountpoint and
/// always takes down: SIGTERM, then SIGKILL, then `fusermount3 -u`, `-uz` and `umount -l`,
/// so a failed test never leaves a mount behind.
public final class MountedMemofs: @unchecked Sendable {
    public let mountpoint: String
    public let dataFolder: String
    /// Put before the memofs command line, e.g. `LoopbackNamespace.command([])` to run the
    /// daemon in another network namespace; it must exec memofs, so the PID stays the daemon's.
    public let launcher: [String]
    public private(set) var daemon: ChildProcess?

    public var local: String { mountpoint + "/local" }
    public var shared: String { mountpoint + "/shared" }

    public init(mountpoint: String, dataFolder: String, extra: [String] = [], launcher: [String] = []) async throws {
        self.mountpoint = mountpoint
        self.dataFolder = dataFolder
        self.launcher = launcher
        try FileManager.default.createDirectory(atPath: mountpoint, withIntermediateDirectories: true)
        try await start(extra: extra)
    }

    public func start(extra: [String] = []) async throws {
        let child = try ChildProcess(command: launcher + [memofsExecutable, "mount", mountpoint, "--data", dataFolder,
                                                          "--listen", "127.0.0.1", "--port", "0", "--foreground"] + extra,
                                     label: "memofs mount")
        daemon = child
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if Self.isMounted(mountpoint) { return }
            if !child.process.isRunning {
                throw ChildProcess.Timeout(description: "memofs mount exited (\(child.process.terminationStatus)): \(child.errorOutput.suffix(2000))")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        stop()
        throw ChildProcess.Timeout(description: "memofs did not mount \(mountpoint) within 30 s: \(child.errorOutput.suffix(2000))")
    }

    /// SIGTERM (or `signal`) and a bounded wait; returns the exit status, nil if it had to be killed.
    @discardableResult
    public func stop(timeout: TimeInterval = 10, signal: Int32 = SIGTERM) -> Int32? {
        defer { Self.forceUnmount(mountpoint) }
        guard let daemon, daemon.process.isRunning else { return self.daemon?.process.terminationStatus }
        kill(daemon.process.processIdentifier, signal)
        let deadline = Date().addingTimeInterval(timeout)
        while daemon.process.isRunning && Date() < deadline { usleep(20_000) }
        if daemon.process.isRunning {
            daemon.kill9()
            return nil
        }
        return daemon.process.terminationStatus
    }

    /// Kills the daemon outright (a crash), then removes the stale mount.
    public func crash() {
        daemon?.kill9()
        Self.forceUnmount(mountpoint)
    }

    deinit { stop() }

    public var daemonLog: String { daemon?.errorOutput ?? "" }

    public static func isMounted(_ mountpoint: String) -> Bool {
        guard let table = try? String(contentsOfFile: "/proc/self/mounts", encoding: .utf8) else { return false }
        return table.split(separator: "\n").contains { $0.split(separator: " ").dropFirst().first.map(String.init) == mountpoint }
    }

    static func forceUnmount(_ mountpoint: String) {
        for arguments in [["/usr/bin/fusermount3", "-u", mountpoint], ["/usr/bin/fusermount3", "-uz", mountpoint],
                          ["/bin/umount", "-l", mountpoint]] where isMounted(mountpoint) {
            _ = try? runBlocking(arguments, timeout: 10)
        }
    }
}

public struct CommandResult: Sendable {
    public let status: Int32
    public let output: Data
    public let errors: String
    public let seconds: Double
    public var text: String { String(decoding: output, as: UTF8.self) }
}

/// Runs a command to completion, killing it (SIGKILL, by PID) if it takes longer than
/// `timeout`. Reads through a mount go through commands like this, never through the
/// test process itself, so a stuck read cannot hang the test.
///
/// The wait happens on a thread of its own, not on one of Swift's cooperative threads
/// (two on this machine): a test blocking one while a `cat` waits for data, and another
/// test blocking the other, starved every in-process session of the test run (a DHT node
/// answered nothing for 25 s under a full run).
@discardableResult
public func run(_ arguments: [String], timeout: TimeInterval, input: Data? = nil) async throws -> CommandResult {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try runBlocking(arguments, timeout: timeout, input: input) }) }.start()
    }
}

/// `run` for code that cannot wait asynchronously (a `deinit`, a cleanup); it blocks the
/// calling thread.
@discardableResult
public func runBlocking(_ arguments: [String], timeout: TimeInterval, input: Data? = nil) throws -> CommandResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: arguments[0])
    process.arguments = Array(arguments.dropFirst())
    process.environment = confinedEnvironment
    let output = Pipe(), errors = Pipe(), stdin = Pipe()
    process.standardOutput = output
    process.standardError = errors
    process.standardInput = stdin
    let started = Date()
    try process.run()
    if let input { stdin.fileHandleForWriting.write(input) }
    try? stdin.fileHandleForWriting.close()
    let outputData = LockedData(), errorData = LockedData()
    let readers = [Thread { outputData.set(output.fileHandleForReading.readDataToEndOfFile()) },
                   Thread { errorData.set(errors.fileHandleForReading.readDataToEndOfFile()) }]
    readers.forEach { $0.start() }
    let deadline = started.addingTimeInterval(timeout)
    while process.isRunning && Date() < deadline { usleep(10_000) }
    if process.isRunning {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        throw ChildProcess.Timeout(description: "\(arguments.joined(separator: " ")) did not finish within \(timeout) s")
    }
    // A daemon the command started may keep the pipes open: do not wait for EOF past the deadline.
    let readDeadline = max(deadline, Date().addingTimeInterval(2))
    while readers.contains(where: { !$0.isFinished }) && Date() < readDeadline { usleep(5_000) }
    return CommandResult(status: process.terminationStatus, output: outputData.value,
                         errors: String(decoding: errorData.value, as: UTF8.self), seconds: Date().timeIntervalSince(started))
}

/// What a reader thread hands over; it may still be running when the command's result is
/// returned (a daemon kept the pipe open), so the hand-over is locked.
private final class LockedData: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    func set(_ new: Data) { lock.withLock { data = new } }
    var value: Data { lock.withLock { data } }
}

/// Makes a real WebM/Opus recording with ffmpeg (a tone, `seconds` long).
public func makeWebM(at path: String, seconds: Int = 3) async throws {
    try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    let result = try await run(["/usr/bin/ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                          "sine=frequency=440:duration=\(seconds)", "-c:a", "libopus", "-b:a", "64k", path], timeout: 60)
    guard result.status == 0 else { throw ChildProcess.Timeout(description: "ffmpeg failed: \(result.errors)") }
}

/// Waits (bounded) for a condition, checked every 100 ms; a check that throws counts as not yet.
public func eventually(_ what: String, timeout: TimeInterval = 30, _ check: () async throws -> Bool) async throws {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if (try? await check()) == true { return }
        try await Task.sleep(for: .milliseconds(100))
    }
    // Once more at the deadline: a sleep that resumed late (the test process's threads all
    // busy, e.g. other tests waiting for their daemons to exit) must not fail a condition
    // that came true meanwhile, which it did in full parallel runs.
    if (try? await check()) == true { return }
    throw ChildProcess.Timeout(description: "\(what) did not happen within \(timeout) s")
}
