import TorrentModel

/// A datagram from a UDP tracker (BEP 15), decoded.
///
/// Decoding checks only what a datagram must hold for its action; matching the
/// transaction id against the request is the exchange's job.
public enum UDPTrackerResponse: Sendable, Equatable {
    case connect(transactionID: UInt32, connectionID: UInt64)
    /// `interval`, `leechers` and `seeders` as sent (signed 32-bit); the exchange clamps them.
    /// Peers are capped at ``AnnounceResponse/maxPeers``, without port 0 or duplicates.
    case announce(transactionID: UInt32, interval: Int, leechers: Int, seeders: Int, peers: [PeerAddress])
    case error(transactionID: UInt32, message: String)

    /// The transaction id, for matching a response to its request.
    public var transactionID: UInt32 {
        switch self {
        case .connect(let id, _), .announce(let id, _, _, _, _), .error(let id, _): id
        }
    }

    /// Decodes a datagram. `peerAddressLength` is the size of one peer entry in an
    /// announce response: 6 when the tracker was reached over IPv4, 18 over IPv6
    /// (BEP 15 ties the format to the address family of the packet).
    ///
    /// BEP 15 asks clients not to expect exact sizes, since extensions may add bytes,
    /// so bytes after a connect response and a partial peer entry at the end of an
    /// announce response are ignored.
    public init(decoding datagram: [UInt8], peerAddressLength: Int) throws(TrackerError) {
        precondition(peerAddressLength == 6 || peerAddressLength == 18, "peer entries are 6 or 18 bytes")
        guard datagram.count >= 8 else { throw .datagramTooShort(action: "any", length: datagram.count, needed: 8) }
        let action = datagram.readBigEndian(UInt32.self, at: 0)
        let transactionID = datagram.readBigEndian(UInt32.self, at: 4)
        switch UDPTrackerMessage.Action(rawValue: action) {
        case .connect:
            guard datagram.count >= 16 else {
                throw .datagramTooShort(action: "connect", length: datagram.count, needed: 16)
            }
            self = .connect(transactionID: transactionID, connectionID: datagram.readBigEndian(UInt64.self, at: 8))
        case .announce:
            guard datagram.count >= 20 else {
                throw .datagramTooShort(action: "announce", length: datagram.count, needed: 20)
            }
            var collector = PeerCollector()
            collector.addCompact(datagram[20...], addressLength: peerAddressLength - 2)
            self = .announce(transactionID: transactionID,
                             interval: Int(datagram.readBigEndian(Int32.self, at: 8)),
                             leechers: Int(datagram.readBigEndian(Int32.self, at: 12)),
                             seeders: Int(datagram.readBigEndian(Int32.self, at: 16)),
                             peers: collector.peers)
        case .error:
            // The message runs to the end of the datagram; some trackers end it with a NUL.
            var text = datagram[8...].prefix(HTTPTracker.maxMessageBytes)
            while text.last == 0 { text.removeLast() }
            self = .error(transactionID: transactionID, message: String(decoding: text, as: UTF8.self))
        case .scrape, nil:
            throw .unexpectedAction(action)
        }
    }
}
