/// The route a pair of candidates makes: the socket address we send from (a local candidate's
/// base) and the peer's address we send to. What ICE selects, and where DTLS then goes.
public struct ICECandidatePair: Hashable, Sendable, CustomStringConvertible {
    public var local: ICETransportAddress
    public var remote: ICETransportAddress

    public init(local: ICETransportAddress, remote: ICETransportAddress) {
        self.local = local
        self.remote = remote
    }

    /// RFC 8445 §6.1.2.3: 2³²·min(G, D) + 2·max(G, D) + (G > D ? 1 : 0), G the controlling
    /// agent's candidate priority and D the controlled agent's. Priorities are clamped to the
    /// 2³¹ − 1 RFC 8445 §5.1.2 allows, so a peer's out-of-range priority cannot overflow the sum.
    public static func priority(controlling: UInt32, controlled: UInt32) -> UInt64 {
        let (g, d) = (UInt64(min(controlling, maximumPriority)), UInt64(min(controlled, maximumPriority)))
        return (min(g, d) << 32) + 2 * max(g, d) + (g > d ? 1 : 0)
    }

    static let maximumPriority: UInt32 = 1 << 31 - 1

    public var description: String { "\(local) → \(remote)" }
}
