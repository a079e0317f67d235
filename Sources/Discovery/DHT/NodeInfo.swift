import TorrentModel

/// A DHT node's contact: its id and the UDP address it answers on.
///
/// BEP 5's "compact node info" is the id followed by a compact IPv4 address and a
/// big-endian port, 26 bytes; BEP 32 uses the same layout with a 16-byte IPv6
/// address, 38 bytes. The address is always numeric, never a host name, since it
/// is what a datagram came from or goes to.
public struct NodeInfo: Hashable, Sendable, CustomStringConvertible {
    public static let compactIPv4Size = 26
    public static let compactIPv6Size = 38

    public let id: NodeID
    public let address: PeerAddress

    /// Nil when the address is a host name, which has no compact form.
    public init?(id: NodeID, address: PeerAddress) {
        if case .name = address.host { return nil }
        self.id = id
        self.address = address
    }

    /// Decodes one 26-byte (IPv4) or 38-byte (IPv6) entry; nil for any other length.
    public init?(compact bytes: some Collection<UInt8>) {
        let bytes = Array(bytes)
        guard bytes.count == Self.compactIPv4Size || bytes.count == Self.compactIPv6Size,
              let id = NodeID(bytes: bytes[0..<NodeID.byteCount]),
              let address = CompactAddress.decode(bytes[NodeID.byteCount...]) else { return nil }
        self.id = id
        self.address = address
    }

    /// The compact form: 26 bytes for IPv4, 38 for IPv6.
    public var compactBytes: [UInt8] {
        id.bytes + CompactAddress.encode(address)!
    }

    /// Decodes a `nodes` (26-byte entries) or `nodes6` (38-byte entries) string.
    /// A partial entry at the end is ignored rather than refused, as other clients
    /// do, and so are entries with port 0, which nobody can be reached on.
    public static func decodeList(_ bytes: [UInt8], entrySize: Int) -> [NodeInfo] {
        precondition(entrySize == compactIPv4Size || entrySize == compactIPv6Size, "entries are 26 or 38 bytes")
        var nodes: [NodeInfo] = []
        var offset = 0
        while bytes.count - offset >= entrySize {
            if let node = NodeInfo(compact: bytes[offset..<(offset + entrySize)]), node.address.port != 0 {
                nodes.append(node)
            }
            offset += entrySize
        }
        return nodes
    }

    public var description: String { "\(id)@\(address)" }
}

/// Compact peer and node addresses (BEP 23, BEP 32): the address bytes then a
/// big-endian port. Discovery's own copy, since PeerProtocol's helpers are not
/// visible here.
enum CompactAddress {
    /// 6 bytes for IPv4, 18 for IPv6; nil for a host name or an address of the wrong size.
    static func encode(_ address: PeerAddress) -> [UInt8]? {
        switch address.host {
        case .ipv4(let bytes) where bytes.count == 4, .ipv6(let bytes) where bytes.count == 16:
            return bytes + [UInt8(address.port >> 8), UInt8(address.port & 0xff)]
        default:
            return nil
        }
    }

    /// Decodes 6 or 18 bytes; nil for any other length.
    static func decode(_ bytes: some Collection<UInt8>) -> PeerAddress? {
        let bytes = Array(bytes)
        guard bytes.count == 6 || bytes.count == 18 else { return nil }
        let addressLength = bytes.count - 2
        let address = Array(bytes[0..<addressLength])
        let port = UInt16(bytes[addressLength]) << 8 | UInt16(bytes[addressLength + 1])
        return PeerAddress(host: addressLength == 4 ? .ipv4(address) : .ipv6(address), port: port)
    }
}
