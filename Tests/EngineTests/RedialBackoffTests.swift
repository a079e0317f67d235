@testable import Engine
import Testing
import TorrentModel

/// When a failed or dropped address may be dialled again; time is passed in, never slept.
@Suite struct RedialBackoffTests {
    let seeder = PeerAddress("127.0.0.2:6881")!
    let other = PeerAddress("127.0.0.3:6881")!
    let start = ContinuousClock.now

    @Test func aFreshAddressMayBeDialled() {
        let backoff = RedialBackoff()
        #expect(backoff.mayDial(seeder, now: start))
        #expect(backoff.retryTime(of: seeder, now: start) == nil)
    }

    @Test func failuresInARowWaitLongerEachTimeUpToACap() {
        #expect(RedialBackoff.wait(afterFailures: 1) == .seconds(1))
        #expect(RedialBackoff.wait(afterFailures: 2) == .milliseconds(1500))
        #expect(RedialBackoff.wait(afterFailures: 3) == .milliseconds(2250))
        var previous = Duration.zero
        for failures in 1...40 {
            let wait = RedialBackoff.wait(afterFailures: failures)
            #expect(wait >= previous)
            #expect(wait <= RedialBackoff.longestWait)
            previous = wait
        }
        #expect(RedialBackoff.wait(afterFailures: 40) == RedialBackoff.longestWait)
        #expect(RedialBackoff.wait(afterFailures: Int.max) == RedialBackoff.longestWait)
    }

    @Test func aFailedDialIsTriedAgainAfterASecondNotThirty() {
        var backoff = RedialBackoff()
        backoff.dialFailed(seeder, now: start)
        #expect(!backoff.mayDial(seeder, now: start + .milliseconds(999)))
        #expect(backoff.mayDial(seeder, now: start + .seconds(1)))
        #expect(backoff.mayDial(other, now: start), "other addresses are not held back")
        // Failing again from there waits half as long again.
        backoff.dialFailed(seeder, now: start + .seconds(1))
        #expect(!backoff.mayDial(seeder, now: start + .milliseconds(2400)))
        #expect(backoff.mayDial(seeder, now: start + .milliseconds(2500)))
    }

    /// A seeder that comes up late is dialled again within a few seconds of coming up, as
    /// long as it was down for no more than about ten seconds (the dials of one tick a second).
    @Test func aSeederThatStartsLateIsFoundSoon() {
        for upAfter in stride(from: 0.5, through: 10, by: 0.5) {
            var backoff = RedialBackoff()
            var now = start
            var tries = 0
            while now - start < .seconds(upAfter) {
                if backoff.mayDial(seeder, now: now) {
                    backoff.dialFailed(seeder, now: now)
                    tries += 1
                }
                now += .seconds(1)
            }
            while !backoff.mayDial(seeder, now: now) { now += .seconds(1) }
            #expect(now - start - .seconds(upAfter) <= .seconds(5), "up after \(upAfter) s, \(tries) tries")
        }
    }

    @Test func aConnectionThatEndsWaitsLongerThanAFailedDial() {
        var backoff = RedialBackoff()
        backoff.dialFailed(seeder, now: start)
        backoff.connected(seeder)
        #expect(backoff.mayDial(seeder, now: start), "a handshake forgets the failures")
        backoff.dropped(seeder, now: start)
        #expect(!backoff.mayDial(seeder, now: start + .seconds(29)))
        #expect(backoff.mayDial(seeder, now: start + RedialBackoff.afterDrop))
    }

    @Test func holdKeepsTheCountOfFailures() {
        var backoff = RedialBackoff()
        for second in 0..<3 { backoff.dialFailed(seeder, now: start + .seconds(second)) }
        backoff.hold(seeder, for: .seconds(10), now: start + .seconds(3))
        #expect(!backoff.mayDial(seeder, now: start + .seconds(12)))
        #expect(backoff.mayDial(seeder, now: start + .seconds(13)))
        backoff.dialFailed(seeder, now: start + .seconds(13))
        #expect(backoff.retryTime(of: seeder, now: start + .seconds(13)) == start + .seconds(13) + RedialBackoff.wait(afterFailures: 4))
    }

    @Test func memoryIsBounded() {
        var backoff = RedialBackoff()
        for index in 0..<(RedialBackoff.capacity + 500) {
            let address = PeerAddress("10.\(index >> 16 & 255).\(index >> 8 & 255).\(index & 255):6881")!
            backoff.dialFailed(address, now: start + .milliseconds(index))
        }
        #expect(backoff.count <= RedialBackoff.capacity)
    }
}
