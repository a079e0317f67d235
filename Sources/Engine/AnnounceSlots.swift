import NIOConcurrencyHelpers

/// A fixed number of announces (tracker requests, DHT lookups) that may run at once across
/// all torrents: thousands of recordings starting together queue for a slot, first come
/// first served, instead of opening thousands of connections or lookups at once.
final class AnnounceSlots: Sendable {
    private struct State {
        var free: Int
        var waiters: [CheckedContinuation<Void, Never>] = []
        var head = 0
    }

    let limit: Int
    private let state: NIOLockedValueBox<State>

    init(limit: Int) {
        self.limit = limit
        state = NIOLockedValueBox(State(free: limit))
    }

    /// Waits for a slot; give it back with ``release()``.
    func acquire() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let granted = state.withLockedValue { state in
                guard state.free > 0 else {
                    state.waiters.append(continuation)
                    return false
                }
                state.free -= 1
                return true
            }
            if granted { continuation.resume() }
        }
    }

    /// Hands the slot to the longest waiter, or frees it.
    func release() {
        let next = state.withLockedValue { state -> CheckedContinuation<Void, Never>? in
            guard state.head < state.waiters.count else {
                state.free = min(limit, state.free + 1)
                return nil
            }
            let waiter = state.waiters[state.head]
            state.head += 1
            if state.head == state.waiters.count {
                state.waiters.removeAll(keepingCapacity: false)
                state.head = 0
            }
            return waiter
        }
        next?.resume()
    }
}
