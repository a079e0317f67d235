import Bencode
import TorrentModel

/// A KRPC message (BEP 5): one bencoded dictionary per UDP datagram with a
/// transaction id `t`, a type `y`, and a query, response or error body.
///
/// Decoding is strict and bounded, since any host on the internet can send us
/// datagrams: tight bencode limits, ids of exactly 20 bytes, short tokens and
/// transaction ids, a capped `values` list. Compact node lists with a partial
/// entry at the end keep their whole entries, as other clients do.
public struct KRPCMessage: Sendable, Equatable {
    public enum Body: Sendable, Equatable {
        case query(KRPCQuery)
        case response(KRPCResponse)
        case error(KRPCError)
    }

    /// A KRPC message is a flat dictionary with one level of arguments and a list
    /// of `values`, so anything deeper, larger or longer is not one.
    public static let decoderLimits = BencodeDecoder.Limits(maxDepth: 4, maxStringLength: 2048, maxValues: 512)
    /// Tokens are short opaque strings (ours are 8 bytes); a long one is refused
    /// rather than stored and echoed back.
    public static let maxTokenLength = 64
    /// Transaction ids are echoed back in responses; clients use 2 to 4 bytes.
    public static let maxTransactionIDLength = 32

    public var transactionID: [UInt8]
    public var body: Body
    /// The sender's client version (`v`), when it says.
    public var version: [UInt8]?

    public init(transactionID: [UInt8], body: Body, version: [UInt8]? = nil) {
        self.transactionID = transactionID
        self.body = body
        self.version = version
    }

    /// The datagram's bytes.
    public func encoded() -> [UInt8] {
        var root: [[UInt8]: BencodeValue] = [:]
        root[key("t")] = .bytes(transactionID)
        if let version { root[key("v")] = .bytes(version) }
        switch body {
        case .query(let query):
            root[key("y")] = .string("q")
            root[key("q")] = .string(query.method)
            root[key("a")] = .dictionary(Self.arguments(of: query))
        case .response(let response):
            root[key("y")] = .string("r")
            var fields: [[UInt8]: BencodeValue] = [key("id"): .bytes(response.id.bytes)]
            if !response.nodes.isEmpty { fields[key("nodes")] = .bytes(response.nodes.flatMap(\.compactBytes)) }
            if !response.nodes6.isEmpty { fields[key("nodes6")] = .bytes(response.nodes6.flatMap(\.compactBytes)) }
            let values = response.values.compactMap(CompactAddress.encode)
            if !values.isEmpty { fields[key("values")] = .list(values.map { .bytes($0) }) }
            if let token = response.token { fields[key("token")] = .bytes(token) }
            root[key("r")] = .dictionary(fields)
        case .error(let error):
            root[key("y")] = .string("e")
            root[key("e")] = .list([.integer(Int64(error.code)), .string(error.message)])
        }
        return BencodeEncoder.encode(.dictionary(root))
    }

    private static func arguments(of query: KRPCQuery) -> [[UInt8]: BencodeValue] {
        var arguments: [[UInt8]: BencodeValue] = [key("id"): .bytes(query.senderID.bytes)]
        switch query {
        case .ping:
            break
        case .findNode(_, let target):
            arguments[key("target")] = .bytes(target.bytes)
        case .getPeers(_, let infoHash):
            arguments[key("info_hash")] = .bytes(infoHash.bytes)
        case .announcePeer(_, let infoHash, let port, let token, let impliedPort):
            arguments[key("info_hash")] = .bytes(infoHash.bytes)
            arguments[key("port")] = .integer(Int64(port))
            arguments[key("token")] = .bytes(token)
            if impliedPort { arguments[key("implied_port")] = .integer(1) }
        }
        return arguments
    }

    /// Decodes one datagram.
    public init(decoding datagram: [UInt8]) throws(DHTError) {
        let root: BencodeValue
        do {
            root = try BencodeDecoder(limits: Self.decoderLimits).decode(datagram)
        } catch {
            throw .notBencode(error.description)
        }
        let fields = try Fields(root, name: "message")
        let transactionID = try fields.bytes("t")
        guard transactionID.count <= Self.maxTransactionIDLength else {
            throw .tooLong(field: "t", length: transactionID.count, limit: Self.maxTransactionIDLength)
        }
        self.transactionID = transactionID
        self.version = try fields.optionalBytes("v")
        let type = try fields.bytes("y")
        switch type {
        case Array("q".utf8):
            let method = try fields.bytes("q")
            let arguments = try Fields(try fields.value("a"), name: "a")
            body = .query(try Self.query(method: method, arguments: arguments, transactionID: transactionID))
        case Array("r".utf8):
            body = .response(try Self.response(try Fields(try fields.value("r"), name: "r")))
        case Array("e".utf8):
            body = .error(try Self.error(try fields.value("e")))
        default:
            throw .unknownMessageType(String(decoding: type.prefix(32), as: UTF8.self))
        }
    }

