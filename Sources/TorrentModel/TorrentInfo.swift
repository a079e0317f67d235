import Bencode

/// A torrent's info dictionary, validated: what the info hash names.
///
/// It is parsed from the dictionary's original bytes, which it keeps: those
/// bytes are what BEP 9 serves to peers and what the info hash is taken over.
public struct TorrentInfo: Sendable {
    /// The most pieces a torrent may have (libtorrent's default cap is 2^21; this is twice that).
    public static let maxPieceCount = 1 << 22
    /// The largest piece length accepted: a piece is held in memory while it is verified.
    public static let maxPieceLength = 256 << 20
    /// The most files a torrent may list.
    public static let maxFileCount = 1 << 20

    public let rawBytes: [UInt8]
    public let infoHash: InfoHash
    /// The suggested name of the file (single-file) or folder (multi-file), safe as one path component.
    public let name: String
    public let pieceLength: Int
    public let pieceHashes: PieceHashes
    public let files: [TorrentFile]
    /// True when the info dictionary has `length` rather than `files`.
    public let isSingleFile: Bool
    /// BEP 27: peers come only from the torrent's trackers.
    public let isPrivate: Bool
    public let totalLength: Int64
    /// BEP 52, for a hybrid torrent (`meta version` 2 with a `file tree` that matches the
    /// v1 file list): each file's `pieces root`, by index into `files`; nil for padding and
    /// empty files, and for every file of a v1-only torrent.
    public let piecesRoots: [[UInt8]?]
    /// SHA-256 of the info dictionary, for a hybrid torrent: its v2 info hash.
    public let v2InfoHash: [UInt8]?

    public var pieceCount: Int { pieceHashes.count }

    /// The length of piece `index`: `pieceLength`, except for a shorter last piece.
    public func length(ofPiece index: Int) -> Int {
        precondition(index >= 0 && index < pieceCount, "piece \(index) out of range")
        if index < pieceCount - 1 { return pieceLength }
        return Int(totalLength - Int64(pieceLength) * Int64(pieceCount - 1))
    }

    /// Parses and validates an info dictionary given as its bencoded bytes.
    public init(bytes: [UInt8], limits: BencodeDecoder.Limits = .default) throws(MetainfoError) {
        let node: BencodeNode
        do {
            node = try BencodeDecoder(limits: limits).decodeNode(bytes)
        } catch {
            throw .notBencode(error)
        }
        try self.init(value: node.value, rawBytes: bytes)
    }

    init(value info: BencodeValue, rawBytes: [UInt8]) throws(MetainfoError) {
        guard info.dictionary != nil else { throw .wrongType(field: "info", expected: "a dictionary") }
        self.rawBytes = rawBytes
        self.infoHash = InfoHash(SHA1.hash(rawBytes))

        let name = try Self.text(info, "name", utf8Key: "name.utf-8")
        if let problem = SafePath.problem(with: name) { throw .unsafePath(file: SafePath.show([name]), reason: problem) }
        self.name = name

        guard let pieceLengthValue = info["piece length"] else { throw .missingField("info.piece length") }
        guard let pieceLength = pieceLengthValue.integer else {
            throw .wrongType(field: "info.piece length", expected: "an integer")
        }
        guard pieceLength > 0 && pieceLength <= Int64(Self.maxPieceLength) else {
            throw .invalidValue(field: "info.piece length",
                                reason: "\(pieceLength) is not between 1 and \(Self.maxPieceLength)")
        }
        self.pieceLength = Int(pieceLength)

        guard let piecesValue = info["pieces"] else { throw .missingField("info.pieces") }
        guard let piecesBytes = piecesValue.bytes else { throw .wrongType(field: "info.pieces", expected: "a byte string") }
        guard let pieceHashes = PieceHashes(concatenated: piecesBytes) else {
            throw .invalidValue(field: "info.pieces", reason: "its length \(piecesBytes.count) is not a multiple of 20")
        }
        guard pieceHashes.count <= Self.maxPieceCount else {
            throw .tooLarge("\(pieceHashes.count) pieces, more than the limit of \(Self.maxPieceCount)")
        }
        self.pieceHashes = pieceHashes

        if let privateValue = info["private"] {
            guard let flag = privateValue.integer else { throw .wrongType(field: "info.private", expected: "an integer") }
            self.isPrivate = flag == 1
        } else {
            self.isPrivate = false
        }

        switch (info["length"], info["files"]) {
        case (.some, .some):
            throw .inconsistent("the info dictionary has both 'length' and 'files'")
        case (.none, .none):
            throw .missingField("info.length or info.files")
        case (.some(let lengthValue), .none):
            guard let length = lengthValue.integer else { throw .wrongType(field: "info.length", expected: "an integer") }
            guard length >= 0 else { throw .invalidValue(field: "info.length", reason: "\(length) is negative") }
            self.isSingleFile = true
            self.files = [TorrentFile(path: [name], length: length, offset: 0, isPadding: Self.isPadding(info))]
            self.totalLength = length
        case (.none, .some(let filesValue)):
            guard let list = filesValue.list else { throw .wrongType(field: "info.files", expected: "a list") }
            guard !list.isEmpty else { throw .invalidValue(field: "info.files", reason: "the list is empty") }
            guard list.count <= Self.maxFileCount else {
                throw .tooLarge("\(list.count) files, more than the limit of \(Self.maxFileCount)")
            }
            self.isSingleFile = false
            (self.files, self.totalLength) = try Self.parseFiles(list, root: name)
        }

        guard totalLength > 0 else { throw .invalidValue(field: "info", reason: "the torrent holds no data (total length 0)") }
        let expectedPieces = (totalLength - 1) / pieceLength + 1
        guard expectedPieces == Int64(pieceHashes.count) else {
            throw .inconsistent("\(totalLength) bytes in pieces of \(pieceLength) make \(expectedPieces) pieces, "
                                + "but 'pieces' holds \(pieceHashes.count) hashes")
        }
        if let roots = Self.hybridRoots(info, files: files, pieceLength: pieceLength, singleFile: isSingleFile) {
            self.piecesRoots = roots
            self.v2InfoHash = SHA256.hash(rawBytes)
        } else {
            self.piecesRoots = Array(repeating: nil, count: files.count)
            self.v2InfoHash = nil
        }
    }

