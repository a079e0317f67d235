import Discovery

/// A WebTorrent tracker's `ws://` or `wss://` URL, split for the socket side. It is parsed by
/// ``TrackerURL`` as the `http://` or `https://` URL it upgrades from, so both kinds of
/// tracker URL accept and refuse the same hosts, ports and paths.
public struct WebSocketTrackerURL: Hashable, Sendable, CustomStringConvertible {
    /// `wss://`: TLS before the WebSocket handshake.
    public let isSecure: Bool
    /// The host name or address, lowercased, an IPv6 address without brackets.
    public let host: String
    public let port: UInt16
    /// The request target of the upgrade request, e.g. `/announce`.
    public let pathAndQuery: String
    /// The URL exactly as given.
    public let text: String

    public init?(_ text: String) {
        let lowered = text.lowercased()
        let http: String
        if lowered.hasPrefix("ws://") {
            http = "http://" + text.dropFirst(5)
            isSecure = false
        } else if lowered.hasPrefix("wss://") {
            http = "https://" + text.dropFirst(6)
            isSecure = true
        } else {
            return nil
        }
        guard let parsed = TrackerURL(http) else { return nil }
        host = parsed.host
        port = parsed.port
        pathAndQuery = parsed.pathAndQuery
        self.text = text
    }

    /// Whether `text` names a WebSocket tracker at all (parsable or not), so the HTTP/UDP
    /// announcer leaves it alone.
    public static func isWebSocket(_ text: String) -> Bool {
        let lowered = text.lowercased()
        return lowered.hasPrefix("ws://") || lowered.hasPrefix("wss://")
    }

    /// The `Host` header: brackets around an IPv6 address, the port unless it is the default.
    var hostHeader: String {
        let name = host.contains(":") ? "[\(host)]" : host
        return port == (isSecure ? 443 : 80) ? name : "\(name):\(port)"
    }

    public var description: String { text }
}
