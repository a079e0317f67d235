import WebRTCProtocol

/// Why a WebRTC peer connection could not be made or ended.
public enum WebRTCError: Error, CustomStringConvertible, Sendable {
    /// The remote's description is unusable (parse errors come as `SDPError`).
    case unusableDescription(String)
    /// No local address to offer or answer from.
    case noLocalAddress
    case ice(ICEFailure)
    case consentLost
    /// DTLS failed: its handshake, the certificate fingerprint, or a record.
    case dtls(String)
    case sctp(String)
    case dataChannel(DataChannelFailure)
    /// Bytes sent before the channel opened (it is still at `stage`).
    case notOpen(stage: String)
    /// Nothing opened within the connect timeout.
    case timedOut(stage: String, after: Duration)
    /// The remote closed the association or the channel.
    case closedByRemote
    /// We closed it.
    case closed

    public var description: String {
        switch self {
        case .unusableDescription(let reason): "unusable session description: \(reason)"
        case .noLocalAddress: "no network address to reach WebRTC peers from"
        case .ice(let failure): "\(failure)"
        case .consentLost: "ICE consent lost: the peer stopped answering (RFC 7675)"
        case .dtls(let reason): "DTLS: \(reason)"
        case .sctp(let reason): "SCTP: \(reason)"
        case .dataChannel(let failure): "data channel: \(failure)"
        case .notOpen(let stage): "the data channel is not open yet (still in \(stage))"
        case .timedOut(let stage, let after): "no data channel within \(after) (stuck in \(stage))"
        case .closedByRemote: "closed by the peer"
        case .closed: "closed"
        }
    }
}
