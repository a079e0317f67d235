import DTLS
import Foundation
import Logging
import NIOPosix
import PeerHarness
import Testing
import WebRTC
import WebRTCProtocol

/// Why the test cannot run here, if it cannot.
let serverReflexiveTestMissing: String? = {
    guard getuid() == 0 else { return "needs root for its nftables rule" }
    for tool in ["/usr/bin/turnserver", "/usr/sbin/nft"] where !FileManager.default.isExecutableFile(atPath: tool) {
        return "needs \(tool) (apt-get install -y coturn nftables)"
    }
    return nil
}()

/// `--stun`: a STUN server (Debian's coturn) that sees us behind a NAT gives the offer a
/// server-reflexive candidate. The NAT is an nftables rule of the test's own on loopback
/// (127.0.0.1 → 127.0.0.2 for the server's port only), removed at the end; nothing leaves lo.
@Suite(.serialized, .enabled(if: serverReflexiveTestMissing == nil, "\(serverReflexiveTestMissing ?? "")"))
struct ServerReflexiveTests {
    @Test(.timeLimit(.minutes(1))) func aSTUNServerBehindANATGivesAServerReflexiveCandidate() async throws {
        let port = Int.random(in: 20_000...40_000)
        let folder = NSTemporaryDirectory() + "memofs-stun-\(getpid())"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let server = try ChildProcess("/usr/bin/turnserver", [
            "-n", "--stun-only", "--listening-ip", "127.0.0.1", "-p", "\(port)", "--no-cli", "--no-tls", "--no-dtls",
            "--log-file", "stdout", "--userdb", folder + "/turndb", "--pidfile", folder + "/turnserver.pid",
        ], label: "turnserver")
        defer { server.kill9() }
        let table = "memofs_stun_\(getpid())"
        defer { _ = try? runBlocking(["/usr/sbin/nft", "delete", "table", "ip", table], timeout: 10) }
        for rule in [["add", "table", "ip", table],
                     ["add", "chain", "ip", table, "post", "{ type nat hook postrouting priority srcnat; }"],
                     ["add", "rule", "ip", table, "post", "ip", "daddr", "127.0.0.1", "udp", "dport", "\(port)",
                      "snat", "to", "127.0.0.2"]] {
            let result = try runBlocking(["/usr/sbin/nft"] + rule, timeout: 10)
            try #require(result.status == 0, "nft \(rule.joined(separator: " ")): \(result.errors)")
        }
        try await Task.sleep(for: .milliseconds(500))  // the server binds its port

        let connection = try await WebRTCPeerConnection.offer(
            on: MultiThreadedEventLoopGroup.singleton.next(),
            configuration: WebRTCConfiguration(stunServers: ["127.0.0.1:\(port)"], gatherTimeout: .seconds(5), addresses: ["127.0.0.1"]),
            certificate: try DTLSCertificate(), logger: Logger(label: "stun-test"))
        defer { connection.close() }
        let candidates = connection.localDescription.media.candidates
        let host = try #require(candidates.first { $0.kind == .host })
        let reflexive = try #require(candidates.first { $0.kind == .srflx }, "\(candidates) \(server.errorOutput.suffix(1000))")
        #expect(host.address == "127.0.0.1")
        #expect(reflexive.address == "127.0.0.2", "the address the server saw, through the NAT")
        #expect(reflexive.relatedAddress == "127.0.0.1" && reflexive.relatedPort == host.port, "its base is the host candidate's socket")
        #expect(reflexive.priority < host.priority)
    }
}
