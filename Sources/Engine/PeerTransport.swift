import NIOCore

/// What a peer connection runs over. The peer wire, the torrent, its picker, deadlines,
/// uploads, bans and limits sit above this seam and are the same for every transport: a
/// browser's WebRTC data channel enters a torrent exactly as a TCP connection does (and uTP
/// will next).
///
/// A transport delivers what it reads through a `PeerEventBatcher` (see `PeerLink`) and
/// takes writes here. Everything runs on `eventLoop`; calls from elsewhere hop onto it.
protocol PeerTransport: AnyObject, Sendable {
    var kind: PeerTransportKind { get }
    var eventLoop: EventLoop { get }
    var allocator: ByteBufferAllocator { get }
    /// False while the transport's send buffer is over its high-water mark: optional
    /// traffic (metadata pieces) waits.
    var isWritable: Bool { get }
    /// Writes the buffers in order and sends them; completes when the last one is written
    /// to the transport (not when the peer has it).
    func write(_ buffers: [ByteBuffer]) -> EventLoopFuture<Void>
    func close()
    /// Backpressure from the reader: stop taking bytes from the peer, or resume.
    func setReading(_ reading: Bool)
}

/// How a connected peer is reached, for `memofs status`.
public enum PeerTransportKind: String, Sendable, Codable {
    case tcp
    /// A WebRTC data channel (a browser, or another hybrid client).
    case webRTC = "webrtc"
}
