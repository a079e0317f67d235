import Bencode
import TorrentModel

/// Peer exchange (BEP 11): the `ut_pex` extension message, a dictionary of compact peer
/// lists. A message names at most 50 added and 50 dropped peers of each family, and a
/// peer sends at most one a minute; what a hostile peer sends beyond `maxEntries` is ignored.
public struct PexMessage: Equatable, Sendable {
    public static let extensionName = "ut_pex"
    public static let maxEntries = 50
    /// Per-peer flags (`added.f`): 0x01 prefers encryption, 0x02 is a seed, 0x10 reachable.
    public static let seedFlag: UInt8 = 0x02

    public var added: [PeerAddress]
    public var addedFlags: [UInt8]
    public var dropped: [PeerAddress]

    public init(added: [PeerAddress] = [], addedFlags: [UInt8] = [], dropped: [PeerAddress] = []) {
        self.added = added
        self.addedFlags = addedFlags
        self.dropped = dropped
    }

    public func encoded() -> [UInt8] {
        // Each address with its flag, by position (duplicates allowed).
        let entries = added.prefix(Self.maxEntries).enumerated().map { ($1, $0 < addedFlags.count ? addedFlags[$0] : 0) }
        let added4 = entries.filter { $0.0.isIPv4 }, added6 = entries.filter { $0.0.isIPv6 }
        var dict: [[UInt8]: BencodeValue] = [
            Array("added".utf8): .bytes(added4.flatMap(\.0.compactBytes)),
            Array("added.f".utf8): .bytes(added4.map(\.1)),
            Array("dropped".utf8): .bytes(dropped.prefix(Self.maxEntries).filter(\.isIPv4).flatMap(\.compactBytes)),
        ]
        if !added6.isEmpty {
            dict[Array("added6".utf8)] = .bytes(added6.flatMap(\.0.compactBytes))
            dict[Array("added6.f".utf8)] = .bytes(added6.map(\.1))
        }
        let dropped6 = dropped.prefix(Self.maxEntries).filter(\.isIPv6)
        if !dropped6.isEmpty { dict[Array("dropped6".utf8)] = .bytes(dropped6.flatMap(\.compactBytes)) }
        return BencodeEncoder.encode(.dictionary(dict))
    }

    /// Reads a message; entries past `maxEntries` per list, port 0 and ragged tails are dropped.
    public init(decoding payload: [UInt8]) throws(PeerWireError) {
        let value: BencodeValue
        do {
            value = try BencodeDecoder(limits: .init(maxDepth: 4, maxStringLength: 1 << 16, maxValues: 64)).decode(payload)
        } catch {
            throw .invalidExtensionHandshake("ut_pex message is not bencoded: \(error)")
        }
        guard value.dictionary != nil else { throw .invalidExtensionHandshake("ut_pex message is not a dictionary") }
        func peers(_ key: String, size: Int) -> [PeerAddress] {
            guard let bytes = value[key]?.bytes else { return [] }
            return stride(from: 0, to: bytes.count - size + 1, by: size).prefix(Self.maxEntries).compactMap { start in
                PeerAddress(compact: Array(bytes[start..<(start + size)]))
            }
        }
        let added4 = peers("added", size: 6), added6 = peers("added6", size: 18)
        let flags4 = value["added.f"]?.bytes ?? [], flags6 = value["added6.f"]?.bytes ?? []
        added = added4 + added6
        addedFlags = added4.indices.map { $0 < flags4.count ? flags4[$0] : 0 } + added6.indices.map { $0 < flags6.count ? flags6[$0] : 0 }
        dropped = peers("dropped", size: 6) + peers("dropped6", size: 18)
    }
}

extension PeerAddress {
    var isIPv4: Bool { if case .ipv4 = host { true } else { false } }
    var isIPv6: Bool { if case .ipv6 = host { true } else { false } }

    /// The compact form (BEP 23): address bytes then the port, big-endian; empty for host names.
    public var compactBytes: [UInt8] {
        switch host {
        case .ipv4(let bytes), .ipv6(let bytes): bytes + [UInt8(port >> 8), UInt8(port & 0xff)]
        case .name: []
        }
    }

    /// Reads 6 (IPv4) or 18 (IPv6) compact bytes; nil for port 0.
    public init?(compact bytes: [UInt8]) {
        guard bytes.count == 6 || bytes.count == 18 else { return nil }
        let port = UInt16(bytes[bytes.count - 2]) << 8 | UInt16(bytes[bytes.count - 1])
        guard port != 0 else { return nil }
        let address = Array(bytes[..<(bytes.count - 2)])
        self.init(host: bytes.count == 6 ? .ipv4(address) : .ipv6(address), port: port)
    }
}
