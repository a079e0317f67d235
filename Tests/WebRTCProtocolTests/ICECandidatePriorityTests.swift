import Testing
@testable import WebRTCProtocol

/// RFC 8445's priority formulas, our host candidates as SDP, and transport address text.
@Suite struct ICECandidatePriorityTests {
    @Test func candidatePriority() {
        // Chromium's host UDP candidate priority 2122260223 = 126·2²⁴ + 65535·2⁸ + 255 − …: ours,
        // with local preference 65535, is 2130706431 (the RFC's maximum for a host candidate).
        #expect(ICELocalCandidate.priority(kind: .host, localPreference: 65535) == 2_130_706_431)
        #expect(ICELocalCandidate.priority(kind: .srflx, localPreference: 65535) == 1_694_498_815)
        #expect(ICELocalCandidate.priority(kind: .prflx, localPreference: 0) == 110 << 24 | 255)
        #expect(ICELocalCandidate.priority(kind: .relay, localPreference: 1) == 511)
    }

    @Test func pairPriority() {
        #expect(ICECandidatePair.priority(controlling: 10, controlled: 20) == (10 << 32) + 40)
        #expect(ICECandidatePair.priority(controlling: 20, controlled: 10) == (10 << 32) + 41)
        // A hostile SDP's priority above 2³¹ − 1 is clamped, not an overflow.
        let top = UInt64(1 << 31 - 1)
        #expect(ICECandidatePair.priority(controlling: .max, controlled: .max) == (top << 32) + 2 * top)
    }

    @Test func hostCandidatesForTheSDP() throws {
        let addresses = [ICETransportAddress(host: "192.168.1.5", port: 6881)!, ICETransportAddress(host: "2001:db8::5", port: 6881)!,
                         ICETransportAddress(host: "192.168.1.5", port: 6882)!]
        let candidates = ICELocalCandidate.host(addresses)
        #expect(candidates.map(\.foundation) == ["1", "2", "1"])
        #expect(candidates.map(\.localPreference) == [65535, 65534, 65533])
        #expect(candidates[1].sdp.description == "2 1 udp 2130706175 2001:db8::5 6881 typ host")
        // It parses back as the SDP module reads a peer's candidate.
        #expect(try ICECandidate(parsing: candidates[0].sdp.description) == candidates[0].sdp)
    }

    /// Chromium's own candidates (from the fixtures' offer) make pairs; its TCP one does not.
    @Test func chromiumCandidates() throws {
        let tcp = try ICECandidate(parsing: "964077658 1 tcp 1518280447 127.0.0.1 9 typ host tcptype active generation 0")
        let udp = try ICECandidate(parsing: "1203325634 1 udp 2122260223 127.0.0.1 46539 typ host generation 0 network-id 1")
        let v6 = try ICECandidate(parsing: "2 1 udp 2122262783 ::1 46540 typ host")
        let agent = ICEAgent(role: .controlled, local: ICEFixtures.credentialsA, remote: ICEFixtures.credentialsB, tieBreaker: 1,
                             localCandidates: ICELocalCandidate.host([ICETransportAddress(host: "127.0.0.1", port: 7000)!]),
                             remoteCandidates: [tcp, udp, v6], randomSeed: 1)
        #expect(agent.pairs.map(\.route) == [ICECandidatePair(local: ICETransportAddress(host: "127.0.0.1", port: 7000)!,
                                                              remote: ICETransportAddress(host: "127.0.0.1", port: 46539)!)])
        #expect(agent.skippedRemoteCandidates.map(\.reason) == ["transport tcp, only UDP is checked", "no local candidate of its address family"])
    }

    /// A server-reflexive candidate pairs through its base (RFC 8445 §6.1.2.4): with the host
    /// candidate of the same base there is one pair, at the host's priority.
    @Test func serverReflexivePairsThroughItsBase() throws {
        let base = ICETransportAddress(host: "10.0.0.1", port: 5000)!
        let reflexive = ICELocalCandidate.serverReflexive(mapped: ICETransportAddress(host: "203.0.113.9", port: 6000)!, base: base)
        let remote = try ICECandidate(parsing: "1 1 udp 2122260223 198.51.100.4 7000 typ host")
        func agent(_ local: [ICELocalCandidate]) -> ICEAgent {
            ICEAgent(role: .controlling, local: ICEFixtures.credentialsA, remote: ICEFixtures.credentialsB, tieBreaker: 1,
                     localCandidates: local, remoteCandidates: [remote], randomSeed: 1)
        }
        let both = agent(ICELocalCandidate.host([base]) + [reflexive])
        #expect(both.pairs.count == 1)
        #expect(both.pairs.first?.route.local == base)
        #expect(both.pairs.first?.local.kind == .host)
        let alone = agent([reflexive])
        #expect(alone.pairs.map(\.route) == [ICECandidatePair(local: base, remote: ICETransportAddress(host: "198.51.100.4", port: 7000)!)])
    }

    @Test(arguments: [
        ("192.0.2.1", "192.0.2.1"), ("::", "::"), ("::1", "::1"), ("2001:DB8:0:0:0:0:0:1", "2001:db8::1"),
        ("2001:db8:0:1:0:0:0:1", "2001:db8:0:1::1"), ("2001:0:0:1:0:0:0:0", "2001:0:0:1::"),
        ("::ffff:192.0.2.1", "::ffff:c000:201"), ("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"), ("[fe80::1]", "fe80::1"),
        ("1:0:2:3:4:5:6:7", "1:0:2:3:4:5:6:7"),
    ])
    func addressText(input: String, canonical: String) throws {
        let address = try #require(ICETransportAddress(host: input, port: 1))
        #expect(address.host == canonical)
        #expect(ICETransportAddress(host: address.host, port: 1) == address)
    }

    @Test(arguments: ["", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01234.1.1.1", "a.local", "1:2:3:4:5:6:7:8:9", "1::2::3",
                      "12345::", "fe80::1%eth0", ":::", "1:2:3:4:5:6:7", "g::1", "::1.2.3"])
    func notAddresses(input: String) {
        #expect(ICETransportAddress(host: input, port: 1) == nil)
    }

    @Test func description() {
        #expect(ICETransportAddress(host: "2001:db8::1", port: 3478)!.description == "[2001:db8::1]:3478")
        #expect(ICETransportAddress(ip: [1, 2, 3], port: 1) == nil)
        #expect(ICETransportAddress(ip: [10, 0, 0, 1], port: 80)?.description == "10.0.0.1:80")
    }
}
