import Testing
@testable import WebRTCProtocol

/// Two agents talking through ``ICEAgentHarness``: selection, loss, role conflicts, bad
/// passwords, peer-reflexive candidates, consent freshness.
@Suite struct ICEAgentTests {
    let expectedPair = ICECandidatePair(local: ICEFixtures.addressA, remote: ICEFixtures.addressB)
    let expectedPairOfB = ICECandidatePair(local: ICEFixtures.addressB, remote: ICEFixtures.addressA)

    static func bothSelected(_ harness: ICEAgentHarness) -> Bool {
        !harness.selected(0).isEmpty && !harness.selected(1).isEmpty
    }

    @Test func twoAgentsSelectTheSamePair() {
        var harness = ICEFixtures.agents()
        harness.startBoth()
        harness.run(for: .seconds(5), until: Self.bothSelected)
        #expect(harness.selected(0) == [expectedPair])
        #expect(harness.selected(1) == [expectedPairOfB])
        #expect(harness.agents[0].selectedPair == expectedPair)
        #expect(harness.agents[0].hasSucceeded(expectedPair))
        #expect(!harness.agents[0].hasSucceeded(ICECandidatePair(local: ICEFixtures.addressA, remote: ICEFixtures.addressA)),
                "a route no check succeeded on")
        #expect(harness.elapsed < .milliseconds(200))
        // Selection is reported once, and checks keep being answered afterwards.
        harness.run(for: .seconds(20))
        #expect(harness.selected(0).count == 1)
        #expect(harness.selected(1).count == 1)
        #expect(!harness.contains(0, .consentLost) && !harness.contains(1, .consentLost))
        #expect(harness.failures(0).isEmpty && harness.failures(1).isEmpty)
    }

    @Test(arguments: [(3, 0), (0, 3), (4, 2)])
    func retransmissionSurvivesLoss(droppedFromA: Int, droppedFromB: Int) {
        var harness = ICEFixtures.agents()
        harness.drop = { sender, number in number < (sender == 0 ? droppedFromA : droppedFromB) }
        harness.startBoth()
        harness.run(for: .seconds(20), until: Self.bothSelected)
        #expect(harness.selected(0) == [expectedPair])
        #expect(harness.selected(1) == [expectedPairOfB])
        #expect(harness.elapsed >= .milliseconds(250))
    }

    @Test(arguments: [ICERole.controlling, .controlled])
    func roleConflictResolves(role: ICERole) {
        var harness = ICEFixtures.agents(roleA: role, roleB: role)
        harness.startBoth()
        harness.run(for: .seconds(10), until: Self.bothSelected)
        #expect(harness.selected(0) == [expectedPair])
        #expect(harness.selected(1) == [expectedPairOfB])
        // B's tie-breaker is larger: B ends controlling, A controlled.
        #expect(harness.agents[0].role == .controlled)
        #expect(harness.agents[1].role == .controlling)
        let switched = harness.actions.joined().filter { if case .roleChanged = $0 { true } else { false } }
        #expect(switched.count == 1)
    }

    /// A knows a wrong password for B: its checks fail B's integrity check, so A never gets a
    /// valid pair, never nominates, and B (controlled) never gets a nomination.
    @Test func wrongPasswordOfTheControlledNeverSelects() throws {
        let wrong = try ICECredentials(ufrag: "bbbb", pwd: "passwordXXXXXXXXXXXXXXXX")
        var harness = ICEFixtures.agents(remoteOfA: wrong)
        harness.startBoth()
        harness.run(for: .seconds(40))
        #expect(harness.selected(0).isEmpty)
        #expect(harness.selected(1).isEmpty)
        #expect(!harness.failures(0).isEmpty)
        #expect(!harness.failures(1).isEmpty)
        #expect(harness.actions[1].contains { if case .ignored(let reason) = $0 { reason.contains("answered 401") } else { false } })
    }

    /// B (controlled) knows a wrong password for A: A's nomination reaches B, but B's own check
    /// never succeeds, so B never selects.
    @Test func wrongPasswordOfTheControllingNeverSelects() throws {
        let wrong = try ICECredentials(ufrag: "aaaa", pwd: "passwordXXXXXXXXXXXXXXXX")
        var harness = ICEFixtures.agents(remoteOfB: wrong)
        harness.startBoth()
        harness.run(for: .seconds(40))
        #expect(harness.selected(1).isEmpty)
        #expect(harness.failures(1) == [.timedOut(after: .seconds(30))] || harness.failures(1) == [.allPairsFailed(count: 1)])
    }

    /// After selection, silence (every datagram lost) ends consent 30 s after the last answer.
    @Test func consentLostAfterThirtySecondsOfSilence() {
        var harness = ICEFixtures.agents()
        harness.startBoth()
        harness.run(for: .seconds(5), until: Self.bothSelected)
        let selectedAt = harness.now
        let sentBefore = harness.sentCount
        harness.drop = { sender, number in number >= sentBefore[sender] }
        harness.run(for: .seconds(60), until: { $0.contains(0, .consentLost) && $0.contains(1, .consentLost) })
        #expect(harness.contains(0, .consentLost))
        #expect(harness.contains(1, .consentLost))
        #expect(harness.now - selectedAt >= .seconds(30))
        #expect(harness.now - selectedAt < .seconds(31))
        // Consent checks went out about every 5 s (±20 %) in between: 5 or 6 per side in 30 s.
        let consentChecks = harness.sentCount[0] - sentBefore[0]
        #expect((5...8).contains(consentChecks))
        #expect(harness.agents[0].nextDeadline == nil)
    }

    /// Consent keeps the pair alive while the peer answers: no loss in two minutes.
    @Test func consentHoldsWhileAnswered() {
        var harness = ICEFixtures.agents()
        harness.startBoth()
        harness.run(for: .seconds(120))
        #expect(harness.selected(0).count == 1)
        #expect(!harness.contains(0, .consentLost) && !harness.contains(1, .consentLost))
    }

    /// Chromium hides its host address behind an mDNS name: B cannot use A's candidate, learns
    /// A as peer-reflexive from A's first check, and the pair still gets selected.
    @Test func peerReflexiveFromAnMDNSCandidate() throws {
        let hidden = try ICECandidate(parsing: "1 1 udp 2122260223 8a4d5a3c-7b2e-4e5f-9a1b-2c3d4e5f6a7b.local 50001 typ host generation 0")
        var harness = ICEFixtures.agents(candidatesForB: [hidden])
        #expect(harness.agents[1].skippedRemoteCandidates.count == 1)
        harness.startBoth()
        harness.run(for: .seconds(5), until: Self.bothSelected)
        #expect(harness.selected(0) == [expectedPair])
        #expect(harness.selected(1) == [expectedPairOfB])
        #expect(harness.actions[1].contains(.ignored("learned peer-reflexive remote candidate 10.0.0.1:50001")))
    }

    /// A behind a NAT: B sees A's checks from 192.0.2.7:6000, an address in no SDP, answers
    /// there, and both select (B's pair goes to the NAT's address).
    @Test func controlledAcceptsACheckFromAnAddressNotInTheSDP() {
        let outside = ICETransportAddress(host: "192.0.2.7", port: 6000)!
        var harness = ICEFixtures.agents(roleA: .controlling, roleB: .controlled)
        harness.translate = { $0 == ICEFixtures.addressA ? outside : $0 }
        harness.untranslate = { $0 == outside ? ICEFixtures.addressA : $0 }
        harness.startBoth()
        harness.run(for: .seconds(20), until: Self.bothSelected)
        #expect(harness.selected(0) == [expectedPair])
        #expect(harness.selected(1) == [ICECandidatePair(local: ICEFixtures.addressB, remote: outside)])
    }

    @Test func unreachablePeerFailsWhenEveryPairFailed() {
        var harness = ICEFixtures.agents()
        harness.drop = { _, _ in true }
        harness.startBoth()
        harness.run(for: .seconds(40))
        #expect(harness.failures(0) == [.allPairsFailed(count: 1)])
        // RTO 250 ms doubling over 7 sends, then 16 × 250 ms: the check fails 19.75 s in.
        #expect(harness.sentCount[0] == 7)
        #expect(harness.agents[0].nextDeadline == nil)
    }

    @Test func noPairAtAllTimesOut() throws {
        let hidden = try ICECandidate(parsing: "1 1 udp 2122260223 peer.local 50001 typ host")
        var harness = ICEFixtures.agents(candidatesForB: [hidden])
        harness.drop = { sender, _ in sender == 0 }
        harness.startBoth()
        harness.run(for: .seconds(40))
        #expect(harness.failures(1) == [.timedOut(after: .seconds(30))])
    }

    /// A forged check (wrong MAC) is answered 401 and teaches nothing; a check for another
    /// ufrag too; garbage is ignored.
    @Test func badRequestsAreNeverTrusted() throws {
        var agent = ICEFixtures.agents().agents[1]
        let now = ContinuousClock.now
        _ = agent.start(now: now)
        let stranger = ICETransportAddress(host: "10.9.9.9", port: 9)!
        let id = STUNTransactionID([UInt8](repeating: 7, count: 12))!
        for (username, key, expectedCode) in [("bbbb:aaaa", Array("passwordXXXXXXXXXXXXXXXX".utf8), 401),
                                               ("zzzz:aaaa", Array(ICEFixtures.credentialsB.pwd.utf8), 401)] {
            let forged = try STUNMessage(.request, transactionID: id, attributes: [.username(username), .priority(1), .iceControlling(1)])
                .encoded(integrityKey: key)
            let actions = agent.receive(forged, from: stranger, to: ICEFixtures.addressB, now: now)
            let responses = try actions.compactMap { action -> STUNMessage? in
                guard case .send(let bytes, _, let to) = action, to == stranger else { return nil }
                return try STUNMessage(decoding: bytes)
            }
            #expect(responses.count == 1)
            #expect(responses.first?.errorCode?.code == expectedCode)
            #expect(responses.first?.hasMessageIntegrity == false)
        }
        let noIntegrity = try STUNMessage(.request, transactionID: id, attributes: [.username("bbbb:aaaa")]).encoded()
        let answered = agent.receive(noIntegrity, from: stranger, to: ICEFixtures.addressB, now: now)
        #expect(answered.contains { if case .ignored(let reason) = $0 { reason.contains("answered 400") } else { false } })
        #expect(!agent.remoteCandidates.contains { $0.address == stranger })
        let garbage = agent.receive([0, 1, 0, 0, 1, 2, 3], from: stranger, to: ICEFixtures.addressB, now: now)
        #expect(garbage == [.ignored("from 10.9.9.9:9: STUN message is 7 bytes, shorter than the 20-byte header")])
        // A response that matches no check of ours.
        let stray = try STUNMessage(.successResponse, transactionID: id, attributes: [.xorMappedAddress(stranger)]).encoded()
        #expect(agent.receive(stray, from: stranger, to: ICEFixtures.addressB, now: now).contains(.ignored("response from 10.9.9.9:9 matches no check of ours")))
    }

    /// A check carrying a comprehension-required attribute we do not know gets 420 naming it.
    @Test func unknownComprehensionRequiredAttributeGets420() throws {
        var agent = ICEFixtures.agents().agents[1]
        let now = ContinuousClock.now
        _ = agent.start(now: now)
        let request = try STUNMessage(.request, transactionID: STUNTransactionID([UInt8](repeating: 1, count: 12))!,
                                      attributes: [.username("bbbb:aaaa"), .priority(1), .other(type: 0x0033, value: [1])])
            .encoded(integrityKey: Array(ICEFixtures.credentialsB.pwd.utf8))
        let actions = agent.receive(request, from: ICEFixtures.addressA, to: ICEFixtures.addressB, now: now)
        let response = try actions.compactMap { action -> STUNMessage? in
            guard case .send(let bytes, _, ICEFixtures.addressA) = action else { return nil }
            let message = try STUNMessage(decoding: bytes)
            return message.messageClass == .errorResponse ? message : nil
        }.first
        #expect(response?.errorCode?.code == 420)
        #expect(response?.attributes.contains(.unknownAttributes([0x0033])) == true)
        try response?.checkIntegrity(key: Array(ICEFixtures.credentialsB.pwd.utf8))
    }

    /// The check A sends: RFC 8445 §7.1's attributes, B's password, FINGERPRINT.
    @Test func outgoingCheckCarriesTheRightAttributes() throws {
        var harness = ICEFixtures.agents()
        let actions = harness.agents[0].start(now: harness.now)
        guard case .send(let bytes, let from, let to)? = actions.first else {
            Issue.record("no check sent: \(actions)")
            return
        }
        #expect(from == ICEFixtures.addressA && to == ICEFixtures.addressB)
        let check = try STUNMessage(decoding: bytes)
        #expect(check.messageClass == .request)
        #expect(check.username == "bbbb:aaaa")
        #expect(check.priority == ICELocalCandidate.priority(kind: .prflx, localPreference: 65535))
        #expect(check.iceControlling == 0xAAAA)
        #expect(!check.useCandidate)
        #expect(check.hadFingerprint)
        try check.checkIntegrity(key: Array(ICEFixtures.credentialsB.pwd.utf8))
    }

    /// Pacing: with 3 pairs, checks leave 50 ms apart, never two in one tick.
    @Test func checksArePaced() throws {
        let remotes = (1...3).map { ICELocalCandidate.host([ICETransportAddress(host: "10.0.1.\($0)", port: 9)!])[0].sdp }
        var agent = ICEAgent(role: .controlling, local: ICEFixtures.credentialsA, remote: ICEFixtures.credentialsB, tieBreaker: 1,
                             localCandidates: ICELocalCandidate.host([ICEFixtures.addressA]), remoteCandidates: remotes, randomSeed: 3)
        let start = ContinuousClock.now
        #expect(agent.start(now: start).count == 1)
        #expect(agent.nextDeadline == start + .milliseconds(50))
        #expect(agent.tick(now: start + .milliseconds(49)).isEmpty)
        #expect(agent.tick(now: start + .milliseconds(50)).count == 1)
        #expect(agent.tick(now: start + .milliseconds(100)).count == 1)
        // Only retransmissions remain: the first check's at 250 ms.
        #expect(agent.nextDeadline == start + .milliseconds(250))
    }
}

