/// Which agent nominates (RFC 8445 §6.1.1): the offerer is controlling unless both are full
/// agents that disagree, which the tie-breaker settles (§7.3.1.1).
public enum ICERole: Equatable, Sendable {
    case controlling
    case controlled

    var other: ICERole { self == .controlling ? .controlled : .controlling }
}
