import NIOCore
import WebRTC

/// A peer connection over a WebRTC data channel (a browser running WebTorrent, or another
/// hybrid client): the channel's byte stream framed into the peer wire like a TCP socket's.
final class DataChannelTransport: PeerTransport, WebRTCDataChannelDelegate, @unchecked Sendable {
    let connection: WebRTCPeerConnection
    let batcher: PeerEventBatcher
    /// Touched on the connection's loop only.
    private var framer = PeerWireFramer()
    private var buffer: ByteBuffer

    /// `connection` must be open; from now on its bytes go to `batcher`.
    init(connection: WebRTCPeerConnection, batcher: PeerEventBatcher) {
        self.connection = connection
        self.batcher = batcher
        buffer = ByteBufferAllocator().buffer(capacity: 0)
        connection.delegate = self
    }

    var kind: PeerTransportKind { .webRTC }
    var eventLoop: EventLoop { connection.eventLoop }
    var allocator: ByteBufferAllocator { ByteBufferAllocator() }
    var isWritable: Bool { connection.isWritable }

    func write(_ buffers: [ByteBuffer]) -> EventLoopFuture<Void> {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(buffers.reduce(0) { $0 + $1.readableBytes })
        for buffer in buffers { bytes.append(contentsOf: buffer.readableBytesView) }
        return connection.send(bytes)
    }

    func close() {
        connection.close()
    }

    func setReading(_ reading: Bool) {
        connection.setReading(reading)
    }

    func dataChannel(received bytes: [UInt8]) {
        buffer.writeBytes(bytes)
        do {
            while let event = try framer.next(from: &buffer) { batcher.append(event) }
            buffer.discardReadBytes()
            batcher.flush()
        } catch {
            batcher.failed(error)
            connection.close()
        }
    }

    func dataChannelBecameWritable() {}

    func dataChannelClosed(_ error: WebRTCError?) {
        if let error { batcher.failed(error) }
        batcher.closed()
    }
}
