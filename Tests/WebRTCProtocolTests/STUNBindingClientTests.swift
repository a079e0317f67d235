import Testing
@testable import WebRTCProtocol

/// Server-reflexive gathering: one Binding request, retransmitted, answered or given up.
@Suite struct STUNBindingClientTests {
    let server = ICETransportAddress(host: "198.51.100.1", port: 3478)!
    let base = ICETransportAddress(host: "10.0.0.1", port: 50001)!
    let mapped = ICETransportAddress(host: "203.0.113.9", port: 61000)!
    let id = STUNTransactionID([UInt8](repeating: 0x42, count: 12))!

    @Test func answeredWithTheMappedAddress() throws {
        var client = STUNBindingClient(server: server, base: base, transactionID: id)
        let start = ContinuousClock.now
        guard case .send(let bytes, base, server)? = client.start(now: start).first else {
            Issue.record("no request sent")
            return
        }
        let request = try STUNMessage(decoding: bytes)
        #expect(request.messageClass == .request && request.transactionID == id && request.attributes.isEmpty)
        #expect(request.hadFingerprint && !request.hasMessageIntegrity)
        let response = try STUNMessage(.successResponse, transactionID: id, attributes: [.software("coturn"), .xorMappedAddress(mapped)]).encoded()
        // From someone else, or for another transaction: ignored.
        #expect(client.receive(response, from: mapped, now: start) == [.ignored("STUN from 203.0.113.9:61000, not the server 198.51.100.1:3478")])
        let other = try STUNMessage(.successResponse, transactionID: STUNTransactionID([UInt8](repeating: 1, count: 12))!,
                                    attributes: [.xorMappedAddress(base)]).encoded()
        #expect(client.receive(other, from: server, now: start) == [.ignored("STUN from 198.51.100.1:3478 is not the answer to our Binding request")])
        #expect(client.receive(response, from: server, now: start) == [.mapped(mapped)])
        #expect(client.isFinished && client.nextDeadline == nil)
        let candidate = ICELocalCandidate.serverReflexive(mapped: mapped, base: base)
        #expect(candidate.sdp.description == "\(candidate.foundation) 1 udp 1694498815 203.0.113.9 61000 typ srflx raddr 10.0.0.1 rport 50001")
        #expect(candidate.foundation.hasPrefix("s") && candidate.foundation.count <= 9)
        #expect(candidate.foundation != ICELocalCandidate.serverReflexive(mapped: mapped, base: ICETransportAddress(host: "1.0.0.10", port: 1)!).foundation)
        #expect(candidate.foundation == ICELocalCandidate.serverReflexive(mapped: base, base: ICETransportAddress(host: "10.0.0.1", port: 2)!).foundation)
    }

    @Test func oldServersMappedAddressIsAccepted() throws {
        var client = STUNBindingClient(server: server, base: base, transactionID: id)
        _ = client.start(now: .now)
        let response = try STUNMessage(.successResponse, transactionID: id, attributes: [.mappedAddress(mapped)]).encoded(fingerprint: false)
        #expect(client.receive(response, from: server, now: .now) == [.mapped(mapped)])
    }

    /// 5 sends at 0, 250, 750, 1750, 3750 ms, then 8 × 250 ms of waiting: failed at 5.75 s.
    @Test func retransmitsThenGivesUp() {
        var client = STUNBindingClient(server: server, base: base, transactionID: id)
        let start = ContinuousClock.now
        var sends = client.start(now: start).count
        var failedAt: Duration?
        while let deadline = client.nextDeadline {
            for action in client.tick(now: deadline) {
                switch action {
                case .send: sends += 1
                case .failed: failedAt = deadline - start
                default: Issue.record("unexpected \(action)")
                }
            }
        }
        #expect(sends == 5)
        #expect(failedAt == .milliseconds(5750))
    }

    @Test func errorResponseFails() throws {
        var client = STUNBindingClient(server: server, base: base, transactionID: id)
        _ = client.start(now: .now)
        let response = try STUNMessage(.errorResponse, transactionID: id, attributes: [.errorCode(code: 400, reason: "Bad Request")]).encoded()
        #expect(client.receive(response, from: server, now: .now) == [.failed("STUN server 198.51.100.1:3478 answered 400 Bad Request")])
    }
}
