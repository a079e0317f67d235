import NIOConcurrencyHelpers

/// Hands a connection's decoded events to its torrent in batches, one batch per read burst
/// of the transport, so the torrent actor is entered once per burst rather than once per
/// message. The same for every transport (`PeerTransport`).
///
/// Backpressure: when more than `highWater` batches wait for the torrent, the transport
/// stops reading from the peer until the consumer has caught up (`consumed()`), so a peer
/// that floods us cannot grow our memory.
///
/// `append`, `flush`, `failed`, `closed` and `deliverDirectly` are called on the transport's
/// event loop; `consumed` from the consumer, anywhere.
final class PeerEventBatcher: @unchecked Sendable {
    static let highWater = 64
    static let lowWater = 8

    enum Item: Sendable {
        case events([PeerWireEvent])
        /// The connection ended; with the error that ended it, if any.
        case closed((any Error)?)
    }

    let queue: PeerEventQueue
    /// Batches yielded and not yet consumed; touched from the loop and the consumer.
    private let backlog = NIOLockedValueBox(0)
    private var pending: [PeerWireEvent] = []
    private var closedReason: (any Error)?
    private var ended = false
    /// Paused and resumed for backpressure. Weak: the transport owns what owns this batcher.
    private weak var transport: (any PeerTransport)?

    /// Set (on the transport's event loop) once the torrent reading this connection runs on
    /// the same loop: batches then go to it directly, not through `queue`.
    private var direct: ((Item) -> Void)?

    init(queue: PeerEventQueue) {
        self.queue = queue
    }

    /// The transport to pause; set once, before the first event.
    func pauses(_ transport: any PeerTransport) {
        self.transport = transport
    }

    /// From now on hands every batch and the close to `handler`, on the transport's loop;
    /// the caller then takes what `queue` already holds (`PeerEventQueue.takeQueued`) in
    /// the same turn, before `handler` can be called.
    func deliverDirectly(to handler: @escaping (Item) -> Void) {
        direct = handler
    }

    /// Drops the direct handler (it holds the link, which holds this batcher).
    func stopDirectDelivery() {
        direct = nil
    }

    func append(_ event: PeerWireEvent) {
        pending.append(event)
    }

    /// The end of a read burst: what was appended goes to the torrent as one batch.
    func flush() {
        guard !pending.isEmpty else { return }
        if let direct { direct(.events(pending)) } else { queue.push(.events(pending)) }
        pending = []
        let waiting = backlog.withLockedValue { count -> Int in
            count += 1
            return count
        }
        if waiting > Self.highWater { transport?.setReading(false) }
    }

    /// The transport failed: the error is what `closed()` reports.
    func failed(_ error: any Error) {
        closedReason = closedReason ?? error
        flush()
    }

    /// The connection ended: what is pending goes out, then the close. Once only.
    func closed() {
        guard !ended else { return }
        ended = true
        flush()
        if let direct {
            self.direct = nil
            direct(.closed(closedReason))
        } else {
            queue.push(.closed(closedReason))
            queue.finish()
        }
    }

    /// The consumer finished a batch; resumes reading once the backlog is small again.
    func consumed() {
        let waiting = backlog.withLockedValue { count -> Int in
            count -= 1
            return count
        }
        if waiting == Self.lowWater { transport?.setReading(true) }
    }
}
