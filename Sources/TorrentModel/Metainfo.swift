import Bencode

/// A parsed `.torrent` file (BEP 3, v1): the info dictionary plus the fields
/// around it that are not covered by the info hash.
public struct Metainfo: Sendable {
    public let info: TorrentInfo
    /// The primary tracker (`announce`).
    public var announce: String?
    /// BEP 12 tracker tiers (`announce-list`), as written.
    public var announceList: [[String]]
    /// BEP 19 web seeds (`url-list`).
    public var urlList: [String]
    public var comment: String?
    public var createdBy: String?
    /// Seconds since 1970 (`creation date`).
    public var creationDate: Int64?

    public var infoHash: InfoHash { info.infoHash }

    public init(info: TorrentInfo, announce: String? = nil, announceList: [[String]] = [], urlList: [String] = [],
                comment: String? = nil, createdBy: String? = nil, creationDate: Int64? = nil) {
        self.info = info
        self.announce = announce
        self.announceList = announceList
        self.urlList = urlList
        self.comment = comment
        self.createdBy = createdBy
        self.creationDate = creationDate
    }

    /// The tiers a client announces to: `announce-list` when present (BEP 12 says
    /// it then replaces `announce`), else `announce` alone.
    public var trackerTiers: [[String]] {
        let tiers = announceList.filter { !$0.isEmpty }
        if !tiers.isEmpty { return tiers }
        return announce.map { [[$0]] } ?? []
    }

    /// Parses a `.torrent` file. The info hash is taken over the info dictionary's original bytes.
    public init(bytes: [UInt8], limits: BencodeDecoder.Limits = .default) throws(MetainfoError) {
        let root: BencodeNode
        do {
            root = try BencodeDecoder(limits: limits).decodeNode(bytes)
        } catch {
            throw .notBencode(error)
        }
        guard case .dictionary = root.kind else { throw .wrongType(field: "(top level)", expected: "a dictionary") }
        guard let infoNode = root["info"] else { throw .missingField("info") }
        let info = try TorrentInfo(value: infoNode.value, rawBytes: Array(bytes[infoNode.range]))
        let top = root.value

        var announceList: [[String]] = []
        if let listValue = top["announce-list"] {
            guard let tiers = listValue.list else { throw .wrongType(field: "announce-list", expected: "a list of lists") }
            for tier in tiers {
                guard let urls = tier.list else { throw .wrongType(field: "announce-list", expected: "a list of lists") }
                announceList.append(urls.compactMap(\.string).filter { !$0.isEmpty })
            }
        }

        // BEP 19 allows `url-list` to be a single string as well as a list.
        var urlList: [String] = []
        switch top["url-list"] {
        case .bytes(let bytes)?:
            if let url = String(validating: bytes, as: UTF8.self), !url.isEmpty { urlList = [url] }
        case .list(let items)?:
            urlList = items.compactMap(\.string).filter { !$0.isEmpty }
        case nil:
            break
        case let other?:
            throw .wrongType(field: "url-list", expected: "a string or a list, not a \(other.typeName)")
        }

        var creationDate: Int64? = nil
        if let dateValue = top["creation date"] {
            guard let date = dateValue.integer else { throw .wrongType(field: "creation date", expected: "an integer") }
            creationDate = date
        }

        self.init(info: info,
                  announce: Self.optionalText(top, "announce"),
                  announceList: announceList,
                  urlList: urlList,
                  comment: Self.optionalText(top, "comment.utf-8") ?? Self.optionalText(top, "comment"),
                  createdBy: Self.optionalText(top, "created by"),
                  creationDate: creationDate)
    }

    /// The `.torrent` file's bytes. The info dictionary is written as the original bytes, so
    /// the info hash never changes when a torrent is read and written again.
    public func encoded() -> [UInt8] {
        var top: [[UInt8]: BencodeValue] = [:]
        if let announce { top[Array("announce".utf8)] = .string(announce) }
        if !announceList.isEmpty {
            top[Array("announce-list".utf8)] = .list(announceList.map { .list($0.map(BencodeValue.string)) })
        }
        if !urlList.isEmpty { top[Array("url-list".utf8)] = .list(urlList.map(BencodeValue.string)) }
        if let comment { top[Array("comment".utf8)] = .string(comment) }
        if let createdBy { top[Array("created by".utf8)] = .string(createdBy) }
        if let creationDate { top[Array("creation date".utf8)] = .integer(creationDate) }

        // Splice the raw info bytes in at the place "info" sorts to.
        let infoKey = Array("info".utf8)
        var output: [UInt8] = [UInt8(ascii: "d")]
        var wroteInfo = false
        for key in top.keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            if !wroteInfo && infoKey.lexicographicallyPrecedes(key) {
                Self.appendInfo(info.rawBytes, to: &output)
                wroteInfo = true
            }
            BencodeEncoder.append(.bytes(key), to: &output)
            BencodeEncoder.append(top[key]!, to: &output)
        }
        if !wroteInfo { Self.appendInfo(info.rawBytes, to: &output) }
        output.append(UInt8(ascii: "e"))
        return output
    }

    private static func appendInfo(_ raw: [UInt8], to output: inout [UInt8]) {
        BencodeEncoder.append(.string("info"), to: &output)
        output.append(contentsOf: raw)
    }

    private static func optionalText(_ dict: BencodeValue, _ key: String) -> String? {
        guard let bytes = dict[key]?.bytes, !bytes.isEmpty else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }
}
