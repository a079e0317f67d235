/// One of our candidates: where the peer may reach us (`address`) and the socket address that
/// sends and receives for it (`base`, RFC 8445 §5.1.1). For a host candidate the two are the
/// same; for a server-reflexive one `address` is what a STUN server saw and `base` our socket.
public struct ICELocalCandidate: Equatable, Sendable {
    public var kind: ICECandidate.Kind
    public var address: ICETransportAddress
    public var base: ICETransportAddress
    public var foundation: String
    public var localPreference: UInt16
    public var priority: UInt32

    public init(kind: ICECandidate.Kind, address: ICETransportAddress, base: ICETransportAddress,
                foundation: String, localPreference: UInt16) {
        self.kind = kind
        self.address = address
        self.base = base
        self.foundation = foundation
        self.localPreference = localPreference
        self.priority = Self.priority(kind: kind, localPreference: localPreference)
    }

    /// RFC 8445 §5.1.2.1: 2²⁴·type preference + 2⁸·local preference + (256 − component), with the
    /// recommended type preferences (host 126, peer-reflexive 110, server-reflexive 100, relay 0)
    /// and component 1, the only one a data channel has.
    public static func priority(kind: ICECandidate.Kind, localPreference: UInt16) -> UInt32 {
        let typePreference: UInt32 = switch kind {
        case .host: 126
        case .prflx: 110
        case .srflx: 100
        case .relay: 0
        }
        return typePreference << 24 | UInt32(localPreference) << 8 | (256 - 1)
    }

    /// Host candidates for our socket addresses, most preferred first: local preference 65535,
    /// 65534… in that order, foundation the address's position (one foundation per base IP and
    /// type, RFC 8445 §5.1.1.3).
    public static func host(_ addresses: [ICETransportAddress]) -> [ICELocalCandidate] {
        var foundations: [[UInt8]: String] = [:]
        return addresses.enumerated().map { index, address in
            let foundation = foundations[address.ip] ?? "\(foundations.count + 1)"
            foundations[address.ip] = foundation
            return ICELocalCandidate(kind: .host, address: address, base: address, foundation: foundation,
                                     localPreference: UInt16(clamping: 65535 - index))
        }
    }

    /// The server-reflexive candidate a ``STUNBindingClient`` found for `base`; its foundation
    /// differs from every host foundation (the `s` prefix) and names the base's IP (FNV-1a of its
    /// bytes, so an IPv6 base still fits the 32 characters a foundation may have).
    public static func serverReflexive(mapped: ICETransportAddress, base: ICETransportAddress,
                                       localPreference: UInt16 = 65535) -> ICELocalCandidate {
        let hash = base.ip.reduce(UInt32(2_166_136_261)) { ($0 ^ UInt32($1)) &* 16_777_619 }
        return ICELocalCandidate(kind: .srflx, address: mapped, base: base, foundation: "s" + String(hash, radix: 16),
                                 localPreference: localPreference)
    }

    /// The `a=candidate:` line for our SDP (RFC 8839): UDP, component 1; server-reflexive ones
    /// name their base as `raddr`/`rport`.
    public var sdp: ICECandidate {
        ICECandidate(foundation: String(foundation.prefix(32)), priority: priority, address: address.host,
                     port: address.port, kind: kind,
                     relatedAddress: kind == .host ? nil : base.host, relatedPort: kind == .host ? nil : base.port)
    }
}
