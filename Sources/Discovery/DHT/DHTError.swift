/// Why a datagram is not a KRPC message we accept (BEP 5), naming the field at fault,
/// so a log line says which node sent what and so the caller can answer a query it
/// cannot serve with the right KRPC error code.
public enum DHTError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The datagram is not canonical bencode within the DHT's limits.
    case notBencode(String)
    /// The top level, or `a` or `r`, is not a dictionary.
    case notADictionary(field: String, found: String)
    /// A key the message needs is absent.
    case missingField(String)
    /// A field has the wrong bencode type.
    case wrongType(field: String, expected: String, found: String)
    /// A fixed-size field (an id, an info hash) has the wrong length.
    case wrongLength(field: String, length: Int, expected: Int)
    /// A variable-size field is longer than we keep (a token, a transaction id).
    case tooLong(field: String, length: Int, limit: Int)
    /// `y` is none of `q`, `r`, `e`.
    case unknownMessageType(String)
    /// A query whose method we do not implement; BEP 5 answers it with error 204,
    /// for which the caller needs the transaction id.
    case unknownMethod(String, transactionID: [UInt8])
    /// An `announce_peer` port outside 1–65535 without `implied_port`.
    case invalidPort(Int64)

    public var description: String {
        switch self {
        case .notBencode(let detail):
            "DHT message is not bencode (\(detail))"
        case .notADictionary(let field, let found):
            "DHT message '\(field)' is a \(found), not a dictionary"
        case .missingField(let field):
            "DHT message has no '\(field)'"
        case .wrongType(let field, let expected, let found):
            "DHT message '\(field)' is a \(found), not a \(expected)"
        case .wrongLength(let field, let length, let expected):
            "DHT message '\(field)' is \(length) bytes, not \(expected)"
        case .tooLong(let field, let length, let limit):
            "DHT message '\(field)' is \(length) bytes, longer than the limit of \(limit)"
        case .unknownMessageType(let type):
            "DHT message type '\(type)' is not q, r or e"
        case .unknownMethod(let method, _):
            "DHT query method '\(method)' is not one we serve"
        case .invalidPort(let port):
            "DHT announce_peer port \(port) is not 1–65535"
        }
    }
}
