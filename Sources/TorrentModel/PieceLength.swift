/// Choosing a piece length for a new torrent.
public enum PieceLength {
    public static let minimum = 16 << 10
    public static let maximum = 16 << 20

    /// The piece length libtorrent 2.0 picks for `totalLength` bytes, so that memofs
    /// and libtorrent make the same torrent from the same file: 16 KiB for up to
    /// about 2.5 MiB, then doubling each time the size grows fourfold, up to 16 MiB.
    /// The bounds are 2^(28 + 2k) / 100, rounded to the nearest byte.
    public static func automatic(forTotalLength totalLength: Int64) -> Int {
        var length = minimum
        var bound: Int64 = 1 << 28
        while length < maximum && totalLength > (bound + 50) / 100 {
            length <<= 1
            bound <<= 2
        }
        return length
    }

    /// Whether a caller-chosen piece length is one memofs creates torrents with.
    public static func isValidForCreation(_ length: Int) -> Bool {
        length >= minimum && length <= maximum && length & (length - 1) == 0
    }
}
