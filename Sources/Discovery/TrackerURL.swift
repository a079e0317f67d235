import TorrentModel

/// A tracker's announce URL, split into what the socket side needs: where to connect
/// and what request target to send.
///
/// Parsing is deliberately narrow: only `http`, `https` and `udp`, no user info (a
/// tracker has no use for it and it would end up in logs), no whitespace or
/// non-ASCII (a request target must be ASCII; trackers that need other bytes
/// percent-encode them). A fragment is dropped, as HTTP clients never send it.
public struct TrackerURL: Hashable, Sendable, CustomStringConvertible {
    public enum Scheme: String, Hashable, Sendable {
        case http, https, udp

        /// The port used when the URL names none; UDP trackers have no standard port.
        var defaultPort: UInt16? {
            switch self {
            case .http: 80
            case .https: 443
            case .udp: nil
            }
        }
    }

    public let scheme: Scheme
    /// The host name or address, lowercased; an IPv6 address is given without its brackets.
    public let host: String
    public let port: UInt16
    /// The path and query as written, e.g. `/announce?passkey=abc`. For HTTP an empty
    /// path becomes `/`; for UDP it stays as written (possibly empty), since it is only
    /// the optional BEP 41 URL data.
    public let pathAndQuery: String
    /// The URL exactly as given.
    public let text: String

    public init?(_ text: String) {
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f }) else { return nil }
        guard let schemeEnd = text.firstRange(of: "://"),
              let scheme = Scheme(rawValue: text[..<schemeEnd.lowerBound].lowercased()) else { return nil }
        var rest = text[schemeEnd.upperBound...]
        if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        var path = String(rest[authorityEnd...])
        guard !authority.contains("@") else { return nil }

        let hostPart: Substring
        let portPart: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            hostPart = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if after.isEmpty {
                portPart = nil
            } else {
                guard after.hasPrefix(":") else { return nil }
                portPart = after.dropFirst()
            }
            // Reuse PeerAddress's IPv6 parser so both agree on what an address is.
            guard PeerAddress("[\(hostPart)]:1") != nil else { return nil }
        } else {
            if let colon = authority.lastIndex(of: ":") {
                hostPart = authority[..<colon]
                portPart = authority[authority.index(after: colon)...]
            } else {
                hostPart = authority
                portPart = nil
            }
            guard !hostPart.isEmpty, hostPart.utf8.count <= 253,
                  hostPart.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." || $0 == "_" })
            else { return nil }
        }

        if let portPart, !portPart.isEmpty {
            guard portPart.count <= 5, portPart.allSatisfy(\.isNumber), let port = UInt16(portPart), port > 0
            else { return nil }
            self.port = port
        } else {
            guard let port = scheme.defaultPort else { return nil }
            self.port = port
        }
        if path.isEmpty && scheme != .udp { path = "/" } else if path.hasPrefix("?") { path = "/" + path }
        self.scheme = scheme
        self.host = hostPart.lowercased()
        self.pathAndQuery = path
        self.text = text
    }

    public var description: String { text }
}
