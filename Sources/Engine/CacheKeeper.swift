import NIOConcurrencyHelpers
import TorrentModel

/// The session's ``CachePolicy`` behind a lock, so that every torrent (each an actor on its
/// own event loop) tells it of reads and verified pieces in place, without a trip to the
/// session's actor per read; and the hand-off to the session's evicting, one run at a time.
final class CacheKeeper: Sendable {
    private struct State: Sendable {
        var policy: CachePolicy
        /// An eviction run is under way.
        var running = false
        /// Something changed while it ran: it goes round once more.
        var again = false
    }

    private let state: NIOLockedValueBox<State>
    /// Starts the session's eviction run (set by the session once it runs).
    private let starter = NIOLockedValueBox<(@Sendable () -> Void)?>(nil)

    init(limit: Int64?) {
        state = NIOLockedValueBox(State(policy: CachePolicy(limit: limit)))
    }

    func update<T>(_ body: (inout CachePolicy) -> T) -> T {
        state.withLockedValue { body(&$0.policy) }
    }

    var usage: CachePolicy.Usage { state.withLockedValue { $0.policy.usage } }

    func setStarter(_ start: (@Sendable () -> Void)?) {
        starter.withLockedValue { $0 = start }
    }

    /// After a change that may have put the shares over the limit (a piece written, a reader
    /// gone, an unpin): starts an eviction run, or has the running one go round again.
    func evictIfOverLimit() {
        let start = state.withLockedValue { state -> Bool in
            guard state.policy.isOverLimit else { return false }
            if state.running {
                state.again = true
                return false
            }
            state.running = true
            return true
        }
        guard start else { return }
        if let run = starter.withLockedValue({ $0 }) {
            run()
        } else {
            state.withLockedValue { $0.running = false }  // no session to run it (yet)
        }
    }

    /// For the eviction run, after each round: whether to go round again (something changed
    /// meanwhile and the shares are still over the limit); false ends the run.
    func roundEnded(freedAny: Bool) -> Bool {
        state.withLockedValue { state in
            let more = state.policy.isOverLimit && (freedAny || state.again)
            state.again = false
            if !more { state.running = false }
            return more
        }
    }
}
