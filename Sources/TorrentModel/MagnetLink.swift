/// A BitTorrent magnet link (BEP 9): an info hash and hints for finding the torrent.
///
/// Parsing follows what real clients write: parameters in any order, `tr`
/// repeated (also as `tr.1`, `tr.2`, …), percent-encoding with `+` for a space,
/// the info hash as 40 hex or 32 base32 characters. Unknown parameters are
/// ignored, as BEP 9 asks.
public struct MagnetLink: Hashable, Sendable, CustomStringConvertible {
    public var infoHash: InfoHash
    /// `dn`: a name to show until the metadata arrives.
    public var displayName: String?
    /// `tr`: tracker URLs, in the order given.
    public var trackers: [String]
    /// `ws`: web seed URLs (BEP 19).
    public var webSeeds: [String]
    /// `x.pe`: peers to dial directly.
    public var peers: [PeerAddress]
    /// `xl`: the torrent's total length in bytes.
    public var exactLength: Int64?
    /// BEP 52's `urn:btmh:` hash (SHA-256 of the info dictionary), when the link names a
    /// hybrid torrent: its peers may then be asked for v2 hashes from the first connection.
    public var v2InfoHash: [UInt8]?

    public init(infoHash: InfoHash, displayName: String? = nil, trackers: [String] = [], webSeeds: [String] = [],
                peers: [PeerAddress] = [], exactLength: Int64? = nil) {
        self.infoHash = infoHash
        self.displayName = displayName
        self.trackers = trackers
        self.webSeeds = webSeeds
        self.peers = peers
        self.exactLength = exactLength
    }

    /// The magnet link for a torrent, naming it and its trackers and web seeds.
    public init(metainfo: Metainfo, peers: [PeerAddress] = []) {
        var trackers: [String] = []
        for url in metainfo.trackerTiers.joined() where !trackers.contains(url) { trackers.append(url) }
        self.init(infoHash: metainfo.infoHash, displayName: metainfo.info.name, trackers: trackers,
                  webSeeds: metainfo.urlList, peers: peers, exactLength: nil)
        self.v2InfoHash = metainfo.info.v2InfoHash
    }

    public init(parsing text: some StringProtocol) throws(MagnetError) {
        let text = String(text).trimmingSpaces()
        guard text.lowercased().hasPrefix("magnet:?") else {
            let start = text.prefix(20)
            throw MagnetError("not a magnet link: it should start with 'magnet:?', not '\(start)'")
        }
        let query = text.dropFirst("magnet:?".count)
        var infoHash: InfoHash?
        var sawV2Only = false
        var displayName: String?
        var trackers: [String] = []
        var webSeeds: [String] = []
        var peers: [PeerAddress] = []
        var exactLength: Int64?
        var v2InfoHash: [UInt8]?

        for parameter in query.split(separator: "&") {
            let (rawKey, rawValue) = parameter.splitOnce("=")
            let key = rawKey.lowercased()
            let baseKey = key.baseParameterName
            guard let valueBytes = PercentEncoding.decode(rawValue) else {
                throw MagnetError("magnet link parameter '\(rawKey)' has a bad percent-encoding: '\(rawValue)'")
            }
            let value = String(decoding: valueBytes, as: UTF8.self)
            switch baseKey {
            case "xt":
                let lowered = value.lowercased()
                if lowered.hasPrefix("urn:btih:") {
                    let hashText = value.dropFirst("urn:btih:".count)
                    guard let hash = InfoHash(magnetForm: hashText) else {
                        throw MagnetError("magnet link info hash '\(hashText)' is not 40 hex or 32 base32 characters")
                    }
                    if let infoHash, infoHash != hash {
                        throw MagnetError("magnet link has two different info hashes: \(infoHash) and \(hash)")
                    }
                    infoHash = hash
                } else if lowered.hasPrefix("urn:btmh:") {
                    sawV2Only = true
                    // A multihash: 0x12 (SHA-256), 0x20 (32 bytes), the digest. Any other is
                    // ignored: the v1 hash alone names the torrent.
                    let multihash = lowered.dropFirst("urn:btmh:".count)
                    if multihash.hasPrefix("1220"), let digest = Hex.decode(multihash.dropFirst(4)), digest.count == SHA256.byteCount {
                        v2InfoHash = digest
                    }
                }
            case "dn":
                guard valueBytes.count <= Self.maxDisplayNameBytes else {
                    throw MagnetError("magnet link name (dn) is \(valueBytes.count) bytes, more than the \(Self.maxDisplayNameBytes) a file name may have")
                }
                if !value.isEmpty { displayName = value }
            case "tr":
                guard Self.looksLikeURL(value) else { throw MagnetError("magnet link tracker '\(value)' is not a URL") }
                guard Self.trackerSchemes.contains(where: value.lowercased().hasPrefix) else {
                    throw MagnetError("magnet link tracker '\(value.prefix(200))' is not an http://, https://, udp://, ws:// or wss:// URL")
                }
                if !trackers.contains(value) { trackers.append(value) }
            case "ws":
                guard Self.looksLikeURL(value) else { throw MagnetError("magnet link web seed '\(value)' is not a URL") }
                if !webSeeds.contains(value) { webSeeds.append(value) }
            case "x.pe":
                guard let peer = PeerAddress(value) else {
                    throw MagnetError("magnet link peer (x.pe) '\(value)' is not host:port")
                }
                if !peers.contains(peer) { peers.append(peer) }
            case "xl":
                guard let length = Int64(value), length >= 0 else {
                    throw MagnetError("magnet link length (xl) '\(value)' is not a number of bytes")
                }
                exactLength = length
            default:
                continue
            }
        }
        guard let infoHash else {
            if sawV2Only {
                throw MagnetError("magnet link has only a BitTorrent v2 hash (urn:btmh:); memofs needs urn:btih:")
            }
            throw MagnetError("magnet link has no info hash (xt=urn:btih:…)")
        }
        self.init(infoHash: infoHash, displayName: displayName, trackers: trackers, webSeeds: webSeeds,
                  peers: peers, exactLength: exactLength)
        self.v2InfoHash = v2InfoHash
    }

