import SystemPackage

/// Why an `SCTPAssociation` call failed. errno from libusrsctp becomes `.system` here, with the
/// name of the usrsctp call that set it; nothing above this module sees a raw errno.
public enum SCTPError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A usrsctp call failed with this errno.
    case system(call: String, errno: Errno)
    /// The message is larger than the association's `maxMessageSize` (the peer's
    /// `a=max-message-size`; 256 KiB for browsers): split it, or raise the limit if the peer allows.
    case messageTooLarge(size: Int, limit: Int)
    /// SCTP cannot carry an empty user message; WebRTC sends one byte under the "empty" PPIDs.
    case emptyMessage
    /// The association was closed with `close()` (or never came up); make a new one.
    case closed
    /// A maximum message size must be positive.
    case invalidMaxMessageSize(Int)

    public var description: String {
        switch self {
        case .system(let call, let errno):
            "SCTP: \(call) failed: \(errno) (errno \(errno.rawValue))"
        case .messageTooLarge(let size, let limit):
            "SCTP: a \(size)-byte message is above the \(limit)-byte maximum message size; send it in parts of at most \(limit) bytes"
        case .emptyMessage:
            "SCTP: an empty message cannot be sent; send one byte under the 'empty' PPID (56 or 57) instead"
        case .closed:
            "SCTP: the association is closed; open a new one"
        case .invalidMaxMessageSize(let size):
            "SCTP: maximum message size \(size) must be positive (RFC 8841: 65536 when the SDP gives none)"
        }
    }
}
