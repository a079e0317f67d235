import Foundation

/// Two network namespaces joined by a veth pair, made by a test with `ip netns` and
/// `ip link` and always removed again (deleting a namespace deletes its end of the pair).
/// Each side has loopback and one address in a /24 of 10.0.0.0/8 picked from the PID, so
/// concurrent runs do not collide; nothing in them can reach any other network.
public final class VethNamespaces: @unchecked Sendable {
    public let names: [String]
    public let addresses: [String]

    public init() throws {
        let pid = Int(getpid())
        let tag = "\(pid % 100_000)"
        names = ["memofs-\(tag)-a", "memofs-\(tag)-b"]
        let subnet = "10.\(200 + pid % 50).\((pid / 50) % 250)"
        addresses = ["\(subnet).1", "\(subnet).2"]
        let links = ["mfv\(tag)a", "mfv\(tag)b"]
        do {
            for name in names { try Self.ip(["netns", "add", name]) }
            try Self.ip(["link", "add", links[0], "netns", names[0], "type", "veth", "peer", "name", links[1], "netns", names[1]])
            for side in 0..<2 {
                try Self.ip(["-n", names[side], "link", "set", "lo", "up"])
                try Self.ip(["-n", names[side], "addr", "add", addresses[side] + "/24", "dev", links[side]])
                try Self.ip(["-n", names[side], "link", "set", links[side], "up"])
            }
        } catch {
            remove()
            throw error
        }
    }

    /// `command` run inside namespace `side` (0 or 1): `ip netns exec NAME command…`.
    public func command(_ side: Int, _ command: [String]) -> [String] {
        ["/usr/sbin/ip", "netns", "exec", names[side]] + command
    }

    public func remove() {
        for name in names { _ = try? runBlocking(["/usr/sbin/ip", "netns", "del", name], timeout: 10) }
    }

    deinit { remove() }

    private static func ip(_ arguments: [String]) throws {
        let result = try runBlocking(["/usr/sbin/ip"] + arguments, timeout: 10)
        guard result.status == 0 else {
            throw ChildProcess.Timeout(description: "ip \(arguments.joined(separator: " ")) failed: \(result.errors)")
        }
    }
}
