import Testing
@testable import WebRTCProtocol

@Suite struct DataChannelEndpointTests {
    /// Passes every `send` of one endpoint to the other, as an association would.
    private static func deliver(_ actions: [DataChannelEndpoint.Action], to other: inout DataChannelEndpoint) -> [DataChannelEndpoint.Action] {
        actions.flatMap { action -> [DataChannelEndpoint.Action] in
            guard case .send(let stream, let ppid, let bytes) = action else { return [] }
            return other.receive(stream: stream, ppid: ppid.rawValue, bytes: bytes)
        }
    }

    @Test func theOffererOpensAndTheAnswererAcceptsOneChannel() throws {
        var opener = DataChannelEndpoint(role: .opener(label: String(repeating: "ab", count: 20)), isDTLSClient: false, remoteMaxMessageSize: 262_144)
        var acceptor = DataChannelEndpoint(role: .acceptor, isDTLSClient: true, remoteMaxMessageSize: 262_144)
        let open = try opener.associationEstablished()
        #expect(open.count == 1)
        guard case .send(let stream, .dcep, _)? = open.first else { Issue.record("no OPEN"); return }
        #expect(stream == 1, "the DTLS server opens odd streams")
        let accepted = Self.deliver(open, to: &acceptor)
        #expect(accepted.contains(.opened))
        #expect(acceptor.isOpen && acceptor.stream == 1)
        #expect(!opener.isOpen, "open only once the ACK arrives")
        let acked = Self.deliver(accepted, to: &opener)
        #expect(acked == [.opened])
        #expect(opener.isOpen)
    }

    @Test func theStreamIsCutIntoMessagesNoLargerThanTheRemoteTakes() throws {
        var opener = DataChannelEndpoint(role: .opener(label: "x"), isDTLSClient: true, remoteMaxMessageSize: 1000)
        var acceptor = DataChannelEndpoint(role: .acceptor, isDTLSClient: false, remoteMaxMessageSize: 0)
        _ = Self.deliver(Self.deliver(try opener.associationEstablished(), to: &acceptor), to: &opener)
        let bytes = (0..<2500).map { UInt8(truncatingIfNeeded: $0) }
        let sent = opener.send(bytes)
        #expect(sent.count == 3)
        let received = Self.deliver(sent, to: &acceptor).flatMap { action -> [UInt8] in
            if case .received(let chunk) = action { return chunk }
            return []
        }
        #expect(received == bytes)
        #expect(acceptor.messageSize == DataChannelEndpoint.preferredMessageSize, "0 means no limit")
    }

    @Test func nothingIsSentOrTakenBeforeTheChannelIsOpen() {
        var acceptor = DataChannelEndpoint(role: .acceptor, isDTLSClient: true, remoteMaxMessageSize: 0)
        #expect(acceptor.send([1, 2, 3]).isEmpty)
        let early = acceptor.receive(stream: 0, ppid: PayloadProtocolIdentifier.binary.rawValue, bytes: [1])
        #expect(early.isEmpty)
    }

    @Test func aSecondChannelIsResetAndOthersStreamsIgnored() throws {
        var acceptor = DataChannelEndpoint(role: .acceptor, isDTLSClient: true, remoteMaxMessageSize: 0)
        let open = try DataChannelMessage.open(.webTorrent(label: "a")).encoded()
        _ = acceptor.receive(stream: 1, ppid: 50, bytes: open)
        let second = acceptor.receive(stream: 3, ppid: 50, bytes: open)
        #expect(second == [.resetStream(3)])
        let elsewhere = acceptor.receive(stream: 3, ppid: 53, bytes: [9])
        #expect(elsewhere.isEmpty)
        let onTheChannel = acceptor.receive(stream: 1, ppid: 53, bytes: [9])
        #expect(onTheChannel == [.received([9])])
        let reset = acceptor.streamReset([1])
        #expect(reset)
        #expect(!acceptor.isOpen)
    }

    @Test func brokenDCEPAndUnreliableChannelsFailClearly() throws {
        var acceptor = DataChannelEndpoint(role: .acceptor, isDTLSClient: true, remoteMaxMessageSize: 0)
        let actions = acceptor.receive(stream: 1, ppid: 50, bytes: [0x03, 0x00])
        guard case .failed(let failure)? = actions.first else { Issue.record("no failure"); return }
        #expect("\(failure)".contains("shorter"))
        let unordered = try DataChannelMessage.open(DataChannelOpen(channelType: .reliableUnordered, label: "u")).encoded()
        let refused = acceptor.receive(stream: 1, ppid: 50, bytes: unordered)
        #expect(refused.first == .resetStream(1))
        #expect(!acceptor.isOpen)
    }
}

@Suite struct OfferTests {
    @Test func ourOfferParsesBackWithEveryCandidateAndLeavesTheRoleToTheAnswerer() throws {
        let credentials = ICECredentials.random()
        let fingerprint = try DTLSFingerprint(parsing: "sha-256 " + Array(repeating: "AB", count: 32).joined(separator: ":"))
        let candidates = [ICECandidate(foundation: "1", priority: 2_122_260_223, address: "127.0.0.1", port: 40000, kind: .host),
                          ICECandidate(foundation: "2", priority: 2_122_194_687, address: "10.0.0.2", port: 40000, kind: .host)]
        let offer = SessionDescription.offer(credentials: credentials, fingerprint: fingerprint, candidates: candidates, sessionID: 42)
        let parsed = try SessionDescription(parsing: offer.text)
        #expect(parsed.media.candidates == candidates)
        #expect(parsed.media.setup == .actpass)
        #expect(parsed.media.iceUfrag == credentials.ufrag && parsed.media.icePwd == credentials.pwd)
        #expect(parsed.media.fingerprint == fingerprint)
        #expect(parsed.media.endOfCandidates)
        #expect(parsed.media.port == 40000 && parsed.media.connectionAddress == "127.0.0.1")
        #expect(SessionDescription.answer(to: parsed, credentials: .random(), fingerprint: fingerprint, candidates: candidates, sessionID: 1).media.setup == .active)
    }
}
