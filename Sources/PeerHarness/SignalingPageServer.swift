import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// A small HTTP server that hands a browser one page and carries signaling between the page and
/// the test: named mailboxes in both directions. `GET /` (any query) is the page; the page
/// `POST`s texts to `/box/NAME` (an offer, an answer, results, log lines) that the test takes with
/// `next(_:timeout:)`, and `GET`s `/box/NAME` for what the test `put` there, waiting up to 20 s
/// for it (204 when nothing came, so the page asks again). Every connection is closed after its
/// response. Binds one address (a veth end the test made), never a public one.
public final class SignalingPageServer: Sendable {
    public let host: String
    public let port: Int
    private let channel: Channel
    private let boxes: Boxes

    /// `http://HOST:PORT/` — the page's address.
    public var url: String { "http://\(host):\(port)/" }

    public init(host: String, page: String, group: EventLoopGroup) async throws {
        let boxes = Boxes()
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.pipeline.addHandler(Handler(page: page, boxes: boxes))
                }
            }
        channel = try await bootstrap.bind(host: host, port: 0).get()
        port = channel.localAddress?.port ?? 0
        self.host = host
        self.boxes = boxes
    }

    /// Leaves `text` in box `name` for the page (replacing what was there).
    public func put(_ name: String, _ text: String) { boxes.put(name, text) }

    /// The next text the page posted to box `name` that this has not returned yet, waiting up
    /// to `timeout` seconds for it.
    public func next(_ name: String, timeout: TimeInterval) async throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let text = boxes.take(name) { return text }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw ChildProcess.Timeout(description: "the page posted nothing to /box/\(name) within \(timeout) s")
    }

    /// Everything the page posted to box `name` so far, taken or not (its log, for a failure message).
    public func all(_ name: String) -> [String] { boxes.all(name) }

    public func stop() { channel.close(promise: nil) }

    /// The mailboxes, touched from every connection's loop and the test.
    final class Boxes: Sendable {
        private struct State {
            var toPage: [String: String] = [:]
            var fromPage: [String: [String]] = [:]
            var taken: [String: Int] = [:]
        }
        private let state = NIOLockedValueBox(State())

        func put(_ name: String, _ text: String) { state.withLockedValue { $0.toPage[name] = text } }
        func forPage(_ name: String) -> String? { state.withLockedValue { $0.toPage[name] } }
        func post(_ name: String, _ text: String) { state.withLockedValue { $0.fromPage[name, default: []].append(text) } }
        func all(_ name: String) -> [String] { state.withLockedValue { $0.fromPage[name] ?? [] } }

        func take(_ name: String) -> String? {
            state.withLockedValue { state in
                let index = state.taken[name] ?? 0
                guard let texts = state.fromPage[name], index < texts.count else { return nil }
                state.taken[name] = index + 1
                return texts[index]
            }
        }
    }

    final class Handler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        private let page: String
        private let boxes: Boxes
        private var head: HTTPRequestHead?
        private var body: [UInt8] = []

        init(page: String, boxes: Boxes) {
            self.page = page
            self.boxes = boxes
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                self.head = head
                body = []
            case .body(let buffer):
                body += buffer.readableBytesView
            case .end:
                guard let head else { return }
                respond(to: head, context: context)
            }
        }

        private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
            let path = String(head.uri.split(separator: "?", maxSplits: 1).first ?? "")
            if head.method == .GET && (path == "/" || path == "/index.html") {
                return send(.ok, page, type: "text/html; charset=utf-8", context: context)
            }
            guard path.hasPrefix("/box/") else { return send(.notFound, "not found", context: context) }
            let name = String(path.dropFirst("/box/".count))
            switch head.method {
            case .POST:
                boxes.post(name, String(decoding: body, as: UTF8.self))
                send(.ok, "ok", context: context)
            case .GET:
                waitForBox(name, until: .now() + .seconds(20), context: context)
            default:
                send(.methodNotAllowed, "GET or POST", context: context)
            }
        }

        /// Answers with box `name` once the test put something there, or 204 at `deadline`.
        private func waitForBox(_ name: String, until deadline: NIODeadline, context: ChannelHandlerContext) {
            if let text = boxes.forPage(name) { return send(.ok, text, context: context) }
            guard NIODeadline.now() < deadline else { return send(.noContent, "", context: context) }
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            context.eventLoop.scheduleTask(in: .milliseconds(20)) { [self] in
                guard bound.value.channel.isActive else { return }
                waitForBox(name, until: deadline, context: bound.value)
            }
        }

        private func send(_ status: HTTPResponseStatus, _ text: String, type: String = "text/plain; charset=utf-8",
                          context: ChannelHandlerContext) {
            let bytes = Array(text.utf8)
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: type)
            headers.add(name: "Content-Length", value: "\(bytes.count)")
            headers.add(name: "Cache-Control", value: "no-store")
            headers.add(name: "Connection", value: "close")
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: bytes)))), promise: nil)
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
        }
    }
}
