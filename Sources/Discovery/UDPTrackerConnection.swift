/// A connection id a UDP tracker handed out (BEP 15) and when we got it.
///
/// The engine keeps the last one per tracker and passes it to the next
/// ``UDPTrackerExchange``: while it is fresh an announce needs one round trip instead of two.
public struct UDPTrackerConnection: Hashable, Sendable {
    /// How long BEP 15 lets a client use a connection id after receiving it. (Trackers
    /// accept it for two minutes; the client's minute leaves room for clock drift and delays.)
    public static let defaultLifetime: Duration = .seconds(60)

    public let id: UInt64
    /// When the connect response arrived.
    public let obtained: ContinuousClock.Instant

    public init(id: UInt64, obtained: ContinuousClock.Instant) {
        self.id = id
        self.obtained = obtained
    }

    /// Whether the id may still be sent at `now`.
    public func isUsable(at now: ContinuousClock.Instant, lifetime: Duration = defaultLifetime) -> Bool {
        now >= obtained && now < obtained.advanced(by: lifetime)
    }
}
