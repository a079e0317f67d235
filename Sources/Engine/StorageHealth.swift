/// Why a torrent's pieces cannot be written now: a full disk (or quota), an I/O error, a
/// file system gone read-only.
public struct StorageFault: Sendable, Equatable {
    /// The system's reason with the file, e.g. "…/big.bin: No space left on device".
    public let reason: String
    /// The disk (or the user's quota) is full: freeing space ends it.
    public let diskFull: Bool
    /// Bytes available on the file system of the torrent's files when last looked at.
    public internal(set) var availableBytes: Int64?

    public init(reason: String, diskFull: Bool, availableBytes: Int64?) {
        self.reason = reason
        self.diskFull = diskFull
        self.availableBytes = availableBytes
    }
}

/// Whether a torrent may download: a write that fails for a reason that will not pass by
/// itself (ENOSPC, EDQUOT, EIO, EROFS) stops its downloading at once, rather than fetching
/// and failing every piece again (thousands of failed writes and log lines a second, with
/// readers waiting on pieces that can never be stored). Downloading is tried again when the
/// file system has room again, or after a backoff (10 s, doubling, at most 5 min: a quota or
/// an I/O error cannot be seen coming back); a write that then succeeds ends the fault.
///
/// Pure: the torrent reports writes and ticks with the time and the free space, and
/// performs what the answers say (log, fail its readers, request again).
struct StorageHealth {
    static let firstRetry: Duration = .seconds(10)
    static let lastRetry: Duration = .seconds(300)

    private(set) var fault: StorageFault?
    /// A retry is under way: pieces are requested again, and the next write decides.
    private(set) var isRetrying = false
    private var retryAt: ContinuousClock.Instant?
    private var retryDelay = Self.firstRetry
    /// Available bytes when downloading stopped: if there was room then (a quota, not the
    /// disk, is full), free space says nothing and only the backoff ends the wait.
    private var availableWhenStopped: Int64?

    /// What a failed write changes.
    enum Failure: Equatable {
        /// Downloading stops now: healthy until this write (log it once, fail every reader).
        case stopped
        /// A retry failed: downloading stops again, quietly (fail every reader again).
        case stoppedAgain
        /// Already stopped: a write that was under way when it stopped (only its readers fail).
        case alreadyStopped
    }

    /// Downloading is stopped: nothing is requested, and a read of a missing piece fails now.
    var holdsDownloads: Bool { fault != nil && !isRetrying }

    mutating func writeFailed(_ reason: String, diskFull: Bool, availableBytes: Int64?, now: ContinuousClock.Instant) -> Failure {
        let failure: Failure = fault == nil ? .stopped : isRetrying ? .stoppedAgain : .alreadyStopped
        switch failure {
        case .stopped:
            retryDelay = Self.firstRetry
        case .stoppedAgain:
            retryDelay = min(retryDelay * 2, Self.lastRetry)
        case .alreadyStopped:
            break
        }
        fault = StorageFault(reason: reason, diskFull: diskFull, availableBytes: availableBytes)
        if failure != .alreadyStopped {
            retryAt = now + retryDelay
            availableWhenStopped = availableBytes
        }
        isRetrying = false
        return failure
    }

    /// A piece was written. True when that ends a fault (say so once).
    mutating func written() -> Bool {
        guard fault != nil else { return false }
        self = StorageHealth()
        return true
    }

    /// While stopped, on each tick: true when downloading should be tried again now, because
    /// the file system has `needed` bytes available again (when it had not as it stopped),
    /// or the backoff is over.
    mutating func shouldRetry(now: ContinuousClock.Instant, availableBytes: Int64?, needed: Int64) -> Bool {
        guard holdsDownloads else { return false }
        fault?.availableBytes = availableBytes
        let roomAgain = fault!.diskFull && (availableWhenStopped ?? 0) < needed && (availableBytes ?? 0) >= needed
        guard roomAgain || now >= retryAt! else { return false }
        isRetrying = true
        return true
    }
}
