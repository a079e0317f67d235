/// Why a WebSocket tracker connection could not open or ended, in words a torrent's status
/// can show as they are ("TLS handshake failed: certificate verify failed").
public enum WebSocketTrackerConnectionError: Error, Equatable, Sendable, CustomStringConvertible {
    /// TCP could not connect (refused, unreachable, name not resolved).
    case unreachable(String)
    /// The TLS configuration could not be made (the trusted certificate file is missing or not PEM).
    case tlsSetupFailed(String)
    /// The TLS handshake failed: the certificate did not verify, the host name did not match…
    case tlsHandshakeFailed(String)
    /// The server answered the upgrade request with something other than 101.
    case handshakeRefused(status: Int, reason: String)
    /// The upgrade response was not a valid WebSocket acceptance, or the socket closed during it.
    case handshakeFailed(String)
    /// TCP, TLS and the upgrade did not finish in time.
    case connectTimeout(Duration)
    /// A message (one frame, or fragments together) above the limit; the socket was closed
    /// without reading the rest, so memory stays bounded.
    case messageTooLarge(limit: Int)
    /// The tracker sent a close frame.
    case closedByTracker(code: Int?, reason: String)
    /// The socket ended without a close frame (reset, EOF, TLS error mid-stream).
    case connectionLost(String)
    /// A ping went unanswered: the connection is dead though the socket looks open.
    case noPong(Duration)
    /// The tracker broke the WebSocket protocol (bad framing, a binary frame).
    case protocolViolation(String)
    /// We closed it (the last torrent left this tracker, or the session stopped).
    case closedByUs

    public var description: String {
        switch self {
        case .unreachable(let reason): "could not connect: \(reason)"
        case .tlsSetupFailed(let reason): "TLS setup failed: \(reason)"
        case .tlsHandshakeFailed(let reason): "TLS handshake failed: \(reason)"
        case .handshakeRefused(let status, let reason):
            "WebSocket handshake refused: HTTP \(status) \(reason) (is this a WebSocket tracker URL?)"
        case .handshakeFailed(let reason): "WebSocket handshake failed: \(reason)"
        case .connectTimeout(let limit): "no WebSocket connection within \(limit)"
        case .messageTooLarge(let limit):
            "the tracker sent a message above the \(limit)-byte limit; the socket was closed"
        case .closedByTracker(let code, let reason):
            "closed by the tracker" + (code.map { " (code \($0)\(reason.isEmpty ? "" : ": \(reason)"))" } ?? "")
        case .connectionLost(let reason): "connection lost: \(reason)"
        case .noPong(let limit): "no pong within \(limit) of a ping: the connection is dead"
        case .protocolViolation(let reason): "WebSocket protocol error: \(reason)"
        case .closedByUs: "closed by us"
        }
    }
}
