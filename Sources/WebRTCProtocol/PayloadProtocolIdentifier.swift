/// The SCTP payload protocol identifier of each message on a WebRTC association (RFC 8831 §8,
/// IANA): it says whether a message is DCEP, text or binary, since SCTP has no other type field.
public enum PayloadProtocolIdentifier: UInt32, Sendable {
    /// A DCEP message (`DATA_CHANNEL_OPEN` or `DATA_CHANNEL_ACK`, RFC 8832).
    case dcep = 50
    /// A UTF-8 string message.
    case string = 51
    /// A binary message; WebTorrent sends the BitTorrent wire as these.
    case binary = 53
    /// An empty string: SCTP cannot carry zero bytes, so one byte is sent under this PPID.
    case emptyString = 56
    /// An empty binary message, likewise one byte.
    case emptyBinary = 57
}
