import TorrentModel

/// A local service discovery announce (BEP 14): an HTTP-like `BT-SEARCH` request sent by
/// UDP multicast, naming our peer port and the info hashes we take part in.
///
/// Anyone on the network can send one, so decoding is bounded: one datagram of at most
/// 1400 bytes, a fixed number of header lines, and at most ``maxInfoHashes`` hashes.
/// Unknown headers are ignored, as the BEP asks.
public struct LocalDiscoveryMessage: Sendable, Equatable {
    /// The IPv4 group and port (org-local scope).
    public static let ipv4Group = "239.192.152.143"
    /// The IPv6 group (site-local scope).
    public static let ipv6Group = "ff15::efc0:988f"
    public static let port = 6771
    /// The BEP keeps a datagram under 1400 bytes, which fits 25 hashes with the headers.
    public static let maxDatagramSize = 1400
    public static let maxInfoHashes = 25
    static let maxLines = 64

    public var port: UInt16
    public var infoHashes: [InfoHash]
    /// Ours, so we can drop our own announces when multicast loops them back.
    public var cookie: String?
    /// The `Host` header: the group the announce went to.
    public var host: String

    public init(port: UInt16, infoHashes: [InfoHash], cookie: String?, host: String = "\(ipv4Group):\(LocalDiscoveryMessage.port)") {
        self.port = port
        self.infoHashes = infoHashes
        self.cookie = cookie
        self.host = host
    }

    public func encoded() -> [UInt8] {
        var text = "BT-SEARCH * HTTP/1.1\r\nHost: \(host)\r\nPort: \(port)\r\n"
        for infoHash in infoHashes.prefix(Self.maxInfoHashes) { text += "Infohash: \(infoHash.hex)\r\n" }
        if let cookie { text += "cookie: \(cookie)\r\n" }
        text += "\r\n\r\n"
        return Array(text.utf8)
    }

    public init(decoding datagram: [UInt8]) throws(LocalDiscoveryError) {
        guard datagram.count <= Self.maxDatagramSize else { throw .tooLarge(datagram.count) }
        guard let text = String(validating: datagram, as: UTF8.self) else { throw .notText }
        // Lines end in CRLF (one Character in Swift); a bare LF is accepted too. Every line is
        // cut (at most 1400 bytes of them) and the headers past the first `maxLines` ignored: a
        // split that stopped there left the rest in one "line" whose value held line breaks,
        // which an encode and decode then read as other headers (found by fuzzing).
        let lines = text.split(omittingEmptySubsequences: false) { $0 == "\r\n" || $0 == "\n" }
        guard lines.first == "BT-SEARCH * HTTP/1.1" else { throw .notAnAnnounce }
        var port: UInt16?
        var hashes: [InfoHash] = []
        var cookie: String?
        var host = ""
        for line in lines.dropFirst().prefix(Self.maxLines) {
            if line.isEmpty { break }
            guard let colon = line.firstIndex(of: ":") else { throw .malformedHeader(String(line.prefix(80))) }
            let name = trimmed(line[..<colon]).lowercased()
            let value = trimmed(line[line.index(after: colon)...])
            switch name {
            case "port":
                guard let number = UInt16(value), number > 0 else { throw .invalidPort(String(value.prefix(16))) }
                port = number
            case "infohash":
                guard value.count == 40, let infoHash = InfoHash(magnetForm: value) else { throw .invalidInfoHash(String(value.prefix(48))) }
                guard hashes.count < Self.maxInfoHashes else { throw .tooManyInfoHashes }
                if !hashes.contains(infoHash) { hashes.append(infoHash) }
            // Cut to 64 characters, then trimmed again: a cut can end in spaces or tabs, which
            // the next read of the same header would drop (found by fuzzing: decode, encode and
            // decode gave another cookie).
            case "cookie":
                cookie = String(trimmed(value.prefix(64)))
            case "host":
                host = String(trimmed(value.prefix(64)))
            default:
                break
            }
        }
        guard let port else { throw .missingPort }
        guard !hashes.isEmpty else { throw .missingInfoHash }
        self.init(port: port, infoHashes: hashes, cookie: cookie, host: host)
    }
}

/// The text without spaces and tabs at either end.
private func trimmed(_ text: Substring) -> Substring {
    var text = text
    while let first = text.first, first == " " || first == "\t" { text.removeFirst() }
    while let last = text.last, last == " " || last == "\t" { text.removeLast() }
    return text
}

/// Why a datagram on the LSD port is not an announce we accept.
public enum LocalDiscoveryError: Error, Equatable, Sendable, CustomStringConvertible {
    case tooLarge(Int)
    case notText
    case notAnAnnounce
    case malformedHeader(String)
    case invalidPort(String)
    case invalidInfoHash(String)
    case tooManyInfoHashes
    case missingPort
    case missingInfoHash

    public var description: String {
        switch self {
        case .tooLarge(let size): "LSD datagram of \(size) bytes is larger than \(LocalDiscoveryMessage.maxDatagramSize)"
        case .notText: "LSD datagram is not UTF-8 text"
        case .notAnAnnounce: "LSD datagram does not start with 'BT-SEARCH * HTTP/1.1'"
        case .malformedHeader(let line): "LSD header line '\(line)' has no ':'"
        case .invalidPort(let value): "LSD Port '\(value)' is not 1–65535"
        case .invalidInfoHash(let value): "LSD Infohash '\(value)' is not 40 hex digits"
        case .tooManyInfoHashes: "LSD announce names more than \(LocalDiscoveryMessage.maxInfoHashes) info hashes"
        case .missingPort: "LSD announce has no Port"
        case .missingInfoHash: "LSD announce has no Infohash"
        }
    }
}
