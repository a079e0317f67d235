import Foundation

/// Runs `Tests/Support/lt_helper.py` under Debian's python3-libtorrent, the reference
/// implementation the cross-checks compare against.
enum Libtorrent {
    static let python = "/usr/bin/python3"
    static let script = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Support/lt_helper.py").path

    struct Failure: Error, CustomStringConvertible { let description: String }

    /// Runs one helper command with a 60-second bound and returns its JSON answer.
    static func run(_ command: String, _ argument: String) throws -> [String: Any] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [script, command, argument]
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        // Read while waiting so a large answer cannot fill the pipe and stall the child.
        nonisolated(unsafe) var data = Data()
        let reader = Thread { data = output.fileHandleForReading.readDataToEndOfFile() }
        reader.start()
        while process.isRunning {
            if Date() > deadline {
                process.terminate()
                throw Failure(description: "lt_helper.py \(command) did not finish within 60 s")
            }
            Thread.sleep(forTimeInterval: 0.01)
        }
        while !reader.isFinished { Thread.sleep(forTimeInterval: 0.01) }
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw Failure(description: "lt_helper.py \(command) failed (\(process.terminationStatus)): \(stderr)")
        }
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw Failure(description: "lt_helper.py \(command) printed no JSON object")
        }
        return object
    }

    static func json(_ value: Any) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: value), as: UTF8.self)
    }
}
