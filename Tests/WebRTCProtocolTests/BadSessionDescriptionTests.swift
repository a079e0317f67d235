import Testing
@testable import WebRTCProtocol

/// Each way a description can be unusable gives its own error, naming the line or attribute.
@Suite struct BadSessionDescriptionTests {
    let offer = ChromiumFixtures.offer

    func replacing(_ prefix: String, with replacement: String?) -> String {
        var lines = offer.sdpLines
        let index = lines.firstIndex { $0.hasPrefix(prefix) }!
        if let replacement { lines[index] = replacement } else { lines.remove(at: index) }
        return lines.sdp
    }

    @Test func noApplicationSection() {
        let sessionOnly = Array(offer.sdpLines.prefix(while: { !$0.hasPrefix("m=") })).sdp
        #expect(throws: SDPError.noApplicationSection) { try SessionDescription(parsing: sessionOnly) }
    }

    @Test func audioIsRefused() {
        let audio = offer + "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
        #expect(throws: SDPError.unsupportedMedia("audio")) { try SessionDescription(parsing: audio) }
        let twice = offer + "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"
        #expect(throws: SDPError.unsupportedMedia("a second application section")) { try SessionDescription(parsing: twice) }
    }

    @Test func transportThatIsNotDTLSOverSCTP() {
        let old = replacing("m=", with: "m=application 46539 DTLS/SCTP 5000")
        #expect(throws: SDPError.unsupportedTransport("DTLS/SCTP 5000")) { try SessionDescription(parsing: old) }
        let rtp = replacing("m=", with: "m=application 46539 UDP/TLS/RTP/SAVPF webrtc-datachannel")
        #expect(throws: SDPError.unsupportedTransport("UDP/TLS/RTP/SAVPF webrtc-datachannel")) {
            try SessionDescription(parsing: rtp)
        }
    }

    @Test(arguments: ["a=fingerprint", "a=ice-ufrag", "a=ice-pwd"])
    func missingAttribute(line: String) {
        let name = String(line.dropFirst(2))
        #expect(throws: SDPError.missingAttribute(name)) { try SessionDescription(parsing: replacing(line, with: nil)) }
    }

    @Test func malformedAttributes() {
        let shortDigest = "sha-256 A2:D4"
        #expect(throws: SDPError.malformedAttribute(name: "fingerprint", value: shortDigest)) {
            try SessionDescription(parsing: replacing("a=fingerprint", with: "a=fingerprint:\(shortDigest)"))
        }
        #expect(throws: SDPError.malformedAttribute(name: "fingerprint", value: "sha-256 ZZ:00")) {
            try SessionDescription(parsing: replacing("a=fingerprint", with: "a=fingerprint:sha-256 ZZ:00"))
        }
        #expect(throws: SDPError.malformedAttribute(name: "setup", value: "holdconn")) {
            try SessionDescription(parsing: replacing("a=setup", with: "a=setup:holdconn"))
        }
        #expect(throws: SDPError.malformedAttribute(name: "sctp-port", value: "70000")) {
            try SessionDescription(parsing: replacing("a=sctp-port", with: "a=sctp-port:70000"))
        }
        #expect(throws: SDPError.malformedAttribute(name: "ice-pwd", value: "short")) {
            try SessionDescription(parsing: replacing("a=ice-pwd", with: "a=ice-pwd:short"))
        }
    }

    @Test(arguments: [
        ("1 1 udp 2122260223 127.0.0.1 46539 typ", "fewer than the 8"),
        ("1 1 udp 2122260223 127.0.0.1 465390 typ host", "port '465390'"),
        ("1 1 udp x 127.0.0.1 46539 typ host", "priority 'x'"),
        ("1 0 udp 1 127.0.0.1 46539 typ host", "component '0'"),
        ("1 1 udp 1 127.0.0.1 46539 type host", "where 'typ' belongs"),
        ("1 1 udp 1 127.0.0.1 46539 typ bogus", "type 'bogus'"),
        ("1 1 udp 1 127.0.0.1 46539 typ srflx raddr 10.0.0.1 rport", "'rport' has no value"),
        ("1 1 udp 1 127.0.0.1 46539 typ srflx raddr 10.0.0.1 rport x", "rport 'x'"),
    ])
    func malformedCandidate(value: String, reason: String) throws {
        let sdp = replacing("a=candidate:964077658", with: "a=candidate:\(value)")
        let error = try #require(throws: SDPError.self) { try SessionDescription(parsing: sdp) }
        guard case .malformedCandidate(let line, let said) = error else {
            Issue.record("\(error)")
            return
        }
        #expect(line == 11)
        #expect(said.contains(reason), "\(said)")
    }

    @Test func malformedLines() {
        #expect(throws: SDPError.malformedLine(line: 1, text: "o=- 6558806480255803118 2 IN IP4 127.0.0.1")) {
            try SessionDescription(parsing: String(offer.drop { $0 != "o" }))
        }
        #expect(throws: SDPError.malformedLine(line: 7, text: "garbage")) {
            try SessionDescription(parsing: replacing("a=msid-semantic", with: "garbage"))
        }
        #expect(throws: SDPError.malformedLine(line: 2, text: "o=- x 2 IN IP4 127.0.0.1")) {
            try SessionDescription(parsing: replacing("o=", with: "o=- x 2 IN IP4 127.0.0.1"))
        }
    }

    @Test func lineOverTheLimit() throws {
        let long = replacing("a=msid-semantic", with: "a=x-padding:" + String(repeating: "p", count: 2000))
        #expect(throws: SDPError.lineTooLong(line: 7, length: 2012, limit: 1024)) { try SessionDescription(parsing: long) }
        #expect(try SessionDescription(parsing: long, lineLimit: 4096).attributes.last == SDPAttribute("x-padding", String(repeating: "p", count: 2000)))
    }

    @Test func descriptionOverTheLimit() {
        let size = offer.utf8.count
        #expect(throws: SDPError.tooLarge(size: size, limit: size - 1)) {
            try SessionDescription(parsing: offer, sizeLimit: size - 1)
        }
        let padded = offer + String(repeating: "a=x:y\r\n", count: 10_000)
        #expect(throws: SDPError.tooLarge(size: padded.utf8.count, limit: 65_536)) { try SessionDescription(parsing: padded) }
    }

    @Test func errorsNameTheCauseAndTheWayOut() {
        #expect(SDPError.noApplicationSection.description.contains("no data channel"))
        #expect(SDPError.unsupportedTransport("DTLS/SCTP 5000").description.contains("UDP/DTLS/SCTP webrtc-datachannel"))
        #expect(SDPError.missingAttribute("fingerprint").description.contains("a=fingerprint"))
    }
}
