/// The `m=application … webrtc-datachannel` section: where and how to reach the peer (ICE), whose
/// certificate to expect (DTLS), and the SCTP association's port and largest message.
public struct DataChannelMedia: Equatable, Sendable {
    /// The `m=` line's port: the default candidate's port, or 9 (discard) when there is none.
    public var port: UInt16
    /// `UDP/DTLS/SCTP` (or `TCP/DTLS/SCTP`).
    public var transport: String
    /// The `c=` line's address (`IN IP4 127.0.0.1`); `0.0.0.0` until candidates are known.
    public var connectionAddressType: String
    public var connectionAddress: String
    public var iceUfrag: String
    public var icePwd: String
    /// `a=ice-options` tokens, e.g. `trickle`; empty when absent.
    public var iceOptions: [String]
    public var fingerprint: DTLSFingerprint
    /// `a=setup`; absent means the offerer is `active` (RFC 4145), kept as nil.
    public var setup: DTLSSetup?
    /// `a=mid`, which `a=group:BUNDLE` names.
    public var mid: String?
    /// The SCTP port inside the DTLS association; 5000 when `a=sctp-port` is absent (RFC 8841).
    public var sctpPort: UInt16
    /// The largest message the peer takes; nil when absent (RFC 8841: then 64 KiB), 0 = no limit.
    public var maxMessageSize: UInt64?
    public var candidates: [ICECandidate]
    /// `a=end-of-candidates`: no more will come by trickle.
    public var endOfCandidates: Bool
    /// Media-level `a=` lines we do not interpret, in order.
    public var otherAttributes: [SDPAttribute]

    public init(port: UInt16 = 9, transport: String = "UDP/DTLS/SCTP", connectionAddressType: String = "IP4",
                connectionAddress: String = "0.0.0.0", iceUfrag: String, icePwd: String, iceOptions: [String] = [],
                fingerprint: DTLSFingerprint, setup: DTLSSetup?, mid: String?, sctpPort: UInt16 = 5000,
                maxMessageSize: UInt64? = nil, candidates: [ICECandidate] = [], endOfCandidates: Bool = false,
                otherAttributes: [SDPAttribute] = []) {
        self.port = port
        self.transport = transport
        self.connectionAddressType = connectionAddressType
        self.connectionAddress = connectionAddress
        self.iceUfrag = iceUfrag
        self.icePwd = icePwd
        self.iceOptions = iceOptions
        self.fingerprint = fingerprint
        self.setup = setup
        self.mid = mid
        self.sctpPort = sctpPort
        self.maxMessageSize = maxMessageSize
        self.candidates = candidates
        self.endOfCandidates = endOfCandidates
        self.otherAttributes = otherAttributes
    }

    /// The section's lines, without line endings, in Chromium's order.
    var lines: [String] {
        var lines = ["m=application \(port) \(transport) webrtc-datachannel",
                     "c=IN \(connectionAddressType) \(connectionAddress)"]
        lines += candidates.map { "a=candidate:\($0)" }
        if endOfCandidates { lines.append("a=end-of-candidates") }
        lines += ["a=ice-ufrag:\(iceUfrag)", "a=ice-pwd:\(icePwd)"]
        if !iceOptions.isEmpty { lines.append("a=ice-options:\(iceOptions.joined(separator: " "))") }
        lines.append("a=fingerprint:\(fingerprint)")
        if let setup { lines.append("a=setup:\(setup.rawValue)") }
        if let mid { lines.append("a=mid:\(mid)") }
        lines.append("a=sctp-port:\(sctpPort)")
        if let maxMessageSize { lines.append("a=max-message-size:\(maxMessageSize)") }
        lines += otherAttributes.map { "a=" + $0.text }
        return lines
    }
}
