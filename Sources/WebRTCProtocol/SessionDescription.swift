/// A WebRTC offer or answer that carries one data channel: the session lines and its single
/// `m=application <port> UDP/DTLS/SCTP webrtc-datachannel` section (RFC 8866 as RFC 8829 uses it,
/// with ICE of RFC 8839, DTLS of RFC 8842 and SCTP of RFC 8841). This is what WebTorrent's browser
/// peers exchange through a WebSocket tracker; audio and video sections are refused.
public struct SessionDescription: Equatable, Sendable {
    /// `o=<username> <session id> <version> IN IP4 <address>`.
    public struct Origin: Equatable, Sendable {
        public var username: String
        /// A decimal number, kept as text: RFC 8866 sets no upper bound.
        public var sessionID: String
        public var sessionVersion: UInt64
        /// `IP4` or `IP6`.
        public var addressType: String
        public var address: String

        public init(username: String = "-", sessionID: String, sessionVersion: UInt64 = 2,
                    addressType: String = "IP4", address: String = "127.0.0.1") {
            self.username = username
            self.sessionID = sessionID
            self.sessionVersion = sessionVersion
            self.addressType = addressType
            self.address = address
        }
    }

    public var origin: Origin
    /// `s=`; browsers write `-`.
    public var sessionName: String
    /// Session-level `a=` lines in order (`group:BUNDLE 0`, `extmap-allow-mixed`, `msid-semantic: WMS`).
    public var attributes: [SDPAttribute]
    public var media: DataChannelMedia

    public init(origin: Origin, sessionName: String = "-", attributes: [SDPAttribute], media: DataChannelMedia) {
        self.origin = origin
        self.sessionName = sessionName
        self.attributes = attributes
        self.media = media
    }

    /// The mids of `a=group:BUNDLE`, or nil without one.
    public var bundle: [String]? {
        attributes.first { $0.name == "group" && $0.value?.hasPrefix("BUNDLE") == true }
            .map { $0.value!.split(separator: " ").dropFirst().map(String.init) }
    }

    /// Whether a session-level flag attribute (such as `extmap-allow-mixed`) is present.
    public func has(_ name: String) -> Bool {
        attributes.contains { $0.name == name }
    }

    /// A browser's whole description is a few kilobytes even with dozens of candidates.
    public static let defaultSizeLimit = 64 * 1024
    /// Candidate lines, the longest a browser writes, stay under 300 bytes.
    public static let defaultLineLimit = 1024

    /// The description as it goes on the wire: CRLF after every line, the last included, in the
    /// order Chromium writes it (candidates before the ICE credentials).
    public var text: String {
        var lines = ["v=0",
                     "o=\(origin.username) \(origin.sessionID) \(origin.sessionVersion) IN \(origin.addressType) \(origin.address)",
                     "s=\(sessionName)", "t=0 0"]
        lines += attributes.map { "a=" + $0.text }
        lines += media.lines
        return lines.map { $0 + "\r\n" }.joined()
    }
}
