/// What a torrent moved since it started, for `memofs status` and tracker announces.
/// Counters only grow, and only through these methods: a piece that fails its hash check
/// counts as a failure and as wasted bytes together.
struct TransferStatistics: Sendable, Equatable {
    /// Bytes of blocks we asked for and kept.
    private(set) var downloadedBytes: Int64 = 0
    private(set) var uploadedBytes: Int64 = 0
    /// Bytes received and thrown away: blocks nobody asked for or that came twice, hashes
    /// not asked for, and whole pieces that failed their hash check.
    private(set) var wastedBytes: Int64 = 0
    private(set) var hashFailures = 0
    /// Pieces hashed again at start because their files changed behind memofs's back.
    private(set) var recheckedPieces = 0

    mutating func downloaded(_ bytes: Int) { downloadedBytes += Int64(bytes) }
    mutating func uploaded(_ bytes: Int) { uploadedBytes += Int64(bytes) }
    mutating func wasted(_ bytes: Int) { wastedBytes += Int64(bytes) }

    /// A piece of `length` bytes failed its hash check: every byte of it was wasted.
    mutating func hashFailed(pieceLength length: Int) {
        hashFailures += 1
        wastedBytes += Int64(length)
    }

    /// Verified pieces given back to stay within the cache's limit (fetched again if read).
    private(set) var evictedPieces = 0

    mutating func rechecked(_ pieces: Int) { recheckedPieces += pieces }
    mutating func evicted(_ pieces: Int) { evictedPieces += pieces }
}
