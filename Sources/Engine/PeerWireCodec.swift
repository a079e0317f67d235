import NIOConcurrencyHelpers
import NIOCore
import PeerProtocol

/// What arrives on a peer connection: the handshake first, then messages.
enum PeerWireEvent: Sendable {
    case handshake(Handshake)
    case message(PeerMessage)
}

/// Splits a peer's byte stream into the 68-byte handshake and then length-prefixed
/// messages, refusing a length prefix above ``PeerMessage/maxLength`` before buffering its
/// body. The one decoder of the peer wire: every connection frames with it.
///
/// After a throw the stream cannot be trusted and NIO closes the connection; the torrent
/// bans the peer, naming the ``PeerWireError``.
struct PeerWireDecoder: ByteToMessageDecoder {
    typealias InboundOut = PeerWireEvent

    private var handshakeDone = false

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        if !handshakeDone {
            guard let bytes = buffer.readBytes(length: Handshake.length) else { return .needMoreData }
            context.fireChannelRead(wrapInboundOut(.handshake(try Handshake(decoding: bytes))))
            handshakeDone = true
            return .continue
        }
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return .needMoreData }
        guard length <= PeerMessage.maxLength else {
            throw PeerWireError.messageTooLong(length: Int(length), limit: PeerMessage.maxLength)
        }
        guard buffer.readableBytes >= 4 + Int(length) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 4)
        if length == 0 {
            context.fireChannelRead(wrapInboundOut(.message(.keepAlive)))
            return .continue
        }
        let id: UInt8 = buffer.readInteger()!
        if id == PeerMessage.ID.piece && length >= 9 {
            // A block is read straight out of the socket's bytes: going through the generic
            // payload would copy every downloaded byte once more.
            let piece: UInt32 = buffer.readInteger()!, begin: UInt32 = buffer.readInteger()!
            let block = buffer.readBytes(length: Int(length) - 9)!
            context.fireChannelRead(wrapInboundOut(.message(.piece(piece: piece, begin: begin, block: block))))
            return .continue
        }
        let payload = buffer.readBytes(length: Int(length) - 1)!
        context.fireChannelRead(wrapInboundOut(.message(try PeerMessage(id: id, payload: payload))))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}

public enum PeerConnectionError: Error, CustomStringConvertible, Sendable {
    case wrongInfoHash
    case connectedToSelf
    case timeout(String)

    public var description: String {
        switch self {
        case .wrongInfoHash: "the peer's handshake names another torrent"
        case .connectedToSelf: "connected to ourselves"
        case .timeout(let what): "timed out: \(what)"
        }
    }
}

/// Hands decoded events to a `PeerEventQueue` in batches, one batch per socket read burst,
/// so the torrent actor is entered once per burst rather than once per message.
///
/// Backpressure: when more than `highWater` batches wait for the torrent, the channel
/// stops reading from the socket until the consumer has caught up (`consumed()`), so a
/// peer that floods us cannot grow our memory.
final class PeerEventBridge: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = PeerWireEvent

    static let highWater = 64
    static let lowWater = 8
    /// Batches yielded and not yet consumed; touched from the loop and the consumer.
    let backlog = NIOLockedValueBox(0)

    enum Item: Sendable {
        case events([PeerWireEvent])
        /// The connection ended; with the error that ended it, if any.
        case closed((any Error)?)
    }

    let queue: PeerEventQueue
    private var pending: [PeerWireEvent] = []
    private var closedReason: (any Error)?

    /// Set (on the channel's event loop) once the torrent reading this connection runs on
    /// the same loop: batches then go to it directly, not through `queue`.
    private var direct: ((Item) -> Void)?

    init(queue: PeerEventQueue) {
        self.queue = queue
    }

    /// From now on hands every batch and the close to `handler`, on the channel's loop;
    /// the caller then takes what `queue` already holds (`PeerEventQueue.takeQueued`) in
    /// the same turn, before `handler` can be called.
    func deliverDirectly(to handler: @escaping (Item) -> Void) {
        direct = handler
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        pending.append(unwrapInboundIn(data))
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flush()
        // Acknowledge at once. A peer that sends 16 KiB blocks with Nagle's algorithm on
        // (smaller than a loopback segment) holds its next block until our ACK, which Linux
        // delays up to 40 ms when little is in flight: a fresh request for one piece would
        // stall for 40 ms after its first blocks. The kernel leaves quick-ack mode on its
        // own, so it is asked again after every read.
        if let provider = context.channel as? SocketOptionProvider {
            _ = provider.unsafeSetSocketOption(level: .tcp, name: NIOBSDSocket.Option(rawValue: Self.tcpQuickAck), value: CInt(1))
        }
        context.fireChannelReadComplete()
    }

    /// TCP_QUICKACK from <netinet/tcp.h> (Linux).
    static let tcpQuickAck: CInt = 12

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        closedReason = closedReason ?? error
        flush()
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        flush()
        if let direct {
            // Dropped before it is called: it holds the link, which holds this bridge.
            self.direct = nil
            direct(.closed(closedReason))
        } else {
            queue.push(.closed(closedReason))
            queue.finish()
        }
        context.fireChannelInactive()
    }

    private func flush() {
        guard !pending.isEmpty else { return }
        if let direct { direct(.events(pending)) } else { queue.push(.events(pending)) }
        pending = []
        let waiting = backlog.withLockedValue { count -> Int in
            count += 1
            return count
        }
        if waiting > Self.highWater, let channel = context?.channel {
            channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
        }
    }

    private var context: ChannelHandlerContext?

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        direct = nil
    }

    /// The consumer finished a batch; resumes reading once the backlog is small again.
    static func consumed(_ bridge: PeerEventBridge, channel: Channel) {
        let waiting = bridge.backlog.withLockedValue { count -> Int in
            count -= 1
            return count
        }
        if waiting == lowWater {
            channel.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }
        }
    }
}
