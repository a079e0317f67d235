/// Why we announce (BEP 3 `event`, BEP 15 `event` field): the start and end of our
/// presence in a swarm, the moment we become a seed, or a regular re-announce.
public enum AnnounceEvent: Hashable, Sendable {
    case none, completed, started, stopped

    /// The value of BEP 15's 32-bit `event` field.
    public var udpCode: UInt32 {
        switch self {
        case .none: 0
        case .completed: 1
        case .started: 2
        case .stopped: 3
        }
    }

    /// The value of the HTTP `event` parameter; empty for a regular announce, which
    /// sends no parameter at all.
    public var httpValue: String {
        switch self {
        case .none: ""
        case .completed: "completed"
        case .started: "started"
        case .stopped: "stopped"
        }
    }
}
