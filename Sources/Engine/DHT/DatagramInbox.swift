import NIOConcurrencyHelpers
import NIOCore
import TorrentModel

/// One received datagram and where it came from.
struct Datagram: Sendable {
    let bytes: [UInt8]
    let sender: PeerAddress
}

/// Hands received datagrams from the event loop to an actor through a bounded stream:
/// when the actor falls behind, the oldest datagrams are dropped, so a flood costs
/// lost datagrams, never memory.
final class DatagramInbox: ChannelInboundHandler, Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    /// KRPC messages fit in one Ethernet frame; anything larger is not one.
    static let maxDatagramSize = 1500
    static let queueLength = 512

    private let continuation: AsyncStream<Datagram>.Continuation
    let datagrams: AsyncStream<Datagram>
    /// Datagrams dropped because the queue was full or too large to be a message.
    let overflowed = NIOLockedValueBox(0)

    init() {
        (datagrams, continuation) = AsyncStream.makeStream(of: Datagram.self, bufferingPolicy: .bufferingNewest(Self.queueLength))
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        guard envelope.data.readableBytes <= Self.maxDatagramSize,
              let sender = PeerAddress(socketAddress: envelope.remoteAddress) else {
            overflowed.withLockedValue { $0 += 1 }
            return
        }
        if case .dropped = continuation.yield(Datagram(bytes: Array(envelope.data.readableBytesView), sender: sender)) {
            overflowed.withLockedValue { $0 += 1 }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // A UDP socket reports ICMP errors (port unreachable) here; they are not fatal.
    }

    func channelInactive(context: ChannelHandlerContext) {
        continuation.finish()
        context.fireChannelInactive()
    }
}
