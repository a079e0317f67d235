/// One ICE candidate (`a=candidate:` of RFC 8839 §5.1): an address the peer can be reached at.
/// Extension pairs we do not interpret (`generation 0`, `network-id 1`, `tcptype active`) are kept
/// in order, so a candidate prints back as it came.
public struct ICECandidate: Equatable, Sendable, CustomStringConvertible {
    public enum Kind: String, Equatable, Sendable {
        /// An address on the peer's own interface.
        case host
        /// The peer's address as a STUN server saw it (behind a NAT).
        case srflx
        /// Learned from a connectivity check.
        case prflx
        /// An address on a TURN relay.
        case relay
    }

    public struct Extension: Equatable, Sendable {
        public var name: String
        public var value: String
        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    public var foundation: String
    /// 1 for RTP or a data channel; 2 was RTCP.
    public var component: Int
    /// `udp` or `tcp`, lowercased.
    public var transport: String
    public var priority: UInt32
    /// An IP address, or a browser's mDNS name (`<uuid>.local`) hiding its local address.
    public var address: String
    public var port: UInt16
    public var kind: Kind
    public var relatedAddress: String?
    public var relatedPort: UInt16?
    public var extensions: [Extension]

    public init(foundation: String, component: Int = 1, transport: String = "udp", priority: UInt32,
                address: String, port: UInt16, kind: Kind, relatedAddress: String? = nil,
                relatedPort: UInt16? = nil, extensions: [Extension] = []) {
        self.foundation = foundation
        self.component = component
        self.transport = transport.lowercased()
        self.priority = priority
        self.address = address
        self.port = port
        self.kind = kind
        self.relatedAddress = relatedAddress
        self.relatedPort = relatedPort
        self.extensions = extensions
    }

    /// Parses the value of `a=candidate:` (the text after the colon); `line` is for the error.
    public init(parsing value: String, line: Int = 0) throws {
        func fail(_ reason: String) -> SDPError { .malformedCandidate(line: line, reason: reason) }
        let fields = value.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard fields.count >= 8 else { throw fail("\(fields.count) fields, fewer than the 8 of 'foundation component transport priority address port typ type'") }
        guard fields[0].count <= 32, !fields[0].isEmpty else { throw fail("foundation '\(fields[0])' is not 1 to 32 characters") }
        guard let component = Int(fields[1]), (1...256).contains(component) else { throw fail("component '\(fields[1])' is not 1 to 256") }
        guard let priority = UInt32(fields[3]), priority > 0 else { throw fail("priority '\(fields[3])' is not 1 to 2^32-1") }
        guard !fields[4].isEmpty else { throw fail("no address") }
        guard let port = UInt16(fields[5]) else { throw fail("port '\(fields[5])' is not 0 to 65535") }
        guard fields[6] == "typ" else { throw fail("'\(fields[6])' where 'typ' belongs") }
        guard let kind = Kind(rawValue: fields[7]) else { throw fail("type '\(fields[7])' is not host, srflx, prflx or relay") }
        var relatedAddress: String?
        var relatedPort: UInt16?
        var extensions: [Extension] = []
        var index = 8
        while index < fields.count {
            guard index + 1 < fields.count else { throw fail("'\(fields[index])' has no value") }
            let (name, value) = (fields[index], fields[index + 1])
            switch name {
            case "raddr" where extensions.isEmpty && relatedAddress == nil:
                relatedAddress = value
            case "rport" where extensions.isEmpty && relatedPort == nil:
                guard let port = UInt16(value) else { throw fail("rport '\(value)' is not 0 to 65535") }
                relatedPort = port
            default:
                extensions.append(Extension(name, value))
            }
            index += 2
        }
        self.init(foundation: fields[0], component: component, transport: fields[2], priority: priority,
                  address: fields[4], port: port, kind: kind, relatedAddress: relatedAddress,
                  relatedPort: relatedPort, extensions: extensions)
    }

    /// The value of `a=candidate:` (without the prefix), as RFC 8839 orders it.
    public var description: String {
        var text = "\(foundation) \(component) \(transport) \(priority) \(address) \(port) typ \(kind.rawValue)"
        if let relatedAddress { text += " raddr \(relatedAddress)" }
        if let relatedPort { text += " rport \(relatedPort)" }
        for pair in extensions { text += " \(pair.name) \(pair.value)" }
        return text
    }
}
