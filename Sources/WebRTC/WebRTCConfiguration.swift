import WebRTCProtocol

/// How memofs makes WebRTC peer connections (browser peers, issue 15).
public struct WebRTCConfiguration: Sendable {
    /// STUN servers (`--stun HOST:PORT`, numeric addresses) asked for a server-reflexive
    /// candidate, so a peer behind another NAT can reach us. None by default: a STUN server
    /// is a third party that learns our address, and tests stay off the network.
    public var stunServers: [String]
    /// Offer loopback addresses too: a browser or memofs on this machine (or a test's network
    /// namespace) reaches us there. Remote peers skip them. Last in preference.
    public var offersLoopback: Bool
    /// From the start of ICE to an open data channel (ICE, DTLS, SCTP, DCEP together).
    public var connectTimeout: Duration
    /// How long gathering waits for STUN servers before the offer or answer goes without them.
    public var gatherTimeout: Duration
    /// Only these local IP addresses are offered (`--webrtc-address`); nil offers every
    /// interface's. A test uses it to keep its traffic on a veth it made.
    public var addresses: [String]?

    public init(stunServers: [String] = [], offersLoopback: Bool = true, connectTimeout: Duration = .seconds(30),
                gatherTimeout: Duration = .seconds(2), addresses: [String]? = nil) {
        self.addresses = addresses
        self.stunServers = stunServers
        self.offersLoopback = offersLoopback
        self.connectTimeout = connectTimeout
        self.gatherTimeout = gatherTimeout
    }
}

extension WebRTCConfiguration {
    /// Whether `text` names a STUN server as `stunServers` takes it: numeric `ip:port` or `[ipv6]:port`.
    public static func isSTUNServer(_ text: String) -> Bool {
        ICETransportAddress(hostPort: text) != nil
    }

    /// Whether `text` is a numeric IP address, as `addresses` takes them.
    public static func isIPAddress(_ text: String) -> Bool {
        ICETransportAddress(host: text, port: 0) != nil
    }
}
