import Foundation
import NIOConcurrencyHelpers

/// One network namespace a test makes, joined to the root namespace (where the test process
/// runs) by a veth pair: the root end has `rootAddress`, the end inside has `namespaceAddress`,
/// both in a /24 of 10.150.0.0/15 picked from the PID and a per-process counter, so parallel
/// runs and tests do not collide (and stay clear of `VethNamespaces`' 10.200.0.0/13). Nothing
/// routes anywhere else: the namespace's default route is on-link on the veth (no gateway, see
/// below), the root namespace gains only the /24 of its own link. Removed by `remove()` (also on deinit); `ip netns del` deletes the pair.
///
/// Used to put a browser on a network of its own that a server in the test process can reach.
public final class RootVethNamespace: @unchecked Sendable {
    public let name: String
    public let rootLink: String
    public let namespaceLink: String
    public let rootAddress: String
    public let namespaceAddress: String

    private static let counter = NIOLockedValueBox(0)

    /// - Parameter defaultRoute: the on-link default route (below); without it Chromium inside
    ///   gathers no ICE candidate at all and is reachable only as a peer-reflexive candidate.
    public init(defaultRoute: Bool = true) throws {
        let pid = Int(getpid())
        let serial = Self.counter.withLockedValue { count in
            count += 1
            return count
        }
        let tag = "\(pid % 100_000)w\(serial % 100)"
        name = "memofs-wrtc-\(pid)-\(serial)"
        rootLink = "mf\(tag)r"
        namespaceLink = "mf\(tag)n"
        let subnet = "10.\(150 + (pid + serial / 250) % 50).\((pid / 50 + serial) % 250)"
        rootAddress = "\(subnet).1"
        namespaceAddress = "\(subnet).2"
        do {
            try Self.ip(["netns", "add", name])
            try Self.ip(["link", "add", rootLink, "type", "veth", "peer", "name", namespaceLink, "netns", name])
            try Self.ip(["addr", "add", rootAddress + "/24", "dev", rootLink])
            try Self.ip(["link", "set", rootLink, "up"])
            try Self.ip(["-n", name, "link", "set", "lo", "up"])
            try Self.ip(["-n", name, "addr", "add", namespaceAddress + "/24", "dev", namespaceLink])
            try Self.ip(["-n", name, "link", "set", namespaceLink, "up"])
            // Chromium gathers host candidates only on the interface of the default route (it
            // asks the kernel which source address a datagram to 8.8.8.8 would get, sending
            // nothing); without one it offers no candidate at all. An on-link default route on
            // the veth gives it one that leads nowhere: a frame for any address but the root
            // end's is never sent, since nobody answers ARP for it.
            if defaultRoute { try Self.ip(["-n", name, "route", "add", "default", "dev", namespaceLink]) }
        } catch {
            remove()
            throw error
        }
    }

    /// `command` run inside the namespace: `ip netns exec NAME command…` (ip execs it, so the
    /// PID a `ChildProcess` gets is the command's own).
    public func command(_ command: [String]) -> [String] {
        ["/usr/sbin/ip", "netns", "exec", name] + command
    }

    /// PIDs of the processes still inside the namespace (`ip netns pids`); all of them are
    /// ours, since nobody else knows its name.
    public func processes() -> [pid_t] {
        guard let result = try? runBlocking(["/usr/sbin/ip", "netns", "pids", name], timeout: 10) else { return [] }
        return String(decoding: result.output, as: UTF8.self).split(whereSeparator: \.isNewline).compactMap { pid_t($0.trimmingCharacters(in: .whitespaces)) }
    }

    /// SIGKILLs what is left inside (a browser's helpers that outlived it), then deletes the
    /// namespace, which deletes the veth pair with it. Safe to call twice.
    public func remove() {
        for pid in processes() { kill(pid, SIGKILL) }
        _ = try? runBlocking(["/usr/sbin/ip", "netns", "del", name], timeout: 10)
        // Should the namespace have been gone already, the root end may still exist.
        _ = try? runBlocking(["/usr/sbin/ip", "link", "del", rootLink], timeout: 10)
    }

    deinit { remove() }

    private static func ip(_ arguments: [String]) throws {
        let result = try runBlocking(["/usr/sbin/ip"] + arguments, timeout: 10)
        guard result.status == 0 else {
            throw ChildProcess.Timeout(description: "ip \(arguments.joined(separator: " ")) failed: \(result.errors)")
        }
    }
}
