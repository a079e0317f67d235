@testable import Engine
import Testing

/// The pure rules of a torrent whose writes fail: when downloading stops, what is said
/// once, and when it is tried again.
@Suite struct StorageHealthTests {
    let start = ContinuousClock.now
    let full = "/data/torrents/x/big.bin: No space left on device"

    @Test func aFailedWriteStopsDownloadingOnceAndWritesEndIt() {
        var health = StorageHealth()
        #expect(!health.holdsDownloads)
        let first = health.writeFailed(full, diskFull: true, availableBytes: 0, now: start)
        #expect(first == .stopped)
        #expect(health.holdsDownloads)
        #expect(health.fault == StorageFault(reason: full, diskFull: true, availableBytes: 0))
        // Writes already under way fail too: no second "stopped".
        let underWay = health.writeFailed(full, diskFull: true, availableBytes: 0, now: start)
        #expect(underWay == .alreadyStopped)
        let ended = health.written()
        #expect(ended)
        #expect(!health.holdsDownloads && health.fault == nil)
        let endedAgain = health.written()
        #expect(!endedAgain)
    }

    @Test func aFullDiskIsTriedAgainWhenSpaceReturns() {
        var health = StorageHealth()
        _ = health.writeFailed(full, diskFull: true, availableBytes: 4096, now: start)
        let stillFull = health.shouldRetry(now: start + .seconds(1), availableBytes: 4096, needed: 1 << 20)
        #expect(!stillFull)
        #expect(health.fault?.availableBytes == 4096)
        let roomAgain = health.shouldRetry(now: start + .seconds(2), availableBytes: 2 << 20, needed: 1 << 20)
        #expect(roomAgain)
        #expect(!health.holdsDownloads && health.isRetrying)
        // The retry's first write fails: stopped again, quietly, with a longer backoff.
        let retryFailed = health.writeFailed(full, diskFull: true, availableBytes: 0, now: start + .seconds(3))
        #expect(retryFailed == .stoppedAgain)
        #expect(health.holdsDownloads)
        let beforeBackoff = health.shouldRetry(now: start + .seconds(12), availableBytes: 0, needed: 1 << 20)
        #expect(!beforeBackoff)
        let afterBackoff = health.shouldRetry(now: start + .seconds(24), availableBytes: 0, needed: 1 << 20)
        #expect(afterBackoff)
    }

    /// Room on the file system when the write failed: a quota, not the disk, is full, and
    /// free space cannot tell when it is over; only the backoff can.
    @Test func aFullQuotaIsTriedAgainOnlyAfterTheBackoff() {
        var health = StorageHealth()
        _ = health.writeFailed("x: Disk quota exceeded", diskFull: true, availableBytes: 1 << 30, now: start)
        let beforeBackoff = health.shouldRetry(now: start + .seconds(9), availableBytes: 1 << 30, needed: 1 << 20)
        #expect(!beforeBackoff)
        let afterBackoff = health.shouldRetry(now: start + .seconds(10), availableBytes: 1 << 30, needed: 1 << 20)
        #expect(afterBackoff)
    }

    @Test func anIOErrorBacksOffUpToFiveMinutes() {
        var health = StorageHealth()
        var now = start
        _ = health.writeFailed("x: Input/output error", diskFull: false, availableBytes: 1 << 30, now: now)
        var waits: [Duration] = []
        for _ in 0..<7 {
            var waited: Duration = .zero
            while !health.shouldRetry(now: now, availableBytes: 1 << 30, needed: 1 << 20) {
                now += .seconds(1)
                waited += .seconds(1)
            }
            waits.append(waited)
            _ = health.writeFailed("x: Input/output error", diskFull: false, availableBytes: 1 << 30, now: now)
        }
        #expect(waits == [10, 20, 40, 80, 160, 300, 300].map { Duration.seconds($0) })
    }
}
