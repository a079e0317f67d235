/// Why a session description (SDP) from a browser cannot be used, in words that name the line at
/// fault and what memofs accepts instead, so a log line tells which peer sent what.
public enum SDPError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The whole description is longer than we read (a tracker relaying garbage, not a browser).
    case tooLarge(size: Int, limit: Int)
    /// One line is longer than any line a browser writes.
    case lineTooLong(line: Int, length: Int, limit: Int)
    /// A line that is not `<letter>=<value>`, or a field SDP requires that is malformed.
    case malformedLine(line: Int, text: String)
    /// No `m=application … webrtc-datachannel` section: the peer offers no data channel.
    case noApplicationSection
    /// A media section other than the data channel (audio, video): memofs only speaks data channels.
    case unsupportedMedia(String)
    /// The application section's transport is not DTLS over SCTP (`UDP/DTLS/SCTP` or `TCP/DTLS/SCTP`
    /// with the `webrtc-datachannel` format of RFC 8841), e.g. the pre-RFC `DTLS/SCTP 5000` form.
    case unsupportedTransport(String)
    /// An attribute the data channel needs is absent (`ice-ufrag`, `ice-pwd`, `fingerprint`).
    case missingAttribute(String)
    /// An attribute whose value does not follow its grammar.
    case malformedAttribute(name: String, value: String)
    /// An `a=candidate:` line that does not follow RFC 8839's grammar; `reason` says which part.
    case malformedCandidate(line: Int, reason: String)

    public var description: String {
        switch self {
        case .tooLarge(let size, let limit):
            "session description is \(size) bytes, over the \(limit) we accept"
        case .lineTooLong(let line, let length, let limit):
            "session description line \(line) is \(length) bytes, over the \(limit) we accept"
        case .malformedLine(let line, let text):
            "session description line \(line) is not '<type>=<value>' as SDP needs: \(text.prefix(80))"
        case .noApplicationSection:
            "session description has no 'm=application … UDP/DTLS/SCTP webrtc-datachannel' section: the peer offers no data channel"
        case .unsupportedMedia(let media):
            "session description has a '\(media)' section; memofs answers only data channels (m=application)"
        case .unsupportedTransport(let transport):
            "data channel transport '\(transport)' is not 'UDP/DTLS/SCTP webrtc-datachannel' (RFC 8841); the peer's WebRTC is too old"
        case .missingAttribute(let name):
            "session description has no 'a=\(name)', which a data channel needs"
        case .malformedAttribute(let name, let value):
            "session description 'a=\(name)' has a malformed value: \(value.prefix(80))"
        case .malformedCandidate(let line, let reason):
            "ICE candidate on line \(line) is malformed: \(reason)"
        }
    }
}