    /// The link as text: `xt` first with the hash in lowercase hex, then `dn`, `xl`,
    /// each `tr`, `ws` and `x.pe`; `dn`, `tr` and `ws` percent-encoded as libtorrent writes them.
    public var uri: String {
        var parts = ["xt=urn:btih:" + infoHash.hex]
        if let v2InfoHash { parts.append("xt=urn:btmh:1220" + Hex.encode(v2InfoHash)) }
        if let displayName { parts.append("dn=" + PercentEncoding.encode(displayName)) }
        if let exactLength { parts.append("xl=\(exactLength)") }
        parts += trackers.map { "tr=" + PercentEncoding.encode($0) }
        parts += webSeeds.map { "ws=" + PercentEncoding.encode($0) }
        // libtorrent reads x.pe without unescaping it, so peers are written as plain
        // host:port; their characters are all allowed in a query string.
        parts += peers.map { "x.pe=" + $0.description }
        return "magnet:?" + parts.joined(separator: "&")
    }

    public var description: String { uri }

    /// Reads what a user may paste to add a torrent: a magnet link, or a share link
    /// (`https://host/…?seeds=<percent-encoded magnet>&seeds=…`) holding one or more.
    public static func parseLinks(_ text: some StringProtocol) throws(MagnetError) -> [MagnetLink] {
        let text = String(text).trimmingSpaces()
        if text.lowercased().hasPrefix("magnet:") { return [try MagnetLink(parsing: text)] }
        return try ShareLink.magnets(in: text)
    }

    /// The tracker kinds memofs announces to; a magnet naming another (`ftp://`, `file://`) is
    /// refused rather than carried around unused.
    static let trackerSchemes = ["http://", "https://", "udp://", "ws://", "wss://"]

    /// A display name longer than this is refused: it names the torrent's file or folder in
    /// `shared/`, so it is bounded as a file name is (255 bytes on Linux); a megabyte of it
    /// is an attack, not a name.
    public static let maxDisplayNameBytes = SafePath.maxComponentBytes

    private static func looksLikeURL(_ value: String) -> Bool {
        guard let colon = value.firstIndex(of: ":"), colon != value.startIndex else { return false }
        let scheme = value[..<colon]
        return scheme.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "+-.".contains($0)) }
            && value[value.index(after: colon)...].hasPrefix("//")
            && !value.contains(where: { $0.isWhitespace || $0.asciiValue.map { $0 < 0x20 } == true })
    }
}

/// Share links: how web apps pass magnets around, as a URL whose `seeds` query
/// parameters each hold a percent-encoded magnet link.
enum ShareLink {
    static func magnets(in text: String) throws(MagnetError) -> [MagnetLink] {
        guard let schemeEnd = text.firstRange(of: "://"),
              text[..<schemeEnd.lowerBound].allSatisfy({ $0.isASCII && $0.isLetter }),
              !text[..<schemeEnd.lowerBound].isEmpty else {
            throw MagnetError("not a magnet link or a share link: '\(text.prefix(40))'")
        }
        guard let questionMark = text.firstIndex(of: "?") else {
            throw MagnetError("share link has no query string with seeds=<magnet>")
        }
        var query = text[text.index(after: questionMark)...]
        if let hash = query.firstIndex(of: "#") { query = query[..<hash] }
        var links: [MagnetLink] = []
        for parameter in query.split(separator: "&") {
            let (key, value) = parameter.splitOnce("=")
            guard key == "seeds" else { continue }
            guard let decoded = PercentEncoding.decode(value) else {
                throw MagnetError("share link seeds= value has a bad percent-encoding: '\(value.prefix(40))'")
            }
            let magnetText = String(decoding: decoded, as: UTF8.self)
            do {
                links.append(try MagnetLink(parsing: magnetText))
            } catch {
                throw MagnetError("share link seeds= value: \(error.message)")
            }
        }
        guard !links.isEmpty else { throw MagnetError("share link has no seeds=<magnet> parameter") }
        return links
    }
}

extension Substring {
    /// The parts before and after the first `separator`; the second is empty when there is none.
    func splitOnce(_ separator: Character) -> (Substring, Substring) {
        guard let index = firstIndex(of: separator) else { return (self, self[endIndex...]) }
        return (self[..<index], self[self.index(after: index)...])
    }
}

extension String {
    /// `tr.1` and `x.pe` differ: only a numeric suffix is a repeat marker.
    var baseParameterName: String {
        guard let dot = lastIndex(of: "."), dot != startIndex else { return self }
        let suffix = self[index(after: dot)...]
        guard !suffix.isEmpty, suffix.allSatisfy({ $0.isASCII && $0.isNumber }) else { return self }
        return String(self[..<dot])
    }

    func trimmingSpaces() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
        return String(scalars[first...last])
    }
}
