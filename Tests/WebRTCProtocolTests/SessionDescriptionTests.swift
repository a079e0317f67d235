import Testing
@testable import WebRTCProtocol

@Suite struct SessionDescriptionTests {
    @Test func chromiumOfferParses() throws {
        let offer = try SessionDescription(parsing: ChromiumFixtures.offer)
        #expect(offer.origin == .init(sessionID: "6558806480255803118", sessionVersion: 2, address: "127.0.0.1"))
        #expect(offer.bundle == ["0"])
        #expect(offer.has("extmap-allow-mixed"))
        #expect(offer.attributes.contains(SDPAttribute("msid-semantic", " WMS")))
        let media = offer.media
        #expect(media.port == 46539)
        #expect(media.transport == "UDP/DTLS/SCTP")
        #expect(media.connectionAddress == "127.0.0.1")
        #expect(media.iceUfrag == "8GuC")
        #expect(media.icePwd == "oeTDyZL0Vuflx8gmq0l4Pwh6")
        #expect(media.iceOptions.isEmpty)
        #expect(media.fingerprint == DTLSFingerprint(algorithm: "sha-256", bytes: ChromiumFixtures.offerFingerprint))
        #expect(media.setup == .actpass)
        #expect(media.mid == "0")
        #expect(media.sctpPort == 5000)
        #expect(media.maxMessageSize == 262_144)
        #expect(!media.endOfCandidates)
        #expect(media.otherAttributes.isEmpty)
        #expect(media.candidates == [
            ICECandidate(foundation: "1203325634", component: 1, transport: "udp", priority: 2_122_260_223,
                         address: "127.0.0.1", port: 46539, kind: .host,
                         extensions: [.init("generation", "0"), .init("network-id", "1"), .init("network-cost", "50")]),
            ICECandidate(foundation: "964077658", component: 1, transport: "tcp", priority: 1_518_280_447,
                         address: "127.0.0.1", port: 9, kind: .host,
                         extensions: [.init("tcptype", "active"), .init("generation", "0"), .init("network-id", "1"),
                                      .init("network-cost", "50")]),
        ])
    }

    @Test func chromiumAnswerParses() throws {
        let answer = try SessionDescription(parsing: ChromiumFixtures.answer)
        #expect(answer.media.setup == .active)
        #expect(answer.media.iceUfrag == "149I")
        #expect(answer.media.fingerprint.bytes.first == 0xC2 && answer.media.fingerprint.bytes.last == 0x4A)
        #expect(answer.media.candidates.map(\.port) == [42543])
        #expect(answer.media.candidates.map(\.address) == ["127.0.0.1"])
        #expect(answer.media.maxMessageSize == 262_144)
    }

    /// Printing what we parsed gives Chromium's text back byte for byte, so our printer writes
    /// lines in the order and form Chromium does.
    @Test(arguments: [ChromiumFixtures.offer, ChromiumFixtures.answer])
    func chromiumTextPrintsBackUnchanged(sdp: String) throws {
        #expect(try SessionDescription(parsing: sdp).text == sdp)
    }

    @Test func bareLineFeedsAndBlankLinesAreRead() throws {
        let lf = ChromiumFixtures.offer.replacingCRLF() + "\n"
        #expect(try SessionDescription(parsing: lf) == SessionDescription(parsing: ChromiumFixtures.offer))
    }

    @Test func sessionLevelCredentialsApplyToTheSection() throws {
        var lines = ChromiumFixtures.offer.sdpLines
        let ufrag = lines.firstIndex(of: "a=ice-ufrag:8GuC")!
        lines.remove(at: ufrag)
        lines.insert("a=ice-ufrag:SeSs", at: 4)
        let offer = try SessionDescription(parsing: lines.sdp)
        #expect(offer.media.iceUfrag == "SeSs")
        #expect(!offer.attributes.contains { $0.name == "ice-ufrag" })
    }

    @Test func candidateWithRelatedAddressAndMDNSName() throws {
        let srflx = try ICECandidate(parsing: "842163049 1 udp 1677729535 203.0.113.7 61234 typ srflx raddr 192.168.1.20 rport 61234 generation 0 network-cost 999")
        #expect(srflx.kind == .srflx)
        #expect(srflx.relatedAddress == "192.168.1.20")
        #expect(srflx.relatedPort == 61234)
        #expect(srflx.extensions == [.init("generation", "0"), .init("network-cost", "999")])
        #expect(srflx.description == "842163049 1 udp 1677729535 203.0.113.7 61234 typ srflx raddr 192.168.1.20 rport 61234 generation 0 network-cost 999")
        let mdns = try ICECandidate(parsing: "1 1 UDP 2122194687 4b1a1c0e-36a8-4b1c-9c3d-1e2f3a4b5c6d.local 54321 typ host")
        #expect(mdns.address == "4b1a1c0e-36a8-4b1c-9c3d-1e2f3a4b5c6d.local")
        #expect(mdns.transport == "udp")
        let relay = try ICECandidate(parsing: "7 1 udp 41885439 198.51.100.2 3478 typ relay raddr 203.0.113.7 rport 61234")
        #expect(relay.kind == .relay)
    }
}

extension String {
    func replacingCRLF() -> String { sdpLines.joined(separator: "\n") }

    /// The lines without their CRLF.
    var sdpLines: [String] {
        split(separator: "\r\n", omittingEmptySubsequences: true).map(String.init)
    }
}

extension Array where Element == String {
    var sdp: String { map { $0 + "\r\n" }.joined() }
}
