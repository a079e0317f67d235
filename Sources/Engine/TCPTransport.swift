import NIOCore

/// A peer connection over TCP: a NIO socket channel whose pipeline frames the peer wire
/// (`PeerWireDecoder`) into a `PeerEventBridge`.
final class TCPTransport: PeerTransport {
    let channel: Channel

    init(channel: Channel) {
        self.channel = channel
    }

    var kind: PeerTransportKind { .tcp }
    var eventLoop: EventLoop { channel.eventLoop }
    var allocator: ByteBufferAllocator { channel.allocator }
    var isWritable: Bool { channel.isWritable }

    func write(_ buffers: [ByteBuffer]) -> EventLoopFuture<Void> {
        let channel = self.channel
        if buffers.count == 1 { return channel.writeAndFlush(buffers[0]) }
        return channel.eventLoop.flatSubmit {
            var last = channel.eventLoop.makeSucceededVoidFuture()
            for buffer in buffers { last = channel.write(buffer) }
            channel.flush()
            return last
        }
    }

    func close() {
        channel.close(promise: nil)
    }

    func setReading(_ reading: Bool) {
        channel.setOption(ChannelOptions.autoRead, value: reading).whenComplete { _ in }
    }
}
