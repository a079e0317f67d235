import NIOCore
import WebRTCProtocol

/// The addresses of this machine's interfaces that a WebRTC peer may reach: every IPv4
/// address, and IPv6 addresses other than link-local ones (their scope cannot be written in an
/// SDP candidate). Interfaces a test adds (a veth in a namespace) are included as they appear.
enum LocalAddresses {
    static func usable(includingLoopback: Bool) throws -> [ICETransportAddress] {
        var addresses: [ICETransportAddress] = []
        var loopback: [ICETransportAddress] = []
        for device in try System.enumerateDevices() {
            guard let socketAddress = device.address, let address = ICETransportAddress(socketAddress) else { continue }
            if address.isLoopback {
                loopback.append(address)
            } else if !address.isLinkLocal, !addresses.contains(address) {
                addresses.append(address)
            }
        }
        // IPv4 first: browsers and NATs handle it everywhere.
        addresses.sort { ($0.family == .ipv4 ? 0 : 1) < ($1.family == .ipv4 ? 0 : 1) }
        return addresses + (includingLoopback ? loopback.filter { $0.family == .ipv4 } : [])
    }
}

extension ICETransportAddress {
    /// The IP of a socket address, with port 0 where it has none.
    init?(_ socketAddress: SocketAddress) {
        switch socketAddress {
        case .v4(let address):
            var raw = address.address.sin_addr.s_addr
            self.init(ip: withUnsafeBytes(of: &raw) { Array($0) }, port: UInt16(socketAddress.port ?? 0))
        case .v6(let address):
            var raw = address.address.sin6_addr
            self.init(ip: withUnsafeBytes(of: &raw) { Array($0) }, port: UInt16(socketAddress.port ?? 0))
        default:
            return nil
        }
    }

    var socketAddress: SocketAddress? {
        try? SocketAddress(ipAddress: host, port: Int(port))
    }

    var isLoopback: Bool {
        family == .ipv4 ? ip[0] == 127 : ip == Array(repeating: 0, count: 15) + [1]
    }

    var isLinkLocal: Bool {
        family == .ipv4 ? (ip[0] == 169 && ip[1] == 254) : (ip[0] == 0xFE && ip[1] & 0xC0 == 0x80)
    }

    func withPort(_ port: UInt16) -> ICETransportAddress {
        ICETransportAddress(ip: ip, port: port)!
    }
}
