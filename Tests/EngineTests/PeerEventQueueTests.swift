@testable import Engine
import NIOCore
import NIOEmbedded
import PeerProtocol
import Testing
import TorrentModel

@Suite struct PeerEventQueueTests {
    private static func batch(_ piece: UInt32) -> PeerEventBatcher.Item {
        .events([.message(.have(piece: piece))])
    }

    private static func piece(of item: PeerEventBatcher.Item?) -> UInt32? {
        guard case .events(let events)? = item, case .message(.have(let piece))? = events.first else { return nil }
        return piece
    }

    /// Items come out in the order they went in, whether the reader waited or not; after
    /// `finish` the reader drains what is queued and then gets nil, and later pushes are dropped.
    @Test func itemsComeOutInOrderThenNil() async {
        let queue = PeerEventQueue()
        queue.push(Self.batch(1))
        queue.push(Self.batch(2))
        #expect(Self.piece(of: await queue.next()) == 1)
        #expect(Self.piece(of: await queue.next()) == 2)
        let waiting = Task { await queue.next() }
        try? await Task.sleep(for: .milliseconds(50))
        queue.push(Self.batch(3))  // handed to the reader waiting on the empty queue
        #expect(Self.piece(of: await waiting.value) == 3)
        queue.push(Self.batch(4))
        queue.push(.closed(nil))
        queue.finish()
        queue.push(Self.batch(5))
        #expect(Self.piece(of: await queue.next()) == 4)
        guard case .closed? = await queue.next() else {
            Issue.record("the close was lost")
            return
        }
        #expect(await queue.next() == nil)
        #expect(await queue.next() == nil)
    }

    /// A reader waiting when the queue finishes gets nil at once.
    @Test func aWaitingReaderGetsNilOnFinish() async {
        let queue = PeerEventQueue()
        let waiting = Task { await queue.next() }
        try? await Task.sleep(for: .milliseconds(50))
        queue.finish()
        #expect(await waiting.value == nil)
    }

    /// A bridge switched to direct delivery hands every later batch and the close to its
    /// handler, in order, and nothing more to the queue; what was queued before stays there.
    @Test func aBridgeSwitchedToDirectDeliveryBypassesTheQueue() throws {
        let queue = PeerEventQueue()
        let batcher = PeerEventBatcher(queue: queue)
        let bridge = PeerEventBridge(batcher: batcher)
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(PeerWireDecoder()))
        try channel.pipeline.syncOperations.addHandler(bridge)
        try channel.writeInbound(channel.allocator.buffer(bytes: WireFeed.handshake.encoded() + PeerMessage.have(piece: 1).encoded()))
        var direct: [PeerEventBatcher.Item] = []
        batcher.deliverDirectly { direct.append($0) }
        try channel.writeInbound(channel.allocator.buffer(bytes: PeerMessage.have(piece: 2).encoded()))
        try channel.writeInbound(channel.allocator.buffer(bytes: PeerMessage.have(piece: 3).encoded() + PeerMessage.have(piece: 4).encoded()))
        _ = try? channel.finish()

        let queued = queue.takeQueued()
        #expect(queued.count == 1)
        if case .events(let events)? = queued.first {
            #expect(events.count == 2, "the handshake and have 1, read before the switch")
        }
        #expect(direct.count == 3)
        #expect(Self.piece(of: direct[0]) == 2)
        if case .events(let events) = direct[1] {
            #expect(events.count == 2, "one batch per read")
        }
        guard case .closed(nil) = direct[2] else {
            Issue.record("the close did not come last: \(direct[2])")
            return
        }
        #expect(queue.takeQueued().isEmpty)
    }
}