    private static func query(method: [UInt8], arguments: Fields,
                              transactionID: [UInt8]) throws(DHTError) -> KRPCQuery {
        switch method {
        case Array("ping".utf8):
            return .ping(id: try arguments.nodeID("id"))
        case Array("find_node".utf8):
            return .findNode(id: try arguments.nodeID("id"), target: try arguments.nodeID("target"))
        case Array("get_peers".utf8):
            return .getPeers(id: try arguments.nodeID("id"), infoHash: InfoHash(try arguments.nodeID("info_hash")))
        case Array("announce_peer".utf8):
            let id = try arguments.nodeID("id")
            let infoHash = InfoHash(try arguments.nodeID("info_hash"))
            let impliedPort = try arguments.optionalInteger("implied_port").map { $0 != 0 } ?? false
            let token = try arguments.bytes("token")
            guard token.count <= maxTokenLength else {
                throw .tooLong(field: "a.token", length: token.count, limit: maxTokenLength)
            }
            // With implied_port the port is ignored, so an odd value there is no reason to refuse.
            let rawPort = try impliedPort ? arguments.optionalInteger("port") ?? 0 : arguments.integer("port")
            let port: UInt16
            if (1...65535).contains(rawPort) {
                port = UInt16(rawPort)
            } else if impliedPort {
                port = 0
            } else {
                throw .invalidPort(rawPort)
            }
            return .announcePeer(id: id, infoHash: infoHash, port: port, token: token, impliedPort: impliedPort)
        default:
            throw .unknownMethod(String(decoding: method.prefix(64), as: UTF8.self), transactionID: transactionID)
        }
    }

    private static func response(_ fields: Fields) throws(DHTError) -> KRPCResponse {
        let id = try fields.nodeID("id")
        let nodes = try fields.optionalBytes("nodes").map { NodeInfo.decodeList($0, entrySize: NodeInfo.compactIPv4Size) } ?? []
        let nodes6 = try fields.optionalBytes("nodes6").map { NodeInfo.decodeList($0, entrySize: NodeInfo.compactIPv6Size) } ?? []
        let token = try fields.optionalBytes("token")
        if let token, token.count > maxTokenLength {
            throw .tooLong(field: "r.token", length: token.count, limit: maxTokenLength)
        }
        var values: [PeerAddress] = []
        if let list = try fields.optionalValue("values") {
            guard case .list(let entries) = list else {
                throw .wrongType(field: "r.values", expected: "list", found: list.typeName)
            }
            // Entries that are not a compact address, or name port 0, are skipped.
            var seen: Set<PeerAddress> = []
            for entry in entries {
                guard values.count < KRPCResponse.maxValues else { break }
                if case .bytes(let bytes) = entry, let peer = CompactAddress.decode(bytes), peer.port != 0,
                   seen.insert(peer).inserted {
                    values.append(peer)
                }
            }
        }
        return KRPCResponse(id: id, nodes: nodes, nodes6: nodes6, values: values, token: token)
    }

    private static func error(_ value: BencodeValue) throws(DHTError) -> KRPCError {
        guard case .list(let items) = value else {
            throw .wrongType(field: "e", expected: "list", found: value.typeName)
        }
        guard items.count >= 2 else { throw .missingField("e[\(items.count)]") }
        guard case .integer(let code) = items[0] else {
            throw .wrongType(field: "e[0]", expected: "integer", found: items[0].typeName)
        }
        guard case .bytes(let message) = items[1] else {
            throw .wrongType(field: "e[1]", expected: "byte string", found: items[1].typeName)
        }
        let clamped = Int(clamping: code)
        return KRPCError(code: clamped, message: String(decoding: message.prefix(256), as: UTF8.self))
    }
}

private func key(_ text: String) -> [UInt8] { Array(text.utf8) }

/// Typed access to a dictionary's fields, with errors that name `prefix.key`.
private struct Fields {
    let entries: [[UInt8]: BencodeValue]
    let name: String

    init(_ value: BencodeValue, name: String) throws(DHTError) {
        guard case .dictionary(let entries) = value else {
            throw .notADictionary(field: name, found: value.typeName)
        }
        self.entries = entries
        self.name = name
    }

    private func path(_ field: String) -> String { name == "message" ? field : "\(name).\(field)" }

    func optionalValue(_ field: String) throws(DHTError) -> BencodeValue? { entries[key(field)] }

    func value(_ field: String) throws(DHTError) -> BencodeValue {
        guard let value = entries[key(field)] else { throw .missingField(path(field)) }
        return value
    }

    func optionalBytes(_ field: String) throws(DHTError) -> [UInt8]? {
        guard let value = entries[key(field)] else { return nil }
        guard case .bytes(let bytes) = value else {
            throw .wrongType(field: path(field), expected: "byte string", found: value.typeName)
        }
        return bytes
    }

    func bytes(_ field: String) throws(DHTError) -> [UInt8] {
        guard let bytes = try optionalBytes(field) else { throw .missingField(path(field)) }
        return bytes
    }

    func optionalInteger(_ field: String) throws(DHTError) -> Int64? {
        guard let value = entries[key(field)] else { return nil }
        guard case .integer(let number) = value else {
            throw .wrongType(field: path(field), expected: "integer", found: value.typeName)
        }
        return number
    }

    func integer(_ field: String) throws(DHTError) -> Int64 {
        guard let number = try optionalInteger(field) else { throw .missingField(path(field)) }
        return number
    }

    func nodeID(_ field: String) throws(DHTError) -> NodeID {
        let bytes = try bytes(field)
        guard let id = NodeID(bytes: bytes) else {
            throw .wrongLength(field: path(field), length: bytes.count, expected: NodeID.byteCount)
        }
        return id
    }
}

extension InfoHash {
    init(_ id: NodeID) { self.init(bytes: id.bytes)! }
}
