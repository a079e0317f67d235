import Foundation
import WebRTCProtocol

/// The `openssl` command as a child process a test starts and always ends (the house way of
/// PeerHarness's ChildProcess, plus writing to its stdin): stdout is drained by a thread of its
/// own; `stop()` closes stdin, then SIGTERM, then SIGKILL, to this PID only.
///
/// `@unchecked Sendable`: the collected output is guarded by `lock`; the rest is set in init.
final class CommandLineOpenSSL: @unchecked Sendable {
    static let executable = "/usr/bin/openssl"

    private let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private let lock = NSLock()
    private var collected = ""

    init(_ arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: Self.executable)
        process.arguments = arguments
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let pipe = output
        let reader = Thread { [weak self] in
            let fd = pipe.fileHandleForReading.fileDescriptor
            var buffer = [UInt8](repeating: 0, count: 16 * 1024)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if count > 0 {
                    self?.append(String(decoding: buffer[0..<count], as: UTF8.self))
                } else if count < 0 && errno == EINTR {
                    continue
                } else {
                    return
                }
            }
        }
        reader.name = "openssl-output"
        reader.start()
    }

    deinit { stop() }

    private func append(_ text: String) {
        lock.lock()
        defer { lock.unlock() }
        collected += text
    }

    var text: String {
        lock.lock()
        defer { lock.unlock() }
        return collected
    }

    var isRunning: Bool { process.isRunning }

    func write(_ line: String) throws {
        try input.fileHandleForWriting.write(contentsOf: Data(line.utf8))
    }

    /// Waits (bounded) until the output contains `fragment`.
    func waitForOutput(containing fragment: String, timeout: Duration) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if text.contains(fragment) { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return text.contains(fragment)
    }

    func stop() {
        try? input.fileHandleForWriting.close()
        guard process.isRunning else { return }
        let pid = process.processIdentifier
        kill(pid, SIGTERM)
        let deadline = Date().addingTimeInterval(3)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { kill(pid, SIGKILL) }
        process.waitUntilExit()
    }

    /// Runs `openssl arguments` to completion (bounded) and returns its output.
    static func run(_ arguments: [String], timeout: Duration = .seconds(20)) async throws -> String {
        let command = try CommandLineOpenSSL(arguments)
        defer { command.stop() }
        let deadline = ContinuousClock.now + timeout
        while command.isRunning && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        guard !command.isRunning, command.process.terminationStatus == 0 else {
            throw CommandFailed(description: "openssl \(arguments.joined(separator: " ")): \(command.text.suffix(1000))")
        }
        // The reader thread may still be handing over the last bytes.
        try await Task.sleep(for: .milliseconds(50))
        return command.text
    }

    /// A self-signed ECDSA P-256 certificate and key made by the CLI in `folder`, with its
    /// SHA-256 fingerprint as the CLI computes it.
    static func makeCertificate(in folder: URL) async throws -> (certificate: String, key: String, fingerprint: DTLSFingerprint) {
        let certificate = folder.appendingPathComponent("cert.pem").path
        let key = folder.appendingPathComponent("key.pem").path
        _ = try await run(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                           "-keyout", key, "-out", certificate, "-days", "1", "-subj", "/CN=openssl-cli"])
        // "sha256 Fingerprint=AB:CD:…"
        let printed = try await run(["x509", "-in", certificate, "-noout", "-fingerprint", "-sha256"])
        guard let hex = printed.split(separator: "=").last?.trimmingCharacters(in: .whitespacesAndNewlines) else {
            throw CommandFailed(description: "no fingerprint in \(printed)")
        }
        return (certificate, key, try DTLSFingerprint(parsing: "sha-256 \(hex)"))
    }

    struct CommandFailed: Error, CustomStringConvertible {
        let description: String
    }
}
