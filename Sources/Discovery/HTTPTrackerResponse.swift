import Bencode
import TorrentModel

extension HTTPTracker {
    /// Bounds for the bencode of a tracker response: a real one nests three levels
    /// (dictionary, peer list, peer dictionary) and holds a few thousand values at most.
    static let decoderLimits = BencodeDecoder.Limits(maxDepth: 8, maxStringLength: 1 << 22, maxValues: 100_000)

    /// Texts a tracker sends for humans (failure reason, warning) are cut to this many
    /// bytes so one response cannot flood the log.
    static let maxMessageBytes = 1024

    /// Reads the bencoded body of an announce response.
    ///
    /// - A `failure reason` wins over everything else and is thrown as ``TrackerError/failure(reason:)``.
    /// - `interval` is required and clamped into ``AnnounceResponse/acceptedIntervals``;
    ///   `min interval` is optional and clamped the same way.
    /// - `peers` may be compact (6 bytes an entry, BEP 23) or a list of dictionaries with
    ///   `ip` (IPv4 or IPv6 text, or a host name) and `port`; `peers6` is compact with 18
    ///   bytes an entry (BEP 7). A compact string that is not a whole number of entries is
    ///   an error, since it means the tracker and we disagree on the format. Dictionary
    ///   entries that make no sense (no `ip`, a port out of range) are skipped one by one.
    ///   A response without peers is accepted: some trackers leave the key out when the
    ///   swarm is empty.
    /// - Informational fields (`complete`, `incomplete`, `tracker id`, `warning message`)
    ///   of the wrong type are ignored rather than failing an otherwise usable response.
    ///
    /// Bytes after the top-level dictionary are tolerated (some trackers add a newline);
    /// the dictionary itself must be canonical bencode, as the shared decoder requires.
    public static func parseAnnounceResponse(_ body: [UInt8]) throws(TrackerError) -> AnnounceResponse {
        let root: BencodeValue
        do {
            root = try BencodeDecoder(limits: decoderLimits).decodePrefix(body).value
        } catch {
            throw .notBencode(error.description)
        }
        guard case .dictionary = root else { throw .notADictionary(found: root.typeName) }

        if let reason = root["failure reason"] {
            throw .failure(reason: message(reason))
        }

        guard let intervalValue = root["interval"] else { throw .missingField("interval") }
        guard let interval = intervalValue.integer else {
            throw .wrongType(field: "interval", expected: "integer", found: intervalValue.typeName)
        }
        let minInterval = root["min interval"]?.integer.map(AnnounceResponse.clampInterval)

        var collector = PeerCollector()
        if let peers = root["peers"] {
            try collect(peers, field: "peers", addressLength: 4, into: &collector)
        }
        if let peers6 = root["peers6"] {
            try collect(peers6, field: "peers6", addressLength: 16, into: &collector)
        }

        return AnnounceResponse(
            interval: AnnounceResponse.clampInterval(interval),
            minInterval: minInterval,
            peers: collector.peers,
            seeders: count(root["complete"]),
            leechers: count(root["incomplete"]),
            trackerID: root["tracker id"]?.bytes.flatMap { $0.count <= 1024 ? String(validating: $0, as: UTF8.self) : nil },
            warning: root["warning message"].map(message))
    }

    private static func collect(_ value: BencodeValue, field: String, addressLength: Int,
                                into collector: inout PeerCollector) throws(TrackerError) {
        switch value {
        case .bytes(let bytes):
            let entrySize = addressLength + 2
            guard bytes.count % entrySize == 0 else {
                throw .malformedPeers(field: field, length: bytes.count, entrySize: entrySize)
            }
            collector.addCompact(bytes[...], addressLength: addressLength)
        case .list(let entries):
            for entry in entries {
                if collector.isFull { break }
                if let peer = dictionaryPeer(entry) { collector.add(peer) }
            }
        default:
            throw .wrongType(field: field, expected: "byte string or list", found: value.typeName)
        }
    }

    /// One peer of the dictionary form (`ip`, `port`, maybe `peer id`), or nil if it is unusable.
    private static func dictionaryPeer(_ entry: BencodeValue) -> PeerAddress? {
        guard let ipBytes = entry["ip"]?.bytes, let port = entry["port"]?.integer,
              (1...65535).contains(port), let ip = String(validating: ipBytes, as: UTF8.self),
              ip.utf8.count <= 253 else { return nil }
        return PeerAddress(ip.contains(":") ? "[\(ip)]:\(port)" : "\(ip):\(port)")
    }

    private static func count(_ value: BencodeValue?) -> Int? {
        guard let number = value?.integer, number >= 0, number <= Int64(Int32.max) else { return nil }
        return Int(number)
    }

    /// A human-readable text field, cut to ``maxMessageBytes`` and decoded leniently:
    /// a message in the wrong encoding is still worth showing.
    private static func message(_ value: BencodeValue) -> String {
        switch value {
        case .bytes(let bytes): String(decoding: bytes.prefix(maxMessageBytes), as: UTF8.self)
        case .integer(let number): String(number)
        default: "(a \(value.typeName))"
        }
    }
}
