import TorrentModel

/// The first 68 bytes each side sends (BEP 3): `19`, "BitTorrent protocol",
/// 8 reserved bytes of feature bits, the info hash and the peer id.
///
/// The engine reads exactly ``length`` bytes itself before any framing
/// starts, so this type only converts those bytes to and from a value.
public struct Handshake: Equatable, Sendable {
    public static let length = 68
    /// The protocol string, prefixed on the wire by its length, 19.
    public static let protocolName: [UInt8] = Array("BitTorrent protocol".utf8)

    public var infoHash: InfoHash
    public var peerID: PeerID
    /// 8 bytes of feature bits; see the `supports…` properties for the ones memofs knows.
    public var reserved: [UInt8]

    /// What memofs announces: the extension protocol (BEP 10, needed for
    /// metadata from peers), the fast extension (BEP 6) and DHT (BEP 5).
    public static let memofsReserved: [UInt8] = {
        var bits = [UInt8](repeating: 0, count: 8)
        bits[5] |= 0x10
        bits[7] |= 0x04
        bits[7] |= 0x01
        return bits
    }()

    /// `reserved` must have 8 bytes; anything else is a programming error.
    public init(infoHash: InfoHash, peerID: PeerID, reserved: [UInt8] = Handshake.memofsReserved) {
        precondition(reserved.count == 8, "a handshake's reserved field has 8 bytes, not \(reserved.count)")
        self.infoHash = infoHash
        self.peerID = peerID
        self.reserved = reserved
    }

    /// BEP 10: reserved byte 5, bit 0x10.
    public var supportsExtensionProtocol: Bool {
        get { bit(5, 0x10) }
        set { setBit(5, 0x10, newValue) }
    }

    /// BEP 6: reserved byte 7, bit 0x04. Both sides must set it before either
    /// may send `have all`, `reject request` and the other fast messages.
    public var supportsFastExtension: Bool {
        get { bit(7, 0x04) }
        set { setBit(7, 0x04, newValue) }
    }

    /// BEP 5: reserved byte 7, bit 0x01; such a peer may send a `port` message.
    public var supportsDHT: Bool {
        get { bit(7, 0x01) }
        set { setBit(7, 0x01, newValue) }
    }

    /// BEP 52: reserved byte 7, bit 0x10: the peer speaks v2 and answers hash requests.
    /// Set only for a torrent known to have v2 hashes: libtorrent drops a peer that sets
    /// it for a v1-only torrent.
    public var supportsV2: Bool {
        get { bit(7, 0x10) }
        set { setBit(7, 0x10, newValue) }
    }

    public func encoded() -> [UInt8] {
        precondition(reserved.count == 8, "a handshake's reserved field has 8 bytes, not \(reserved.count)")
        var output: [UInt8] = []
        output.reserveCapacity(Self.length)
        output.append(UInt8(Self.protocolName.count))
        output.append(contentsOf: Self.protocolName)
        output.append(contentsOf: reserved)
        output.append(contentsOf: infoHash.bytes)
        output.append(contentsOf: peerID.bytes)
        return output
    }

    /// Decodes exactly ``length`` bytes. Reserved bits are kept as they are:
    /// unknown bits are other clients' extensions, not errors.
    public init(decoding bytes: some Collection<UInt8>) throws(PeerWireError) {
        let bytes = Array(bytes)
        guard bytes.count == Self.length else { throw .handshakeLength(bytes.count) }
        guard bytes[0] == UInt8(Self.protocolName.count), bytes[1..<20].elementsEqual(Self.protocolName) else {
            throw .notBitTorrentHandshake
        }
        // Both force-unwraps take exactly 20 bytes, which is what they accept.
        self.reserved = Array(bytes[20..<28])
        self.infoHash = InfoHash(bytes: bytes[28..<48])!
        self.peerID = PeerID(bytes: bytes[48..<68])!
    }

    private func bit(_ byte: Int, _ mask: UInt8) -> Bool {
        reserved.count == 8 && reserved[byte] & mask != 0
    }

    private mutating func setBit(_ byte: Int, _ mask: UInt8, _ on: Bool) {
        precondition(reserved.count == 8, "a handshake's reserved field has 8 bytes, not \(reserved.count)")
        if on { reserved[byte] |= mask } else { reserved[byte] &= ~mask }
    }
}
