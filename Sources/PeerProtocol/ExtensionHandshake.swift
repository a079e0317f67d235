import Bencode

/// The BEP 10 extension handshake: the payload of extended message id 0, a
/// bencoded dictionary in which each side names the extensions it supports
/// and the message id it wants each one sent with.
///
/// Decoding is lenient where real clients are sloppy and strict where a
/// mistake would change what we send:
/// - the payload must be a bencoded dictionary, and "m", if present, a
///   dictionary whose values are integers 0...255: these ids decide which
///   message ids we use towards the peer, so a mapping we cannot read is an error;
/// - "m" entries whose name is not UTF-8 are skipped (no extension we know has such a name);
/// - every other field is optional: a missing, wrong-typed or out-of-range
///   value reads as absent, and unknown keys are ignored. In particular a
///   `metadata_size` outside `1...maxMetadataSize` reads as absent (one above it
///   is kept apart, `oversizedMetadataSize`, for the engine to judge).
public struct ExtensionHandshake: Equatable, Sendable {
    /// The largest info dictionary memofs will fetch from peers (BEP 9): 16 MiB,
    /// several times the largest real torrents' metadata.
    public static let maxMetadataSize = 16 << 20
    /// The extended message id of the handshake itself.
    public static let extendedID: UInt8 = 0

    /// "m": extension name to the id the sender wants to receive it with.
    /// An id of 0 means the extension is disabled; it is kept, not dropped,
    /// because in a later handshake it turns off an extension enabled earlier.
    public var extensions: [String: UInt8]
    /// "v": the client's name and version.
    public var client: String?
    /// "p": the port the peer listens on, which the connection's remote port need not be.
    public var listenPort: UInt16?
    /// "reqq": how many outstanding requests the peer keeps without dropping any.
    public var requestQueueLength: Int?
    /// "metadata_size" (BEP 9): the size of the info dictionary, when the peer has it.
    public var metadataSize: Int?
    /// A "metadata_size" above ``maxMetadataSize``, as the peer said it (`metadataSize` is
    /// then absent): kept so the engine can tell a peer that claims a 500 MB info
    /// dictionary (which would never be fetched, the peer sitting there doing nothing)
    /// from one that has none, and cut it off.
    public var oversizedMetadataSize: Int64?
    /// "yourip": our address as the peer sees it, 4 (IPv4) or 16 (IPv6) bytes.
    public var yourIP: [UInt8]?

    public init(extensions: [String: UInt8] = [:], client: String? = nil, listenPort: UInt16? = nil,
                requestQueueLength: Int? = nil, metadataSize: Int? = nil, yourIP: [UInt8]? = nil) {
        self.extensions = extensions
        self.client = client
        self.listenPort = listenPort
        self.requestQueueLength = requestQueueLength
        self.metadataSize = metadataSize
        self.yourIP = yourIP
    }

    /// The id to send extension `name` with, or nil when the peer does not support it or disabled it.
    public func messageID(for name: String) -> UInt8? {
        guard let id = extensions[name], id != 0 else { return nil }
        return id
    }

    /// The bencoded dictionary; "m" is always present, other keys only when set.
    public func encoded() -> [UInt8] {
        var m: [[UInt8]: BencodeValue] = [:]
        for (name, id) in extensions { m[Array(name.utf8)] = .integer(Int64(id)) }
        var dict: [[UInt8]: BencodeValue] = [Array("m".utf8): .dictionary(m)]
        if let client { dict[Array("v".utf8)] = .string(client) }
        if let listenPort { dict[Array("p".utf8)] = .integer(Int64(listenPort)) }
        if let requestQueueLength { dict[Array("reqq".utf8)] = .integer(Int64(requestQueueLength)) }
        if let metadataSize { dict[Array("metadata_size".utf8)] = .integer(Int64(metadataSize)) }
        if let yourIP { dict[Array("yourip".utf8)] = .bytes(yourIP) }
        return BencodeEncoder.encode(.dictionary(dict))
    }

    public init(decoding payload: [UInt8]) throws(PeerWireError) {
        let value: BencodeValue
        do {
            value = try BencodeDecoder(limits: Self.decoderLimits).decode(payload)
        } catch {
            throw .invalidExtensionHandshake("\(error)")
        }
        guard value.dictionary != nil else {
            throw .invalidExtensionHandshake("the payload is \(value.typeWithArticle), not a dictionary")
        }

        var extensions: [String: UInt8] = [:]
        if let m = value["m"] {
            guard let entries = m.dictionary else {
                throw .invalidExtensionHandshake("\"m\" is \(m.typeWithArticle), not a dictionary")
            }
            for (key, idValue) in entries {
                guard let name = String(validating: key, as: UTF8.self) else { continue }
                guard let id = idValue.integer else {
                    throw .invalidExtensionHandshake("the id of extension \"\(name)\" is \(idValue.typeWithArticle), not an integer")
                }
                guard let byte = UInt8(exactly: id) else {
                    throw .invalidExtensionHandshake("the id of extension \"\(name)\" is \(id), not between 0 and 255")
                }
                extensions[name] = byte
            }
        }
        self.extensions = extensions

        self.client = value["v"]?.bytes.map { String(decoding: $0, as: UTF8.self) }
        self.listenPort = value["p"]?.integer.flatMap { UInt16(exactly: $0) }.flatMap { $0 == 0 ? nil : $0 }
        self.requestQueueLength = value["reqq"]?.integer.flatMap { $0 > 0 ? Int(exactly: $0) : nil }
        self.metadataSize = value["metadata_size"]?.integer.flatMap {
            $0 >= 1 && $0 <= Int64(Self.maxMetadataSize) ? Int($0) : nil
        }
        self.oversizedMetadataSize = value["metadata_size"]?.integer.flatMap { $0 > Int64(Self.maxMetadataSize) ? $0 : nil }
        self.yourIP = value["yourip"]?.bytes.flatMap { $0.count == 4 || $0.count == 16 ? $0 : nil }
    }

    /// A handshake is a small flat dictionary; these limits keep a hostile one cheap to refuse.
    static let decoderLimits = BencodeDecoder.Limits(maxDepth: 8, maxStringLength: 64 << 10, maxValues: 10_000)
}
