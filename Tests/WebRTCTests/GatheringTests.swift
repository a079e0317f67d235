import Foundation
import NIOCore
import NIOPosix
import Testing
@testable import WebRTC

@Suite struct GatheringTests {
    /// Each socket gets a receive buffer that holds a browser's burst: Linux reports twice
    /// what was granted, and grants at most net.core.rmem_max. With the kernel's default
    /// buffer Chromium lost about half its packets to a busy loop (UdpRcvbufErrors).
    @Test func socketsGetAReceiveBufferForABrowsersBurst() async throws {
        let configuration = WebRTCConfiguration(addresses: ["127.0.0.1"])
        let (_, sockets) = try await Gathering.gather(on: MultiThreadedEventLoopGroup.singleton.next(), configuration: configuration)
        defer { for socket in sockets.values { socket.close(promise: nil) } }
        let maximum = (try? String(contentsOfFile: "/proc/sys/net/core/rmem_max", encoding: .utf8))
            .flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? 0
        let wanted = min(Int(Gathering.receiveBufferSize), maximum) * 2
        #expect(!sockets.isEmpty)
        for socket in sockets.values {
            let granted = try await socket.getOption(ChannelOptions.socketOption(.so_rcvbuf)).get()
            #expect(Int(granted) >= wanted, "SO_RCVBUF \(granted), rmem_max \(maximum)")
        }
    }
}
