import Foundation

/// A network namespace with nothing but `lo` up, made with `ip netns add` and always removed
/// again. memofs, a WebSocket tracker and headless Chromium put in one of these reach each
/// other on 127.0.0.1 and nothing else.
///
/// Commands enter it with `nsenter --net=…`, which changes only the network namespace:
/// `ip netns exec` also makes a new mount namespace, where a FUSE mount made inside would be
/// invisible to the test, which reads recordings through the mount from outside.
public final class LoopbackNamespace: @unchecked Sendable {
    public let name: String
    public var path: String { "/var/run/netns/" + name }

    private static let counter = Counter()

    public init() throws {
        name = "memofs-lo-\(getpid() % 100_000)-\(Self.counter.next())"
        do {
            try Self.ip(["netns", "add", name])
            try Self.ip(["-n", name, "link", "set", "lo", "up"])
        } catch {
            remove()
            throw error
        }
    }

    /// `command` run inside the namespace (nsenter execs it: the PID is the command's own).
    public func command(_ command: [String]) -> [String] {
        ["/usr/bin/nsenter", "--net=" + path] + command
    }

    public func remove() {
        _ = try? runBlocking(["/usr/sbin/ip", "netns", "del", name], timeout: 10)
    }

    deinit { remove() }

    private static func ip(_ arguments: [String]) throws {
        let result = try runBlocking(["/usr/sbin/ip"] + arguments, timeout: 10)
        guard result.status == 0 else {
            throw ChildProcess.Timeout(description: "ip \(arguments.joined(separator: " ")) failed: \(result.errors)")
        }
    }

    private final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var value = 0
        func next() -> Int { lock.withLock { value += 1; return value } }
    }
}
