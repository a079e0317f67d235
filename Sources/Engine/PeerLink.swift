import NIOCore
import NIOPosix
import PeerProtocol
import TorrentModel

/// One open peer connection: the channel to write to and the stream of what arrives.
final class PeerLink: Sendable {
    let channel: Channel
    let items: PeerEventQueue
    /// The address we dialled, or the remote address of an accepted connection.
    let remote: PeerAddress

    private let bridge: PeerEventBridge

    private init(channel: Channel, items: PeerEventQueue, remote: PeerAddress, bridge: PeerEventBridge) {
        self.channel = channel
        self.items = items
        self.remote = remote
        self.bridge = bridge
    }

    /// Tells the connection one batch of events was handled (see `PeerEventBridge`'s backpressure).
    func consumed() {
        PeerEventBridge.consumed(bridge, channel: channel)
    }

    /// Hands this connection's batches and its close to `handler` on the channel's loop from
    /// now on. Call on that loop, and take what `items` holds in the same turn.
    func deliverDirectly(to handler: @escaping (PeerEventBridge.Item) -> Void) {
        channel.eventLoop.preconditionInEventLoop()
        bridge.deliverDirectly(to: handler)
    }

    /// Adds the wire decoder and the bridge to a fresh channel.
    static func attach(to channel: Channel, remote: PeerAddress) -> EventLoopFuture<PeerLink> {
        let queue = PeerEventQueue()
        return channel.eventLoop.submit {
            let bridge = PeerEventBridge(queue: queue)
            try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(PeerWireDecoder()))
            try channel.pipeline.syncOperations.addHandler(bridge)
            return PeerLink(channel: channel, items: queue, remote: remote, bridge: bridge)
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
        var buffer = channel.allocator.buffer(capacity: messages.count * 17)
        for message in messages { buffer.writeBytes(message.encoded()) }
        channel.writeAndFlush(buffer, promise: nil)
    }

    func send(_ message: PeerMessage) { send([message]) }

    func sendRaw(_ bytes: [UInt8]) {
        channel.writeAndFlush(channel.allocator.buffer(bytes: bytes), promise: nil)
    }

    /// Writes piece messages in one trip to the event loop and one flush; each block is
    /// written as its own buffer after a 13-byte header, so it is not copied. Completes
    /// when the last one is written to the socket.
    func sendBlocks(_ blocks: [(piece: Int, begin: Int, block: ByteBuffer)]) -> EventLoopFuture<Void> {
        let channel = self.channel
        return channel.eventLoop.flatSubmit {
            var last: EventLoopFuture<Void> = channel.eventLoop.makeSucceededVoidFuture()
            for (piece, begin, block) in blocks {
                let header = PeerMessage.encodePieceHeader(piece: UInt32(piece), begin: UInt32(begin),
                                                           blockLength: block.readableBytes)
                channel.write(channel.allocator.buffer(bytes: header), promise: nil)
                last = channel.write(block)
            }
            channel.flush()
            return last
        }
    }

    func close() {
        channel.close(promise: nil)
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