/// Hostile datagrams at a running agent: mangled copies of real checks and responses, and random
/// bytes. Never a crash, never a learned candidate or a selection from bytes that fail integrity.
/// (An unaltered check replayed from elsewhere would teach a peer-reflexive address: ICE allows
/// that, consent and DTLS fingerprints are what protect the selected path.)
@Suite struct HostileICEInputTests {
    @Test func mangledDatagramsNeverCrashOrTeach() throws {
        var harness = ICEFixtures.agents()
        harness.startBoth()
        // Real traffic to mangle: A's first check (to B) and B's answer.
        let seeds = harness.actions[0].compactMap { if case .send(let bytes, _, _) = $0 { bytes } else { nil } }
        var target = ICEFixtures.agents().agents[1]
        let now = ContinuousClock.now
        _ = target.start(now: now)
        var generator = SplitMix64(seed: 8445)
        let stranger = ICETransportAddress(host: "10.6.6.6", port: 666)!
        for round in 0..<3000 {
            var bytes = seeds[round % seeds.count]
            switch round % 3 {
            case 0:
                let index = Int.random(in: 0..<bytes.count, using: &generator)
                bytes[index] ^= UInt8.random(in: 1...255, using: &generator)
            case 1:
                bytes = Array(bytes.prefix(Int.random(in: 0..<bytes.count, using: &generator)))
            default:
                bytes = (0..<Int.random(in: 0...120, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
                if bytes.count >= 8 { bytes.replaceSubrange(4..<8, with: [0x21, 0x12, 0xA4, 0x42]) }
            }
            let actions = target.receive(bytes, from: stranger, to: ICEFixtures.addressB, now: now)
            for case .send(_, _, let to) in actions { #expect(to == stranger) }
        }
        #expect(!target.remoteCandidates.contains { $0.address == stranger })
        #expect(target.selectedPair == nil)
    }
}
