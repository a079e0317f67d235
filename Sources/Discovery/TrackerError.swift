/// Why an announce to a tracker did not give us peers, in words that name the part at fault,
/// so a log line or `memofs status` can tell a user which tracker misbehaved and how.
public enum TrackerError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The tracker answered with a `failure reason` (HTTP) or an `error` action (UDP).
    case failure(reason: String)
    /// The HTTP response body is not bencode at all (often an HTML error page).
    case notBencode(String)
    /// The HTTP response is bencode but its top level is not a dictionary.
    case notADictionary(found: String)
    /// A field the protocol requires is absent.
    case missingField(String)
    /// A field is present with the wrong bencode type.
    case wrongType(field: String, expected: String, found: String)
    /// A compact peer string whose length is not a whole number of entries.
    case malformedPeers(field: String, length: Int, entrySize: Int)
    /// A UDP datagram too short for what its action says it holds.
    case datagramTooShort(action: String, length: Int, needed: Int)
    /// A UDP datagram with an action we did not ask for (scrape) or that does not exist.
    case unexpectedAction(UInt32)
    /// The tracker never answered: `attempts` requests of the kind `request` went unanswered.
    case timeout(request: String, attempts: Int)

    public var description: String {
        switch self {
        case .failure(let reason):
            "tracker refused the announce: \(reason)"
        case .notBencode(let detail):
            "tracker response is not bencode (\(detail))"
        case .notADictionary(let found):
            "tracker response is a bencoded \(found), not a dictionary"
        case .missingField(let field):
            "tracker response has no '\(field)'"
        case .wrongType(let field, let expected, let found):
            "tracker response '\(field)' is a \(found), not a \(expected)"
        case .malformedPeers(let field, let length, let entrySize):
            "tracker response '\(field)' is \(length) bytes, not a multiple of \(entrySize)"
        case .datagramTooShort(let action, let length, let needed):
            "UDP tracker \(action) response is \(length) bytes, shorter than the \(needed) it needs"
        case .unexpectedAction(let action):
            "UDP tracker sent action \(action), which is not connect (0), announce (1) or error (3)"
        case .timeout(let request, let attempts):
            "UDP tracker did not answer the \(request) request after \(attempts) attempt\(attempts == 1 ? "" : "s")"
        }
    }
}