    /// The v2 roots of a hybrid torrent's files, or nil when the torrent is v1 only or its
    /// `file tree` does not describe the same files (then only the v1 hashes are used,
    /// which every byte written to disk must pass anyway).
    private static func hybridRoots(_ info: BencodeValue, files: [TorrentFile], pieceLength: Int64,
                                    singleFile: Bool) -> [[UInt8]?]? {
        guard info["meta version"]?.integer == 2, let tree = info["file tree"], tree.dictionary != nil,
              pieceLength >= Int64(MerkleTree.blockSize), pieceLength & (pieceLength - 1) == 0 else { return nil }
        var roots: [[UInt8]?] = []
        for file in files {
            if file.isPadding { roots.append(nil); continue }
            var node: BencodeValue? = tree
            for component in singleFile ? file.path : Array(file.path.dropFirst()) { node = node?[component] }
            guard let leaf = node?[""], leaf["length"]?.integer == file.length else { return nil }
            if file.length == 0 { roots.append(nil); continue }
            guard let root = leaf["pieces root"]?.bytes, root.count == SHA256.byteCount else { return nil }
            roots.append(root)
        }
        return roots
    }

    private static func parseFiles(_ list: [BencodeValue], root: String) throws(MetainfoError) -> ([TorrentFile], Int64) {
        var files: [TorrentFile] = []
        files.reserveCapacity(list.count)
        var offset: Int64 = 0
        var seenFiles = Set<[String]>()
        var seenFolders = Set<[String]>()
        for (index, entry) in list.enumerated() {
            let field = "info.files[\(index)]"
            guard entry.dictionary != nil else { throw .wrongType(field: field, expected: "a dictionary") }
            guard let lengthValue = entry["length"] else { throw .missingField("\(field).length") }
            guard let length = lengthValue.integer else { throw .wrongType(field: "\(field).length", expected: "an integer") }
            guard length >= 0 else { throw .invalidValue(field: "\(field).length", reason: "\(length) is negative") }
            let (sum, overflow) = offset.addingReportingOverflow(length)
            guard !overflow else { throw .tooLarge("the file lengths add up to more than 2^63 bytes") }

            let components = try pathComponents(entry, field: field)
            let path = [root] + components
            if let problem = components.lazy.compactMap(SafePath.problem(with:)).first {
                throw .unsafePath(file: SafePath.show(path), reason: problem)
            }
            for depth in 1..<path.count { seenFolders.insert(Array(path[..<depth])) }
            guard seenFiles.insert(path).inserted else {
                throw .unsafePath(file: SafePath.show(path), reason: "two files have this path")
            }
            files.append(TorrentFile(path: path, length: length, offset: offset, isPadding: isPadding(entry)))
            offset = sum
        }
        if let clash = files.first(where: { seenFolders.contains($0.path) }) {
            throw .unsafePath(file: SafePath.show(clash.path), reason: "it is both a file and a folder")
        }
        return (files, offset)
    }

    private static func pathComponents(_ entry: BencodeValue, field: String) throws(MetainfoError) -> [String] {
        let key = entry["path.utf-8"]?.list != nil ? "path.utf-8" : "path"
        guard let pathValue = entry[key] else { throw .missingField("\(field).path") }
        guard let list = pathValue.list else { throw .wrongType(field: "\(field).\(key)", expected: "a list") }
        guard !list.isEmpty else { throw .invalidValue(field: "\(field).\(key)", reason: "the path is empty") }
        var components: [String] = []
        for item in list {
            guard let bytes = item.bytes else { throw .wrongType(field: "\(field).\(key)", expected: "a list of strings") }
            components.append(String(decoding: bytes, as: UTF8.self))
        }
        return components
    }

    /// A text field, preferring its UTF-8 variant when the torrent has one.
    private static func text(_ dict: BencodeValue, _ key: String, utf8Key: String) throws(MetainfoError) -> String {
        if let bytes = dict[utf8Key]?.bytes, let text = String(validating: bytes, as: UTF8.self) { return text }
        guard let value = dict[key] else { throw .missingField("info.\(key)") }
        guard let bytes = value.bytes else { throw .wrongType(field: "info.\(key)", expected: "a string") }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func isPadding(_ dict: BencodeValue) -> Bool {
        dict["attr"]?.bytes?.contains(UInt8(ascii: "p")) ?? false
    }
}
