import Discovery
@testable import Engine
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import TorrentModel

/// The signaling seam's test double: offers and answers are fixed SDP texts (no WebRTC stack
/// here); it records what the tracker client handed it.
actor RecordingSignaling: WebRTCSignaling {
    static let answerSDP = "v=0\r\no=- 2 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=test-answer\r\n"
    let name: String
    private(set) var offersMade: [WebRTCOffer] = []
    private(set) var offersAnswered: [WebSocketTrackerMessage.RelayedDescription] = []
    private(set) var answersAccepted: [(offerID: WebRTCOfferID, peerID: PeerID, sdp: String)] = []
    private(set) var offersDropped: [WebRTCOfferID] = []

    init(name: String) {
        self.name = name
    }

    func makeOffers(count: Int, infoHash: InfoHash) async -> [WebRTCOffer] {
        var random = SystemRandomNumberGenerator()
        let offers = (0..<count).map { index in
            WebRTCOffer(offerID: .random(using: &random),
                        sdp: "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=test-offer:\(name)-\(offersMade.count + index)\r\n")
        }
        offersMade += offers
        return offers
    }

    func answer(offer: WebSocketTrackerMessage.RelayedDescription) async throws -> String {
        offersAnswered.append(offer)
        return Self.answerSDP
    }

    func accept(answerSDP: String, offerID: WebRTCOfferID, from peerID: PeerID, infoHash: InfoHash) async {
        answersAccepted.append((offerID, peerID, answerSDP))
    }

    func dropOffer(_ offerID: WebRTCOfferID, infoHash: InfoHash) async {
        offersDropped.append(offerID)
    }
}

/// A torrent for a tracker client: fixed byte counts, the status kept for the test to read.
final class StatusBox: Sendable {
    private let box = NIOLockedValueBox<[String?]>([])
    var history: [String?] { box.withLockedValue { $0 } }
    var current: String? { box.withLockedValue { $0.last ?? nil } }

    func torrent(_ infoHash: InfoHash) -> WebSocketTrackerTorrent {
        WebSocketTrackerTorrent(infoHash: infoHash,
                                transfer: { .init(uploaded: 0, downloaded: 0, left: 1000) },
                                statusChanged: { [box] status in box.withLockedValue { $0.append(status) } })
    }
}

func randomInfoHash() -> InfoHash {
    InfoHash(bytes: (0..<20).map { _ in UInt8.random(in: 0...255) })!
}

/// One code point per byte, as the tracker protocol writes binary ids.
func binaryString(_ bytes: [UInt8]) -> String {
    String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) }))
}

func jsonText(_ object: [String: Any]) -> String {
    String(decoding: try! JSONSerialization.data(withJSONObject: object), as: UTF8.self)
}

let testLogger = Logger(label: "memofs.test.wstracker")

/// A WebSocket "tracker" that misbehaves on purpose, on 127.0.0.1 with a free port: for each
/// connection, once our first announce arrives (not the scrape before it), it carries out its script. It never answers pings.
final class HostileWebSocketTracker: Sendable {
    enum Step: Sendable {
        case text(String)
        /// One text frame of this many bytes.
        case hugeFrame(bytes: Int)
        /// A text message of `total` bytes in fragments of `fragment` bytes.
        case fragmented(total: Int, fragment: Int)
        case closeFrame(code: UInt16)
        /// TCP close, no close frame.
        case abruptClose
    }

    let channel: Channel
    let received = NIOLockedValueBox<[String]>([])
    let connections = NIOLockedValueBox(0)
    var url: String { "ws://127.0.0.1:\(channel.localAddress!.port!)/announce" }

    /// `script(n)`: the steps for the n-th connection (0-based).
    init(script: @escaping @Sendable (Int) -> [Step]) async throws {
        let received = self.received
        let connections = self.connections
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                let index = connections.withLockedValue { count in
                    defer { count += 1 }
                    return count
                }
                let upgrader = NIOWebSocketServerUpgrader(
                    maxFrameSize: 1 << 20,
                    shouldUpgrade: { channel, _ in channel.eventLoop.makeSucceededFuture([:]) },
                    upgradePipelineHandler: { channel, _ in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(
                                HostileScriptHandler(steps: script(index), received: received))
                        }
                    })
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                        withServerUpgrade: (upgraders: [upgrader], completionHandler: { _ in }))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    func stop() async {
        try? await channel.close()
    }
}

private final class HostileScriptHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame
    let steps: [HostileWebSocketTracker.Step]
    let received: NIOLockedValueBox<[String]>
    var started = false

    init(steps: [HostileWebSocketTracker.Step], received: NIOLockedValueBox<[String]>) {
        self.steps = steps
        self.received = received
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        guard frame.opcode == .text else { return }  // pings go unanswered on purpose
        var payload = frame.unmaskedData
        let text = payload.readString(length: payload.readableBytes) ?? ""
        received.withLockedValue { $0.append(text) }
        // The client scrapes when the socket opens; the script answers its first announce.
        guard !started, text.contains("\"action\":\"announce\"") else { return }
        started = true
        for step in steps {
            switch step {
            case .text(let text):
                send(.text, context.channel.allocator.buffer(string: text), context: context)
            case .hugeFrame(let bytes):
                send(.text, context.channel.allocator.buffer(repeating: UInt8(ascii: "x"), count: bytes), context: context)
            case .fragmented(let total, let fragment):
                var sent = 0
                while sent < total {
                    let count = min(fragment, total - sent)
                    let opcode: WebSocketOpcode = sent == 0 ? .text : .continuation
                    sent += count
                    context.write(wrapOutboundOut(WebSocketFrame(fin: sent == total, opcode: opcode,
                                                                 data: context.channel.allocator.buffer(repeating: UInt8(ascii: "x"), count: count))),
                                  promise: nil)
                }
                context.flush()
            case .closeFrame(let code):
                var data = context.channel.allocator.buffer(capacity: 2)
                data.writeInteger(code)
                send(.connectionClose, data, context: context)
            case .abruptClose:
                context.close(promise: nil)
            }
        }
    }

    private func send(_ opcode: WebSocketOpcode, _ data: ByteBuffer, context: ChannelHandlerContext) {
        context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: opcode, data: data)), promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}
