import NIOCore
import NIOPosix
import PeerProtocol
import TorrentModel

/// One open peer connection, over any transport: where to write, and the stream of what
/// arrives.
final class PeerLink: Sendable {
    let transport: any PeerTransport
    let items: PeerEventQueue
    /// The address we dialled, or the remote address of an accepted connection.
    let remote: PeerAddress

    private let batcher: PeerEventBatcher

    /// A link over `transport`, which hands what it reads to `batcher` (made with `items`).
    init(transport: any PeerTransport, remote: PeerAddress, batcher: PeerEventBatcher) {
        self.transport = transport
        self.items = batcher.queue
        self.remote = remote
        self.batcher = batcher
        batcher.pauses(transport)
    }

    var eventLoop: EventLoop { transport.eventLoop }
    var isWritable: Bool { transport.isWritable }

    /// Tells the connection one batch of events was handled (see `PeerEventBatcher`'s backpressure).
    func consumed() {
        batcher.consumed()
    }

    /// Hands this connection's batches and its close to `handler` on the transport's loop
    /// from now on. Call on that loop, and take what `items` holds in the same turn.
    func deliverDirectly(to handler: @escaping (PeerEventBatcher.Item) -> Void) {
        eventLoop.preconditionInEventLoop()
        batcher.deliverDirectly(to: handler)
    }

    /// Adds the wire decoder and the bridge to a fresh TCP channel.
    static func attach(to channel: Channel, remote: PeerAddress) -> EventLoopFuture<PeerLink> {
        channel.eventLoop.submit {
            let batcher = PeerEventBatcher(queue: PeerEventQueue())
            try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(PeerWireDecoder()))
            try channel.pipeline.syncOperations.addHandler(PeerEventBridge(batcher: batcher))
            return PeerLink(transport: TCPTransport(channel: channel), remote: remote, batcher: batcher)
        }
    }

    /// Socket reads of up to 512 KiB (NIO's default stops at 64 KiB): a peer sending at
    /// hundreds of MB/s then costs fewer reads, decoder passes and hand-offs to the torrent.
    /// A quiet connection's buffer shrinks back on its own.
    static var receiveBuffers: AdaptiveRecvByteBufferAllocator {
        AdaptiveRecvByteBufferAllocator(minimum: 1024, initial: 64 * 1024, maximum: 512 * 1024)
    }

    static func connect(to address: PeerAddress, group: EventLoopGroup, timeout: TimeAmount) async throws -> PeerLink {
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(timeout)
            .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .channelOption(ChannelOptions.writeBufferWaterMark, value: .init(low: 1 << 20, high: 4 << 20))
            .channelOption(ChannelOptions.recvAllocator, value: PeerLink.receiveBuffers)
        let channel = try await bootstrap.connect(host: address.hostText, port: Int(address.port)).get()
        return try await attach(to: channel, remote: address).get()
    }

    func send(_ messages: [PeerMessage]) {
        guard !messages.isEmpty else { return }
        var buffer = transport.allocator.buffer(capacity: messages.count * 17)
        for message in messages { buffer.writeBytes(message.encoded()) }
        _ = transport.write([buffer])
    }

    func send(_ message: PeerMessage) { send([message]) }

    func sendRaw(_ bytes: [UInt8]) {
        _ = transport.write([transport.allocator.buffer(bytes: bytes)])
    }

    /// Writes piece messages in one trip to the event loop and one flush; each block is
    /// written as its own buffer after a 13-byte header, so it is not copied. Completes
    /// when the last one is written to the transport.
    func sendBlocks(_ blocks: [(piece: Int, begin: Int, block: ByteBuffer)]) -> EventLoopFuture<Void> {
        var buffers: [ByteBuffer] = []
        buffers.reserveCapacity(blocks.count * 2)
        for (piece, begin, block) in blocks {
            let header = PeerMessage.encodePieceHeader(piece: UInt32(piece), begin: UInt32(begin),
                                                       blockLength: block.readableBytes)
            buffers.append(transport.allocator.buffer(bytes: header))
            buffers.append(block)
        }
        return transport.write(buffers)
    }

    func close() {
        transport.close()
    }
}

extension PeerAddress {
    /// The remote address of a channel, as a peer address.
    init?(socketAddress: SocketAddress?) {
        guard let socketAddress, let port = socketAddress.port, port > 0, port <= 65535 else { return nil }
        switch socketAddress {
        case .v4(let address):
            // s_addr holds the address in network order, so its bytes are a.b.c.d.
            var raw = address.address.sin_addr.s_addr
            self.init(host: .ipv4(withUnsafeBytes(of: &raw) { Array($0) }), port: UInt16(port))
        case .v6(let address):
            var raw = address.address.sin6_addr
            self.init(host: .ipv6(withUnsafeBytes(of: &raw) { Array($0) }), port: UInt16(port))
        default:
            return nil
        }
    }
}
