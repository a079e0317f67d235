import TorrentModel

/// When an address we could not reach, or that dropped us, may be dialled again.
///
/// A dial that fails is tried again soon, then less and less often: the seeder named in a
/// magnet's `x.pe` is often started a moment after the magnet is added, and waiting a fixed
/// 30 s for it cost a user 30 s of nothing; an address that stays dead costs a refused SYN a
/// few minutes apart. A peer that was connected and then dropped us waits longer, so a peer
/// that closes every connection is not dialled in a loop. Pure: time comes in as arguments.
struct RedialBackoff: Sendable {
    /// Waits after the 1st, 2nd, … failure in a row: 1, 1.5, 2.25, … s (each half as long
    /// again as the one before), at most `longestWait`. An address that comes up is found
    /// within about a third of the time it was down, plus the second between ticks.
    static let firstWait: Duration = .seconds(1)
    static let growth = 1.5
    static let longestWait: Duration = .seconds(300)
    /// The least wait after a connection that had been made was closed.
    static let afterDrop: Duration = .seconds(30)
    /// Addresses remembered at most; past it, those whose wait is over are forgotten.
    static let capacity = 4096

    private struct Entry: Sendable {
        var failures: Int
        var retryAt: ContinuousClock.Instant
    }

    private var entries: [PeerAddress: Entry] = [:]

    func mayDial(_ address: PeerAddress, now: ContinuousClock.Instant) -> Bool {
        guard let entry = entries[address] else { return true }
        return now >= entry.retryAt
    }

    /// When `address` may be dialled again; nil if it may be now.
    func retryTime(of address: PeerAddress, now: ContinuousClock.Instant) -> ContinuousClock.Instant? {
        guard let entry = entries[address], entry.retryAt > now else { return nil }
        return entry.retryAt
    }

    /// A dial failed (refused, timed out, closed before or at the handshake).
    mutating func dialFailed(_ address: PeerAddress, now: ContinuousClock.Instant) {
        let failures = (entries[address]?.failures ?? 0) + 1
        record(address, Entry(failures: failures, retryAt: now + Self.wait(afterFailures: failures)), now: now)
    }

    /// A connection that had been made ended: wait at least `afterDrop`, more if dials of
    /// it kept failing before.
    mutating func dropped(_ address: PeerAddress, now: ContinuousClock.Instant) {
        let failures = entries[address]?.failures ?? 0
        let wait = max(Self.afterDrop, failures > 0 ? Self.wait(afterFailures: failures) : .zero)
        record(address, Entry(failures: failures, retryAt: now + wait), now: now)
    }

    /// Do not dial `address` for `wait` (it was ourselves, or a peer already connected).
    mutating func hold(_ address: PeerAddress, for wait: Duration, now: ContinuousClock.Instant) {
        record(address, Entry(failures: entries[address]?.failures ?? 0, retryAt: now + wait), now: now)
    }

    /// A handshake with `address` went through: its failures are forgotten.
    mutating func connected(_ address: PeerAddress) {
        entries[address] = nil
    }

    static func wait(afterFailures failures: Int) -> Duration {
        guard failures > 0 else { return .zero }
        var wait = firstWait
        for _ in 1..<min(failures, 64) where wait < longestWait { wait = wait * growth }
        return min(wait, longestWait)
    }

    private mutating func record(_ address: PeerAddress, _ entry: Entry, now: ContinuousClock.Instant) {
        entries[address] = entry
        guard entries.count > Self.capacity else { return }
        entries = entries.filter { $0.value.retryAt > now }
        while entries.count > Self.capacity {
            entries.removeValue(forKey: entries.min { $0.value.retryAt < $1.value.retryAt }!.key)
        }
    }

    var count: Int { entries.count }
}
