import Testing
@testable import WebRTCProtocol

/// Real Chromium connectivity checks: two headless Chromium WebTorrent peers on loopback
/// (`/work/shared/peers/webtorrent/wt_peer.py selftest` under tcpdump), their credentials from the
/// SDPs the tracker relayed. Peer "6ROI" (127.0.0.1:58351) offered and was controlling; peer "MUCg"
/// (127.0.0.1:57421) answered.
@Suite struct ChromiumSTUNTests {
    static let offerer = (ufrag: "6ROI", pwd: "3KIaessM2UB97rIbxOfz/GCg", address: ICETransportAddress(host: "127.0.0.1", port: 58351)!)
    static let answerer = (ufrag: "MUCg", pwd: "5R5z6z7eXCTJw1g4Mwyr+9G9", address: ICETransportAddress(host: "127.0.0.1", port: 57421)!)
    /// The offerer's nominating check: USERNAME, GOOG-NETWORK-INFO (0xC057), ICE-CONTROLLING,
    /// USE-CANDIDATE, PRIORITY, MESSAGE-INTEGRITY, FINGERPRINT.
    static let nomination = hex("000100502112a4424948316c4d4c7843714c6f74000600094d5543673a36524f49000000c057000400010032802a00081ee9de1e964b4f3c00250000002400046e7f1eff000800147935c10a6efa187b99da18ab4ebe32da5d39993580280004b70cf470")
    /// The answerer's success response to it.
    static let nominationResponse = hex("0101002c2112a4424948316c4d4c7843714c6f74002000080001c2fd5e12a4430008001415f43cc5917d967fb3a5711cd73d174ac6015d70802800045baf0628")
    /// The answerer's own check (controlled, ICE-CONTROLLED).
    static let controlledCheck = hex("0001004c2112a4424e5873444f4f44344d752f310006000936524f493a4d554367000000c05700040001003280290008bf71bef9dfae8b85002400046e7f1eff00080014a6a07c168b7965ca420bc6ad2b8e6ae1c0f9c65a80280004ba836ed6")

    @Test func decodesAndVerifiesChromiumsChecks() throws {
        let nomination = try STUNMessage(decoding: Self.nomination)
        #expect(STUNMessage.looksLikeSTUN(Self.nomination))
        #expect(nomination.username == "MUCg:6ROI")
        #expect(nomination.useCandidate)
        #expect(nomination.iceControlling == 0x1EE9_DE1E_964B_4F3C)
        #expect(nomination.priority == 0x6E7F_1EFF)
        #expect(nomination.attributes.contains(.other(type: 0xC057, value: [0x00, 0x01, 0x00, 0x32])))
        #expect(nomination.hadFingerprint)
        try nomination.checkIntegrity(key: Array(Self.answerer.pwd.utf8))
        #expect(throws: STUNError.integrityMismatch) { try nomination.checkIntegrity(key: Array(Self.offerer.pwd.utf8)) }

        let response = try STUNMessage(decoding: Self.nominationResponse)
        #expect(response.messageClass == .successResponse)
        #expect(response.xorMappedAddress == Self.offerer.address)
        try response.checkIntegrity(key: Array(Self.answerer.pwd.utf8))

        let check = try STUNMessage(decoding: Self.controlledCheck)
        #expect(check.username == "6ROI:MUCg")
        #expect(check.iceControlled == 0xBF71_BEF9_DFAE_8B85)
        try check.checkIntegrity(key: Array(Self.offerer.pwd.utf8))
    }

    /// Our agent in the answerer's place answers Chromium's nomination as Chromium did: a success
    /// response with the offerer's address, signed with the answerer's password.
    @Test func ourAgentAnswersChromiumsNomination() throws {
        var agent = ICEAgent(role: .controlled,
                             local: try ICECredentials(ufrag: Self.answerer.ufrag, pwd: Self.answerer.pwd),
                             remote: try ICECredentials(ufrag: Self.offerer.ufrag, pwd: Self.offerer.pwd),
                             tieBreaker: 1, localCandidates: ICELocalCandidate.host([Self.answerer.address]),
                             remoteCandidates: [try ICECandidate(parsing: "3007114077 1 udp 2122260223 127.0.0.1 58351 typ host generation 0 network-id 1 network-cost 50")],
                             randomSeed: 9)
        let now = ContinuousClock.now
        _ = agent.start(now: now)
        let actions = agent.receive(Self.nomination, from: Self.offerer.address, to: Self.answerer.address, now: now)
        let responses = try actions.compactMap { action -> STUNMessage? in
            guard case .send(let bytes, _, _) = action else { return nil }
            let message = try STUNMessage(decoding: bytes)
            return message.messageClass == .successResponse ? message : nil
        }
        let response = try #require(responses.first)
        #expect(try response == STUNMessage(decoding: Self.nominationResponse))
        try response.checkIntegrity(key: Array(Self.answerer.pwd.utf8))
        // Nominated before our own check succeeded: selected once that check is answered.
        #expect(agent.selectedPair == nil)
        #expect(agent.pairs.first?.nominateOnSuccess == true)
    }
}
