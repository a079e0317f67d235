@testable import Engine
import NIOCore
import NIOEmbedded
import PeerProtocol
import TestSupport

/// Bytes fed through the production decoder (`PeerWireDecoder` in a `ByteToMessageHandler`,
/// as every connection has it), one read at a time, and what came out.
struct WireFeed {
    static let handshake = Handshake(infoHash: sampleInfoHash, peerID: samplePeerID)

    private let channel = EmbeddedChannel(handler: ByteToMessageHandler(PeerWireDecoder()))
    /// Whether the handshake came out first.
    private(set) var handshakeDecoded = false
    /// The messages after the handshake, in order.
    private(set) var messages: [PeerMessage] = []
    /// What the decoder refused the stream with; nothing is fed after it.
    private(set) var error: (any Error)?

    /// A feed that has already read our handshake, when `withHandshake`.
    init(withHandshake: Bool = true) {
        if withHandshake { read(Self.handshake.encoded()) }
    }

    /// One read from the socket.
    mutating func read(_ bytes: some Collection<UInt8>) {
        guard error == nil else { return }
        do {
            try channel.writeInbound(channel.allocator.buffer(bytes: bytes))
        } catch {
            self.error = error
        }
        while let event = try? channel.readInbound(as: PeerWireEvent.self) {
            switch event {
            case .handshake(let handshake): handshakeDecoded = handshake == Self.handshake && messages.isEmpty
            case .message(let message): messages.append(message)
            }
        }
    }

    /// `stream` after the handshake, cut before each offset in `cuts`.
    static func decode(_ stream: [UInt8], cuts: [Int] = []) -> WireFeed {
        var feed = WireFeed()
        var start = 0
        for cut in cuts.sorted() + [stream.count] where cut > start {
            feed.read(stream[start..<min(cut, stream.count)])
            start = min(cut, stream.count)
        }
        return feed
    }

    /// The error the decoder stopped at, as a wire error.
    var wireError: PeerWireError? { error as? PeerWireError }
}
