/// What the socket side should do for an ``ICEAgent``, in order.
public enum ICEAction: Equatable, Sendable {
    /// Send this datagram from our socket at `from` (a candidate's base) to `to`.
    case send([UInt8], from: ICETransportAddress, to: ICETransportAddress)
    /// Checks nominated this pair: DTLS goes over it from now on. Reported once.
    case selected(ICECandidatePair)
    /// No pair can work; the agent is finished.
    case failed(ICEFailure)
    /// The selected pair got no consent response for the consent timeout (RFC 7675): stop
    /// sending on it; the agent is finished.
    case consentLost
    /// A role conflict switched our role (RFC 8445 §7.3.1.1), for the log.
    case roleChanged(ICERole)
    /// Input that was not acted on, and why, for the log.
    case ignored(String)
}

/// Why ICE gave up.
public enum ICEFailure: Error, Equatable, Sendable, CustomStringConvertible {
    /// Every candidate pair's check failed and none is left to try.
    case allPairsFailed(count: Int)
    /// No pair was selected within the connect timeout.
    case timedOut(after: Duration)

    public var description: String {
        switch self {
        case .allPairsFailed(let count): "ICE failed: all \(count) candidate pairs failed their connectivity checks"
        case .timedOut(let after): "ICE failed: no candidate pair selected within \(after)"
        }
    }
}
