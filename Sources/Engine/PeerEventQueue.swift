import NIOConcurrencyHelpers

/// The batches a connection's bridge hands over, in order, to the one task reading them
/// (the handshake, and connections on another event loop than their torrent's).
///
/// Not an AsyncStream: a torrent switching a connection to direct delivery (see
/// `PeerEventBridge.deliverDirectly`) must take what is already queued without waiting,
/// in the same turn of the loop, so that no batch overtakes another.
final class PeerEventQueue: Sendable {
    private struct State {
        var items: [PeerEventBatcher.Item] = []
        var waiter: CheckedContinuation<PeerEventBatcher.Item?, Never>?
        var finished = false
    }

    private let state = NIOLockedValueBox(State())

    /// Queues an item, or hands it to the waiting reader. Ignored once finished.
    func push(_ item: PeerEventBatcher.Item) {
        let waiter = state.withLockedValue { state -> CheckedContinuation<PeerEventBatcher.Item?, Never>? in
            guard !state.finished else { return nil }
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.items.append(item)
            return nil
        }
        waiter?.resume(returning: item)
    }

    /// No more items: the reader gets nil once it has taken the queued ones.
    func finish() {
        let waiter = state.withLockedValue { state -> CheckedContinuation<PeerEventBatcher.Item?, Never>? in
            state.finished = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: nil)
    }

    /// The next item, waiting for one; nil after `finish`. One reader at a time.
    func next(isolation: isolated (any Actor)? = #isolation) async -> PeerEventBatcher.Item? {
        if let ready = state.withLockedValue({ Self.take(from: &$0) }) { return ready }
        return await withCheckedContinuation(isolation: isolation) { continuation in
            let ready = state.withLockedValue { state -> PeerEventBatcher.Item?? in
                if let ready = Self.take(from: &state) { return ready }
                state.waiter = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    /// Everything queued now, without waiting.
    func takeQueued() -> [PeerEventBatcher.Item] {
        state.withLockedValue { state in
            defer { state.items = [] }
            return state.items
        }
    }

    /// A queued item (`.some`), the end (`.some(nil)`), or nothing yet (nil); under the lock.
    private static func take(from state: inout State) -> PeerEventBatcher.Item?? {
        if !state.items.isEmpty { return .some(state.items.removeFirst()) }
        return state.finished ? .some(nil) : nil
    }
}
