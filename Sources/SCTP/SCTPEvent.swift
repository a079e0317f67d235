/// What an `SCTPAssociation` tells its owner, through the `events` closure given at init.
public enum SCTPEvent: Equatable, Sendable {
    /// The association is up (both sides' INITs met): messages can flow.
    case connected
    /// A whole message (reassembled if usrsctp delivered it in parts), with its stream and PPID.
    case message(stream: UInt16, ppid: UInt32, bytes: [UInt8])
    /// A send that returned `.wouldBlock` would now fit: try it again.
    case sendSpaceAvailable
    /// The peer reset these incoming streams (RFC 6525): in WebRTC, it closed those channels.
    case streamReset(streams: [UInt16])
    /// A message usrsctp accepted could not be delivered (the association went down under it).
    case sendFailed(stream: UInt16, ppid: UInt32)
    /// The association is gone; nothing more arrives. Not sent after the owner's own `close()`.
    case closed(SCTPCloseReason)
}

/// Why an association ended (from usrsctp's `SCTP_ASSOC_CHANGE` notification).
public enum SCTPCloseReason: Equatable, Sendable {
    /// The peer aborted (or closed with linger 0, as `close()` does), or retransmissions ran out.
    /// `errorCause` is the SCTP error cause usrsctp reported (0 when none).
    case lost(errorCause: UInt16)
    /// The peer shut the association down gracefully.
    case shutdown
    /// The association never came up (INIT retransmissions ran out).
    case cannotStart
}

/// What `SCTPAssociation.send` did with a message.
public enum SCTPSendResult: Equatable, Sendable {
    /// usrsctp took the whole message; it will deliver it (or report `.sendFailed`).
    case sent
    /// The send buffer is full: keep the message and send it after `.sendSpaceAvailable`.
    case wouldBlock
}
