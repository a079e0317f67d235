/// Why a WebSocket tracker message (WebTorrent's JSON protocol) could not be read or written,
/// naming the field at fault, so a log line says which tracker sent what.
public enum WebSocketTrackerError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The text frame is longer than we accept from a tracker.
    case messageTooLarge(bytes: Int, limit: Int)
    /// The text frame is not JSON at all.
    case malformedJSON(String)
    /// The JSON is valid but its top level is not an object.
    case notAnObject(found: String)
    /// The object has no `action` (and no `failure reason` that would explain it).
    case missingAction
    /// An `action` other than `announce` or `scrape`.
    case unknownAction(String)
    /// A field the message kind requires is absent.
    case missingField(String)
    /// A field is present with the wrong JSON type.
    case wrongType(field: String, expected: String)
    /// A binary field (info hash, peer id, offer id) holds a character above U+00FF, so it is
    /// not the one-code-point-per-byte form the protocol uses.
    case notBinaryString(field: String, codePoint: UInt32)
    /// A binary field that must be 20 bytes is not.
    case wrongLength(field: String, length: Int, expected: Int)
    /// An SDP longer than we accept (ours or a peer's).
    case sdpTooLarge(field: String, bytes: Int, limit: Int)

    public var description: String {
        switch self {
        case .messageTooLarge(let bytes, let limit):
            "WebSocket tracker message is \(bytes) bytes, above the \(limit)-byte limit; the tracker is not a WebTorrent tracker or misbehaves"
        case .malformedJSON(let detail):
            "WebSocket tracker message is not JSON (\(detail))"
        case .notAnObject(let found):
            "WebSocket tracker message is a JSON \(found), not an object"
        case .missingAction:
            "WebSocket tracker message has no 'action'"
        case .unknownAction(let action):
            "WebSocket tracker message has action '\(action)', not 'announce' or 'scrape'"
        case .missingField(let field):
            "WebSocket tracker message has no '\(field)'"
        case .wrongType(let field, let expected):
            "WebSocket tracker message '\(field)' is not a \(expected)"
        case .notBinaryString(let field, let codePoint):
            "WebSocket tracker message '\(field)' holds U+\(String(codePoint, radix: 16, uppercase: true)), above U+00FF, so it is not one byte per character"
        case .wrongLength(let field, let length, let expected):
            "WebSocket tracker message '\(field)' is \(length) bytes, not \(expected)"
        case .sdpTooLarge(let field, let bytes, let limit):
            "WebSocket tracker message '\(field)' SDP is \(bytes) bytes, above the \(limit)-byte limit"
        }
    }
}
