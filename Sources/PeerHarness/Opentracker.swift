import Foundation
import TestSupport
import TorrentModel

/// Debian's opentracker on loopback, HTTP and UDP on one port, with a whitelist of the
/// info hashes a test uses (Debian builds it in whitelist mode).
public final class Opentracker: @unchecked Sendable {
    public let port: Int
    let folder: TemporaryFolder
    private let child: ChildProcess

    public var httpURL: String { "http://127.0.0.1:\(port)/announce" }
    public var udpURL: String { "udp://127.0.0.1:\(port)/announce" }

    public init(infoHashes: [InfoHash]) async throws {
        folder = try TemporaryFolder()
        chmod(folder.path, 0o755)
        let whitelist = infoHashes.map(\.hex).joined(separator: "\n") + "\n"
        try whitelist.write(toFile: folder.path + "/whitelist", atomically: true, encoding: .utf8)
        chmod(folder.path + "/whitelist", 0o644)
        var lastError: Error?
        for _ in 0..<5 {
            let port = Int.random(in: 20_000...40_000)
            let child = try ChildProcess("/usr/bin/opentracker", ["-i", "127.0.0.1", "-p", "\(port)", "-P", "\(port)",
                                                                  "-d", folder.path, "-w", "whitelist"], label: "opentracker")
            if await Self.answers(port: port) {
                self.port = port
                self.child = child
                return
            }
            lastError = ChildProcess.Timeout(description: "opentracker did not start on \(port): \(child.errorOutput)")
            child.stop()
        }
        throw lastError!
    }

    public func stop() { child.stop() }

    /// Whether something accepts TCP connections on the port within 5 s.
    private static func answers(port: Int) async -> Bool {
        for _ in 0..<50 {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            close(fd)
            if connected == 0 { return true }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return false
    }
}
