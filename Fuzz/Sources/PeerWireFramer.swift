@testable import Engine
import NIOCore
import PeerProtocol

/// The engine's `PeerWireFramer`, the one framer every peer connection (TCP and WebRTC) uses,
/// fed as a transport feeds it: one read at a time, the read bytes appended to a buffer whose
/// consumed bytes are then discarded. The first byte gives how many read sizes follow (0–7),
/// each a byte (1–256 bytes per read, used in turn; 64 when none); the rest is the stream.
///
/// Properties: the events do not depend on how the stream was cut (the same events and the same
/// refusal as in one read), and every event encodes back to the bytes it was framed from.
let peerWireFramerTarget = FuzzTarget(name: "peer-wire") { bytes in
    var input = FuzzInput(bytes)
    let readSizes = (0..<Int(input.byte() % 8)).map { _ in Int(input.byte()) + 1 }
    let stream = Array(input.rest)
    let cut = FramedStream(stream, readSizes: readSizes.isEmpty ? [64] : readSizes)
    let whole = FramedStream(stream, readSizes: [max(stream.count, 1)])
    require(cut.wire == whole.wire && cut.refused == whole.refused,
            "the framer's events depend on where reads cut the stream (\(readSizes))")
    require(whole.wire == stream[..<whole.wire.count].map { $0 },
            "framed events do not encode back to the stream they came from")
    if !whole.refused {
        require(stream.count - whole.wire.count < 4 + PeerMessage.maxLength,
                "the framer holds more than one message's worth of bytes")
    }
}

/// What the framer made of a stream: its events written back as wire bytes, and whether it
/// refused the stream.
private struct FramedStream {
    var wire: [UInt8] = []
    var refused = false

    init(_ stream: [UInt8], readSizes: [Int]) {
        var framer = PeerWireFramer()
        var buffer = ByteBufferAllocator().buffer(capacity: 0)
        var offset = 0
        var read = 0
        while offset < stream.count {
            let end = min(stream.count, offset + readSizes[read % readSizes.count])
            buffer.writeBytes(stream[offset..<end])
            offset = end
            read += 1
            do {
                while let event = try framer.next(from: &buffer) {
                    switch event {
                    case .handshake(let handshake): wire += handshake.encoded()
                    case .message(let message): wire += message.encoded()
                    }
                }
                buffer.discardReadBytes()
            } catch {
                refused = true
                return
            }
        }
    }
}
