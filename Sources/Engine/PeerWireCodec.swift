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
/// body. The one framer of the peer wire: every connection, whatever its transport, frames
/// with it.
///
/// After a throw the stream cannot be trusted: the transport closes the connection and the
/// torrent bans the peer, naming the ``PeerWireError``.
struct PeerWireFramer {
    private var handshakeDone = false

    /// The next event at the front of `buffer`, whose bytes it consumes; nil when more bytes
    /// are needed (nothing is consumed then).
    mutating func next(from buffer: inout ByteBuffer) throws -> PeerWireEvent? {
        if !handshakeDone {
            guard let bytes = buffer.readBytes(length: Handshake.length) else { return nil }
            handshakeDone = true
            return .handshake(try Handshake(decoding: bytes))
        }
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return nil }
        guard length <= PeerMessage.maxLength else {
            throw PeerWireError.messageTooLong(length: Int(length), limit: PeerMessage.maxLength)
        }
        guard buffer.readableBytes >= 4 + Int(length) else { return nil }
        buffer.moveReaderIndex(forwardBy: 4)
        if length == 0 { return .message(.keepAlive) }
        let id: UInt8 = buffer.readInteger()!
        if id == PeerMessage.ID.piece && length >= 9 {
            // A block is read straight out of the transport's bytes: going through the generic
            // payload would copy every downloaded byte once more.
            let piece: UInt32 = buffer.readInteger()!, begin: UInt32 = buffer.readInteger()!
            let block = buffer.readBytes(length: Int(length) - 9)!
            return .message(.piece(piece: piece, begin: begin, block: block))
        }
        let payload = buffer.readBytes(length: Int(length) - 1)!
        return .message(try PeerMessage(id: id, payload: payload))
    }
}

/// The peer wire framer in a TCP channel's pipeline.
struct PeerWireDecoder: ByteToMessageDecoder {
    typealias InboundOut = PeerWireEvent

    private var framer = PeerWireFramer()

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let event = try framer.next(from: &buffer) else { return .needMoreData }
        context.fireChannelRead(wrapInboundOut(event))
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

/// A TCP channel's end of its `PeerEventBatcher`: one batch per socket read burst.
final class PeerEventBridge: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = PeerWireEvent

    let batcher: PeerEventBatcher

    init(batcher: PeerEventBatcher) {
        self.batcher = batcher
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        batcher.append(unwrapInboundIn(data))
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        batcher.flush()
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
        batcher.failed(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        batcher.closed()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        batcher.stopDirectDelivery()
    }
}
