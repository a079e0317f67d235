import NIOConcurrencyHelpers

/// Where the engine reads the time: every timer, rate, redial wait and choking round of a
/// session asks its clock, never `ContinuousClock.now` itself, so a test steps a torrent
/// through minutes of timeouts (a silent peer, the interest kept after the last read) in
/// milliseconds. Sockets' own timeouts (a TCP connect) stay on real time: they are I/O.
public struct EngineClock: Sendable {
    private let read: @Sendable () -> ContinuousClock.Instant

    public init(_ read: @escaping @Sendable () -> ContinuousClock.Instant) {
        self.read = read
    }

    public var now: ContinuousClock.Instant { read() }

    /// The machine's monotonic clock: what a mounted memofs runs on.
    public static let continuous = EngineClock { ContinuousClock.now }
}

/// A clock that moves only when told to, for tests.
public final class ManualClock: Sendable {
    private let current: NIOLockedValueBox<ContinuousClock.Instant>

    public init(start: ContinuousClock.Instant = .now) {
        current = NIOLockedValueBox(start)
    }

    public var now: ContinuousClock.Instant { current.withLockedValue { $0 } }

    public func advance(by duration: Duration) {
        current.withLockedValue { $0 = $0 + duration }
    }

    /// The clock to put in a session's configuration.
    public var clock: EngineClock {
        let current = self.current
        return EngineClock { current.withLockedValue { $0 } }
    }
}
