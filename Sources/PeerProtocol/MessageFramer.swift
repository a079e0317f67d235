/// Cuts the byte stream after the handshake into messages: an incremental,
/// pure decoder. The engine appends whatever the socket delivered, then calls
/// ``next()`` until it returns nil.
///
/// Bytes are kept in one buffer with a read index; a message is decoded
/// straight from the buffer and the index moves past it. The consumed front is
/// dropped only once it is at least half the buffer, so every byte is moved at
/// most a bounded number of times however the stream is chunked.
public struct MessageFramer: Sendable {
    /// 1 MiB. It must hold the largest message a well-behaved peer sends:
    /// a `bitfield` for ``TorrentInfo/maxPieceCount`` (2^22) pieces is
    /// 1 + 524288 bytes, a `piece` message with a 16 KiB block is 9 + 16384
    /// (and this leaves room for the up to 128 KiB blocks some old clients
    /// serve), a BEP 9 metadata piece is 16 KiB plus a small dictionary.
    /// Anything larger is refused, which bounds the memory one connection can
    /// make us hold.
    public static let defaultMaxMessageLength = 1 << 20

    /// The largest length prefix accepted: id plus payload, not counting the prefix itself.
    public let maxMessageLength: Int

    private var buffer: [UInt8] = []
    /// Where the next frame starts in `buffer`.
    private var readIndex = 0

    /// A buffer that has grown beyond this is released once it is empty,
    /// so an idle connection does not keep a megabyte it once needed.
    private static let retainedCapacity = 256 << 10

    public init(maxMessageLength: Int = MessageFramer.defaultMaxMessageLength) {
        precondition(maxMessageLength >= 0, "maxMessageLength must not be negative")
        self.maxMessageLength = maxMessageLength
    }

    /// Bytes received but not yet returned as messages.
    public var bufferedByteCount: Int { buffer.count - readIndex }

    public mutating func append(_ bytes: some Collection<UInt8>) {
        compact()
        buffer.append(contentsOf: bytes)
    }

    /// The next complete message, or nil when more bytes are needed.
    ///
    /// Throws as soon as a length prefix larger than ``maxMessageLength`` is
    /// read, before waiting for (and buffering) its body, and when a message's
    /// payload is wrong for its id. After a throw the framer stays at the
    /// offending frame: the stream cannot be trusted, so the connection
    /// should be closed.
    public mutating func next() throws(PeerWireError) -> PeerMessage? {
        let available = buffer.count - readIndex
        guard available >= 4 else { return nil }
        let length = Int(BigEndian.uint32(buffer, at: readIndex))
        guard length <= maxMessageLength else { throw .messageTooLong(length: length, limit: maxMessageLength) }
        guard available - 4 >= length else { return nil }
        if length == 0 {
            readIndex += 4
            return .keepAlive
        }
        let id = buffer[readIndex + 4]
        let message = try PeerMessage(id: id, body: buffer[(readIndex + 5)..<(readIndex + 4 + length)])
        readIndex += 4 + length
        return message
    }

    private mutating func compact() {
        guard readIndex > 0 else { return }
        if readIndex == buffer.count {
            buffer.removeAll(keepingCapacity: buffer.capacity <= Self.retainedCapacity)
            readIndex = 0
        } else if readIndex >= buffer.count - readIndex {
            buffer.removeSubrange(0..<readIndex)
            readIndex = 0
        }
    }
}
