import TestSupport
@testable import Discovery
import Testing
import TorrentModel

@Suite struct TokenManagerTests {
    let start = ContinuousClock.now
    let peer = ipv4(10, 1, 2, 3, port: 6881)

    @Test func tokenIsEightBytesAndTiedToTheHost() {
        var generator = SeededGenerator(seed: 1)
        var tokens = TokenManager(now: start, using: &generator)
        let token = tokens.token(for: peer, now: start, using: &generator)
        #expect(token.count == 8)
        #expect(tokens.isValid(token, for: ipv4(10, 1, 2, 3, port: 1), now: start, using: &generator))
        #expect(!tokens.isValid(token, for: ipv4(10, 1, 2, 4, port: 6881), now: start, using: &generator))
        #expect(!tokens.isValid(Array(token.reversed()), for: peer, now: start, using: &generator))
        #expect(!tokens.isValid([], for: peer, now: start, using: &generator))
    }

    @Test func validAcrossOneRotationNotTwo() {
        var generator = SeededGenerator(seed: 2)
        var tokens = TokenManager(now: start, using: &generator)
        let token = tokens.token(for: peer, now: start + .seconds(10), using: &generator)
        #expect(tokens.isValid(token, for: peer, now: start + .seconds(299), using: &generator))
        #expect(tokens.isValid(token, for: peer, now: start + .seconds(300), using: &generator))
        #expect(tokens.token(for: peer, now: start + .seconds(301), using: &generator) != token)
        #expect(tokens.isValid(token, for: peer, now: start + .seconds(599), using: &generator))
        #expect(!tokens.isValid(token, for: peer, now: start + .seconds(600), using: &generator))
    }

    @Test func longSilenceInvalidatesEverything() {
        var generator = SeededGenerator(seed: 3)
        var tokens = TokenManager(now: start, using: &generator)
        let token = tokens.token(for: peer, now: start, using: &generator)
        // One check after two intervals at once: both secrets must be new.
        #expect(!tokens.isValid(token, for: peer, now: start + .seconds(700), using: &generator))
        let fresh = tokens.token(for: peer, now: start + .seconds(700), using: &generator)
        #expect(tokens.isValid(fresh, for: peer, now: start + .seconds(1000), using: &generator))
    }

    @Test func sameSeedSameTokens() {
        var first = SeededGenerator(seed: 4), second = SeededGenerator(seed: 4)
        var a = TokenManager(now: start, using: &first), b = TokenManager(now: start, using: &second)
        #expect(a.token(for: peer, now: start, using: &first) == b.token(for: peer, now: start, using: &second))
    }
}
