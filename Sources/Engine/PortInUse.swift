import NIOCore
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

/// A port another program holds, named, so a refusal can say which one and what to do.
public struct PortInUse: Error, CustomStringConvertible {
    public enum Use: Sendable { case peers, dht }

    public let use: Use
    public let host: String
    public let port: Int

    public var description: String {
        switch use {
        case .peers: "the peer port \(port) (TCP on \(host)) is taken"
        case .dht: "the DHT port \(port) (UDP on \(host)) is taken"
        }
    }

    /// Runs a bind and turns "address already in use" into this error.
    static func naming<T>(_ use: Use, host: String, port: Int, _ bind: () async throws -> T) async throws -> T {
        do {
            return try await bind()
        } catch let error as IOError where error.errnoCode == EADDRINUSE {
            throw PortInUse(use: use, host: host, port: port)
        }
    }

    /// Whether the ports a session would bind are free, checked by binding them and letting
    /// go at once: for a refusal before anything starts. The UDP port is bound without
    /// `SO_REUSEADDR`, so a port that another program (another memofs too) holds that way
    /// counts as taken, although the engine's own bind would share it.
    /// - Parameters:
    ///   - peerPort: the TCP port for peers; 0 (any free port) is not checked.
    ///   - dhtPort: the DHT's UDP port, when one is asked for; 0 is not checked.
    public static func check(host: String, peerPort: Int, dhtPort: Int?) async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        if peerPort != 0 {
            let channel = try await naming(.peers, host: host, port: peerPort) {
                try await ServerBootstrap(group: group)
                    .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
                    .bind(host: host, port: peerPort).get()
            }
            try? await channel.close()
        }
        if let dhtPort, dhtPort != 0 {
            let channel = try await naming(.dht, host: host, port: dhtPort) {
                try await DatagramBootstrap(group: group).bind(host: host, port: dhtPort).get()
            }
            try? await channel.close()
        }
    }
}
