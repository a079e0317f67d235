import TorrentModel

extension PeerMessage {
    /// The largest length prefix (id plus payload, not the prefix itself) taken from a peer:
    /// 2^19 + 1024 = 525,312 bytes. A larger prefix is refused before any of its body is
    /// buffered, which bounds the memory one connection can make us hold.
    ///
    /// It must hold the largest message a well-behaved peer sends:
    /// - a `bitfield` for ``TorrentInfo/maxPieceCount`` (2^22) pieces: 1 + 524,288 bytes, the
    ///   largest of all, and what sets the limit;
    /// - a `piece` message of a 16 KiB block: 9 + 16,384 (16 KiB + 13 on the wire), and the up
    ///   to 128 KiB blocks some old clients serve;
    /// - a BEP 52 `hashes` message of 512 hashes and their proof: 49 + 32 × (512 + a few dozen);
    /// - a BEP 9 metadata piece: an `extended` message of 16 KiB plus a small dictionary;
    /// - other extension messages (handshake, PEX), a few kilobytes at most.
    /// The 1024 bytes above the bitfield are slack, so no message near these sizes is refused
    /// for a few bytes of header.
    public static let maxLength = TorrentInfo.maxPieceCount / 8 + 1024
}
