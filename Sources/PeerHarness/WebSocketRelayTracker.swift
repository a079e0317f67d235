import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket

/// A WebTorrent-style WebSocket tracker on loopback, for tests that need one on any machine:
/// it registers each announcing peer under its info hash, hands each offer to one other peer of
/// the swarm, relays each answer back to the offerer by `to_peer_id`, and counts seeders and
/// leechers in announce and scrape replies, as bittorrent-tracker does. Its JSON is written by Foundation, not by memofs's encoder, so a test also checks that
/// memofs reads another writer's JSON (binary ids as UTF-8 or `\u00XX`).
public final class WebSocketRelayTracker: Sendable {
    public let port: Int
    private let channel: Channel
    private let swarms: Swarms

    public var url: String { "ws://127.0.0.1:\(port)/announce" }

    /// The JSON texts it received, oldest first (for a test to inspect).
    public var received: [String] { swarms.log() }

    public init(group: EventLoopGroup) async throws {
        let swarms = Swarms()
        let upgrader = NIOWebSocketServerUpgrader(
            maxFrameSize: 1 << 20,
            shouldUpgrade: { channel, _ in channel.eventLoop.makeSucceededFuture(HTTPHeaders()) },
            upgradePipelineHandler: { channel, _ in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOWebSocketFrameAggregator(
                        minNonFinalFragmentSize: 0, maxAccumulatedFrameCount: 64, maxAccumulatedFrameSize: 1 << 20))
                    try channel.pipeline.syncOperations.addHandler(RelayHandler(swarms: swarms))
                }
            })
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline(
                    withServerUpgrade: (upgraders: [upgrader], completionHandler: { _ in }))
            }
        channel = try await bootstrap.bind(host: "127.0.0.1", port: 0).get()
        port = channel.localAddress?.port ?? 0
        self.swarms = swarms
    }

    public func stop() async {
        try? await channel.close()
        swarms.closeAll()
    }

    /// Who is in which swarm: peer id → its socket, per info hash. Touched from many loops.
    final class Swarms: Sendable {
        private struct State {
            var peers: [String: [String: Channel]] = [:]
            /// Peers whose last announce said `left: 0`, per info hash.
            var seeders: [String: Set<String>] = [:]
            var log: [String] = []
        }
        private let state = NIOLockedValueBox(State())

        func log() -> [String] { state.withLockedValue { $0.log } }

        func record(_ message: String) {
            state.withLockedValue { $0.log.append(message) }
        }

        /// Registers the peer and returns the others of the swarm.
        func join(infoHash: String, peerID: String, seeding: Bool, channel: Channel) -> [(String, Channel)] {
            state.withLockedValue { state in
                state.peers[infoHash, default: [:]][peerID] = channel
                if seeding { state.seeders[infoHash, default: []].insert(peerID) } else { state.seeders[infoHash]?.remove(peerID) }
                return state.peers[infoHash]!.filter { $0.key != peerID }.map { ($0.key, $0.value) }
            }
        }

        func leave(infoHash: String, peerID: String) {
            state.withLockedValue {
                _ = $0.peers[infoHash]?.removeValue(forKey: peerID)
                $0.seeders[infoHash]?.remove(peerID)
            }
        }

        func leave(channel: Channel) {
            state.withLockedValue { state in
                for hash in state.peers.keys { state.peers[hash] = state.peers[hash]!.filter { $0.value !== channel } }
            }
        }

        func peer(_ peerID: String, in infoHash: String) -> Channel? {
            state.withLockedValue { $0.peers[infoHash]?[peerID] }
        }

        /// Seeders and the others, as an announce or scrape reply counts them.
        func counts(of infoHash: String) -> (complete: Int, incomplete: Int) {
            state.withLockedValue { state in
                let all = state.peers[infoHash]?.count ?? 0
                let seeding = state.seeders[infoHash]?.count ?? 0
                return (seeding, all - seeding)
            }
        }

        func closeAll() {
            let channels = state.withLockedValue { $0.peers.values.flatMap(\.values) }
            for channel in channels { channel.close(promise: nil) }
        }
    }

    final class RelayHandler: ChannelInboundHandler, Sendable {
        typealias InboundIn = WebSocketFrame
        typealias OutboundOut = WebSocketFrame

        let swarms: Swarms

        init(swarms: Swarms) {
            self.swarms = swarms
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let frame = unwrapInboundIn(data)
            switch frame.opcode {
            case .text:
                var data = frame.unmaskedData
                let text = data.readString(length: data.readableBytes) ?? ""
                handle(text, on: context.channel)
            case .ping:
                let pong = WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)
                context.writeAndFlush(wrapOutboundOut(pong), promise: nil)
            case .connectionClose:
                context.close(promise: nil)
            default:
                break
            }
        }

        func channelInactive(context: ChannelHandlerContext) {
            swarms.leave(channel: context.channel)
            context.fireChannelInactive()
        }

        private func handle(_ text: String, on channel: Channel) {
            guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
                return send(["failure reason": "invalid JSON"], on: channel)
            }
            swarms.record(text)
            if object["action"] as? String == "scrape" {
                let hashes = object["info_hash"] as? [String] ?? (object["info_hash"] as? String).map { [$0] } ?? []
                var files: [String: Any] = [:]
                for hash in hashes {
                    let counts = swarms.counts(of: hash)
                    files[hash] = ["complete": counts.complete, "incomplete": counts.incomplete, "downloaded": counts.complete]
                }
                return send(["action": "scrape", "files": files], on: channel)
            }
            guard let infoHash = object["info_hash"] as? String, let peerID = object["peer_id"] as? String,
                  object["action"] as? String == "announce" else {
                return send(["failure reason": "not an announce with info_hash and peer_id"], on: channel)
            }
            if let answer = object["answer"], let to = object["to_peer_id"] as? String, let offerID = object["offer_id"] {
                if let target = swarms.peer(to, in: infoHash) {
                    send(["action": "announce", "answer": answer, "offer_id": offerID, "peer_id": peerID, "info_hash": infoHash], on: target)
                }
                return
            }
            if object["event"] as? String == "stopped" {
                swarms.leave(infoHash: infoHash, peerID: peerID)
                return
            }
            let others = swarms.join(infoHash: infoHash, peerID: peerID, seeding: (object["left"] as? Int) == 0, channel: channel)
            let counts = swarms.counts(of: infoHash)
            send(["action": "announce", "interval": 120, "info_hash": infoHash,
                  "complete": counts.complete, "incomplete": counts.incomplete], on: channel)
            let offers = object["offers"] as? [[String: Any]] ?? []
            for (offer, (_, other)) in zip(offers, others.shuffled()) {
                guard let sdp = offer["offer"], let offerID = offer["offer_id"] else { continue }
                send(["action": "announce", "offer": sdp, "offer_id": offerID, "peer_id": peerID, "info_hash": infoHash], on: other)
            }
        }

        private func send(_ object: [String: Any], on channel: Channel) {
            guard let data = try? JSONSerialization.data(withJSONObject: object) else { return }
            let buffer = channel.allocator.buffer(bytes: data)
            channel.writeAndFlush(WebSocketFrame(fin: true, opcode: .text, data: buffer), promise: nil)
        }
    }
}
