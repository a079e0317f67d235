/// When a STUN request over UDP is sent again (RFC 8489 §6.2.1): after RTO, then twice that, and
/// so on, `attempts` sends in all (Rc); after the last, a response is awaited `finalWaitMultiplier`
/// times the initial RTO (Rm) before the transaction fails.
public struct STUNRetransmission: Equatable, Sendable {
    public var initialRTO: Duration
    public var attempts: Int
    public var finalWaitMultiplier: Int

    public init(initialRTO: Duration = .milliseconds(250), attempts: Int = 7, finalWaitMultiplier: Int = 16) {
        precondition(attempts >= 1 && finalWaitMultiplier >= 1, "a STUN transaction sends at least once and waits")
        self.initialRTO = initialRTO
        self.attempts = attempts
        self.finalWaitMultiplier = finalWaitMultiplier
    }

    /// How long after send number `attempt` (1-based) to send again, or to give up after the last.
    public func wait(afterAttempt attempt: Int) -> Duration {
        attempt < attempts ? initialRTO * (1 << min(attempt - 1, 30)) : initialRTO * finalWaitMultiplier
    }
}
