import Testing
@testable import WebRTCProtocol

@Suite struct AnswerTests {
    let credentials = try! ICECredentials(ufrag: "mfsA", pwd: "memofsPassword0123456789")
    let fingerprint = DTLSFingerprint(algorithm: "sha-256", bytes: (0..<32).map { UInt8($0 * 7 & 0xff) })
    let candidate = ICECandidate(foundation: "1", priority: 2_122_260_223, address: "127.0.0.1", port: 50000,
                                 kind: .host)

    func ourAnswer() throws -> SessionDescription {
        SessionDescription.answer(to: try SessionDescription(parsing: ChromiumFixtures.offer),
                                  credentials: credentials, fingerprint: fingerprint, candidates: [candidate],
                                  sessionID: 4_242_424_242)
    }

    @Test func answerParsesBackToTheSameValues() throws {
        let answer = try ourAnswer()
        let reparsed = try SessionDescription(parsing: answer.text)
        #expect(reparsed == answer)
        #expect(reparsed.media.iceUfrag == "mfsA")
        #expect(reparsed.media.icePwd == "memofsPassword0123456789")
        #expect(reparsed.media.fingerprint == fingerprint)
        #expect(reparsed.media.setup == .active, "the answerer to actpass")
        #expect(reparsed.media.mid == "0")
        #expect(reparsed.media.sctpPort == 5000)
        #expect(reparsed.media.maxMessageSize == 262_144)
        #expect(reparsed.media.candidates == [candidate])
        #expect(reparsed.media.endOfCandidates)
        #expect(reparsed.media.port == 50000)
        #expect(reparsed.media.connectionAddress == "127.0.0.1")
        #expect(reparsed.bundle == ["0"])
    }

    @Test func answerHasTheLinesChromiumRequires() throws {
        let text = try ourAnswer().text
        #expect(text.hasSuffix("\r\n"))
        #expect(text.hasOnlyCRLFLineEndings)
        #expect(ChromiumFixtures.answer.hasOnlyCRLFLineEndings)
        #expect(!(ChromiumFixtures.answer + "x\n").hasOnlyCRLFLineEndings)
        let lines = text.sdpLines
        #expect(Array(lines.prefix(4)) == ["v=0", "o=- 4242424242 2 IN IP4 127.0.0.1", "s=-", "t=0 0"])
        for required in ["a=group:BUNDLE 0", "m=application 50000 UDP/DTLS/SCTP webrtc-datachannel",
                         "c=IN IP4 127.0.0.1", "a=candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host",
                         "a=end-of-candidates", "a=ice-ufrag:mfsA", "a=ice-pwd:memofsPassword0123456789",
                         "a=fingerprint:\(fingerprint)", "a=setup:active", "a=mid:0", "a=sctp-port:5000",
                         "a=max-message-size:262144"] {
            #expect(lines.contains(required), "missing \(required)")
        }
        #expect(fingerprint.description.hasPrefix("sha-256 00:07:0E:15:"))
    }

    /// Our answer has Chromium's own answer's lines, in its order, plus only `a=end-of-candidates`.
    @Test func answerMirrorsChromiumsAnswer() throws {
        func kinds(_ sdp: String) -> [String] {
            sdp.sdpLines.map { line in String(line.prefix { $0 != ":" && $0 != " " }) }
        }
        #expect(kinds(try ourAnswer().text).filter { $0 != "a=end-of-candidates" } == kinds(ChromiumFixtures.answer))
    }

    @Test func dtlsRoleFollowsTheOffer() {
        #expect(DTLSSetup.actpass.answer == .active)
        #expect(DTLSSetup.passive.answer == .active)
        #expect(DTLSSetup.active.answer == .passive)
    }

    @Test func credentialsBreakingRFC8839AreRefused() {
        #expect(throws: SDPError.malformedAttribute(name: "ice-ufrag", value: "abc")) {
            try ICECredentials(ufrag: "abc", pwd: "memofsPassword0123456789")
        }
        #expect(throws: SDPError.malformedAttribute(name: "ice-pwd", value: "tooShort")) {
            try ICECredentials(ufrag: "abcd", pwd: "tooShort")
        }
        #expect(throws: SDPError.malformedAttribute(name: "ice-ufrag", value: "ab-d")) {
            try ICECredentials(ufrag: "ab-d", pwd: "memofsPassword0123456789")
        }
    }
}

extension String {
    /// Every CR is followed by a LF and every LF preceded by a CR.
    var hasOnlyCRLFLineEndings: Bool {
        let bytes = Array(utf8)
        return bytes.indices.allSatisfy { index in
            switch bytes[index] {
            case 0x0D: index + 1 < bytes.count && bytes[index + 1] == 0x0A
            case 0x0A: index > 0 && bytes[index - 1] == 0x0D
            default: true
            }
        }
    }
}
