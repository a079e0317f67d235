import Dispatch
import NIOConcurrencyHelpers
import SCTP
import Testing
import WebRTCProtocol
#if canImport(Glibc)
import Glibc
#endif

/// Two real usrsctp associations in this process, back to back. Serialized so the throughput
/// figure is not shared with the other tests (the 20-association test covers sharing usrsctp).
@Suite(.serialized)
struct SCTPAssociationTests {
    @Test func bothSidesConnectingMeetInOneAssociation() throws {
        let pair = try AssociationPair()
        #expect(pair.connect())
        #expect(pair.eventsA.all.filter { $0 == .connected }.count == 1)
        #expect(pair.eventsB.all.filter { $0 == .connected }.count == 1)
    }

    @Test func messagesOfEverySizeArriveWholeAndInOrderBothWays() throws {
        let pair = try AssociationPair()
        try #require(pair.connect())
        let sizes = [1, 1200, 64 * 1024, 256 * 1024, 1]
        for (index, size) in sizes.enumerated() {
            #expect(try pair.send(pattern(count: size, seed: UInt8(index)), from: pair.a, stream: UInt16(index), ppid: 51))
            #expect(try pair.send(pattern(count: size, seed: UInt8(100 + index)), from: pair.b, stream: UInt16(10 + index), ppid: 53))
        }
        #expect(pair.pump(timeout: .seconds(20)) {
            pair.eventsA.messages.count == sizes.count && pair.eventsB.messages.count == sizes.count
        })
        let atB = pair.eventsB.messages
        let atA = pair.eventsA.messages
        #expect(atB.map(\.bytes.count) == sizes)
        #expect(atA.map(\.bytes.count) == sizes)
        for (index, size) in sizes.enumerated() where index < atB.count && index < atA.count {
            #expect(atB[index].bytes == pattern(count: size, seed: UInt8(index)))
            #expect(atB[index].stream == UInt16(index) && atB[index].ppid == 51)
            #expect(atA[index].bytes == pattern(count: size, seed: UInt8(100 + index)))
            #expect(atA[index].stream == UInt16(10 + index) && atA[index].ppid == 53)
        }
        // RFC 8261 §5: no SCTP packet above the safe size (which fits a 1280-byte IPv6 MTU under DTLS).
        #expect(pair.wire.largestPacket <= SCTPAssociation.packetSize)
    }

    /// B answers the OPEN from inside its event handler, as a data channel stack does: a send
    /// from usrsctp's receive callback.
    @Test func dcepOpenAndAckRoundTrip() throws {
        let dcep = PayloadProtocolIdentifier.dcep.rawValue
        let bBox = NIOLockedValueBox<SCTPAssociation?>(nil)
        let answers = NIOLockedValueBox<[Result<SCTPSendResult, SCTPError>]>([])
        let pair = try AssociationPair { event in
            guard case .message(let stream, let ppid, let bytes) = event, ppid == dcep,
                  case .open? = try? DataChannelMessage(decoding: bytes),
                  let b = bBox.withLockedValue({ $0 }) else { return }
            let answer = Result { () throws(SCTPError) in try b.send(try! DataChannelMessage.ack.encoded(), stream: stream, ppid: dcep) }
            answers.withLockedValue { $0.append(answer) }
        }
        bBox.withLockedValue { $0 = pair.b }
        try #require(pair.connect())
        let open = DataChannelOpen.webTorrent(label: String(repeating: "ab", count: 20))
        #expect(try pair.send(DataChannelMessage.open(open).encoded(), from: pair.a, stream: 0, ppid: dcep))
        try #require(pair.pump { !pair.eventsB.messages.isEmpty && !pair.eventsA.messages.isEmpty })
        let received = try #require(pair.eventsB.messages.first)
        #expect(received.ppid == dcep && received.stream == 0)
        #expect(try DataChannelMessage(decoding: received.bytes) == .open(open))
        #expect(answers.withLockedValue { $0.map { try? $0.get() } } == [.sent])
        #expect(pair.eventsA.messages[0].ppid == dcep && pair.eventsA.messages[0].stream == 0)
        #expect(try DataChannelMessage(decoding: pair.eventsA.messages[0].bytes) == .ack)
    }

    @Test func everythingArrivesWhenEveryTenthPacketIsLost() throws {
        let pair = try AssociationPair(dropEvery: 10)
        try #require(pair.connect(timeout: .seconds(20)))
        let messages = (0..<40).map { pattern(count: 16 * 1024, seed: UInt8($0)) } + [pattern(count: 256 * 1024, seed: 7)]
        for message in messages {
            #expect(try pair.send(message, from: pair.a, stream: 3, ppid: 53))
        }
        #expect(pair.pump(timeout: .seconds(20)) { pair.eventsB.messages.count == messages.count })
        #expect(pair.eventsB.messages.map(\.bytes) == messages)
        #expect(pair.wire.dropped > 10)
    }

    @Test func aMessageAboveTheMaximumIsRefusedByName() throws {
        let pair = try AssociationPair(maxMessageSize: 64 * 1024)
        try #require(pair.connect())
        #expect(throws: SCTPError.messageTooLarge(size: 64 * 1024 + 1, limit: 64 * 1024)) {
            _ = try pair.a.send([UInt8](repeating: 1, count: 64 * 1024 + 1), stream: 0, ppid: 53)
        }
        #expect(throws: SCTPError.emptyMessage) { _ = try pair.a.send([], stream: 0, ppid: 53) }
        #expect("\(SCTPError.messageTooLarge(size: 65537, limit: 65536))".contains("65536-byte maximum"))
        #expect(try pair.send([UInt8](repeating: 2, count: 64 * 1024), from: pair.a, stream: 0, ppid: 53))
        #expect(pair.pump { pair.eventsB.messages.count == 1 })
        #expect(throws: SCTPError.invalidMaxMessageSize(0)) {
            _ = try SCTPAssociation(maxMessageSize: 0, send: { _ in }, events: { _ in })
        }
        // Firefox advertises about 1 GiB; a message is never larger than the send buffer.
        let firefox = try SCTPAssociation(maxMessageSize: 1_073_741_823, send: { _ in }, events: { _ in })
        #expect(firefox.maxMessageSize == SCTPAssociation.bufferSize)
        firefox.close()
    }

    @Test func anIncomingMessageAboveOurMaximumIsDroppedWhole() throws {
        let pair = try AssociationPair(maxIncomingMessageSizeAtB: 64 * 1024)
        try #require(pair.connect())
        #expect(try pair.send(pattern(count: 200 * 1024, seed: 1), from: pair.a, stream: 1, ppid: 53))
        #expect(try pair.send(pattern(count: 64 * 1024, seed: 2), from: pair.a, stream: 1, ppid: 53))
        #expect(pair.pump { pair.eventsB.messages.count == 1 })
        #expect(pair.eventsB.messages.first?.bytes == pattern(count: 64 * 1024, seed: 2))
        #expect(pair.b.droppedMessages == 1)
    }

    @Test func garbagePacketsAreDroppedAndTheAssociationGoesOn() throws {
        let pair = try AssociationPair()
        try #require(pair.connect())
        var generator = SystemRandomNumberGenerator()
        let real = try #require(pair.wire.captured.first)
        var garbage: [[UInt8]] = [[0], [UInt8](repeating: 0, count: 12), [UInt8](repeating: 0xff, count: 1500)]
        garbage += (0..<200).map { _ in (0..<Int.random(in: 1...1400, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) } }
        // A real packet (the INIT) with bits flipped after the common header: the checksum fails.
        for offset in stride(from: 12, to: real.count, by: 7) {
            var mangled = real
            mangled[offset] ^= 0x5a
            garbage.append(mangled)
        }
        for packet in garbage { pair.b.receive(packet: packet) }
        #expect(try pair.send(pattern(count: 5000, seed: 9), from: pair.a, stream: 2, ppid: 53))
        #expect(try pair.send(pattern(count: 5000, seed: 10), from: pair.b, stream: 2, ppid: 53))
        #expect(pair.pump { pair.eventsB.messages.count == 1 && pair.eventsA.messages.count == 1 })
        #expect(pair.eventsB.messages.first?.bytes == pattern(count: 5000, seed: 9))
        #expect(pair.eventsA.closeReason == nil && pair.eventsB.closeReason == nil)
    }

    /// usrsctp may skip the CRC32c on "loopback" paths; browsers drop packets whose checksum is wrong.
    @Test func packetsCarryAValidCRC32c() throws {
        let pair = try AssociationPair()
        try #require(pair.connect())
        for packet in pair.wire.captured {
            var zeroed = packet
            zeroed.replaceSubrange(8..<12, with: [0, 0, 0, 0])
            let crc = crc32c(zeroed)
            let stored = packet[8..<12].enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (8 * $1.offset) }
            #expect(stored == crc, "checksum \(stored) in a \(packet.count)-byte packet, expected \(crc)")
        }
    }

    @Test func closeAbortsThePeerAndSilencesTheClosedSide() throws {
        let pair = try AssociationPair()
        try #require(pair.connect())
        let eventsBefore = pair.eventsA.all.count
        pair.a.close()
        let packetsAfterClose = pair.wire.sentByA
        #expect(pair.pump { pair.eventsB.closeReason != nil })
        if case .lost = pair.eventsB.closeReason {} else { Issue.record("expected .lost, got \(String(describing: pair.eventsB.closeReason))") }
        #expect(throws: SCTPError.closed) { _ = try pair.a.send([1], stream: 0, ppid: 53) }
        // B still talks to the closed side: nothing reaches A's owner any more.
        _ = try? pair.b.send([1, 2, 3], stream: 0, ppid: 53)
        _ = pair.pump(timeout: .milliseconds(300)) { false }
        #expect(pair.eventsA.all.count == eventsBefore)
        #expect(pair.wire.sentByA == packetsAfterClose)
        pair.a.close()
    }

    @Test func messagesInFlightWhenThePeerAbortsAreReportedFailed() throws {
        let pair = try AssociationPair()
        try #require(pair.connect())
        #expect(try pair.a.send(pattern(count: 3000, seed: 1), stream: 6, ppid: 51) == .sent)
        pair.b.close() // before A's DATA crosses: B's ABORT reaches A with the message unacknowledged
        #expect(pair.pump { pair.eventsA.closeReason != nil })
        #expect(pair.pump(timeout: .seconds(2)) { pair.eventsA.all.contains(.sendFailed(stream: 6, ppid: 51)) })
    }

    /// An owner may close from its own event handler (usrsctp's receive callback, on the thread
    /// of `receive(packet:)`): no deadlock, and the peer learns of it.
    @Test func closingFromTheEventHandler() throws {
        let bBox = NIOLockedValueBox<SCTPAssociation?>(nil)
        let pair = try AssociationPair { event in
            if case .message = event { bBox.withLockedValue { $0 }?.close() }
        }
        bBox.withLockedValue { $0 = pair.b }
        try #require(pair.connect())
        #expect(try pair.send([7], from: pair.a, stream: 0, ppid: 53))
        #expect(pair.pump { pair.eventsA.closeReason != nil })
        #expect(pair.eventsB.messages.count == 1)
        #expect(throws: SCTPError.closed) { _ = try pair.b.send([1], stream: 0, ppid: 53) }
    }

    @Test func unorderedMessagesArriveToo() throws {
        let pair = try AssociationPair()
        try #require(pair.connect())
        for index in 0..<20 {
            #expect(try pair.a.send(pattern(count: 100 + index, seed: UInt8(index)), stream: 5, ppid: 53, ordered: false) == .sent)
        }
        #expect(pair.pump { pair.eventsB.messages.count == 20 })
        #expect(Set(pair.eventsB.messages.map(\.bytes)) == Set((0..<20).map { pattern(count: 100 + $0, seed: UInt8($0)) }))
    }

    @Test func aResetStreamReachesThePeer() throws {
        let pair = try AssociationPair()
        try #require(pair.connect())
        #expect(try pair.send([1], from: pair.a, stream: 3, ppid: 53))
        try pair.a.resetOutgoing(streams: [3])
        #expect(pair.pump { pair.eventsB.all.contains(.streamReset(streams: [3])) })
    }

    /// The owner's threads as the lead will have them: senders on their own threads while one
    /// thread feeds packets in (and usrsctp's timer thread sends SACKs and retransmissions).
    @Test func sendersOnOtherThreadsWhileThisOneReceives() throws {
        let pair = try AssociationPair()
        try #require(pair.connect())
        let count = 400
        let finished = DispatchSemaphore(value: 0)
        let failures = NIOLockedValueBox<[String]>([])
        for (sender, seed) in [(pair.a, 0), (pair.b, 100)] {
            DispatchQueue.global().async {
                defer { finished.signal() }
                let deadline = ContinuousClock.now + .seconds(20)
                for index in 0..<count {
                    let message = pattern(count: 3000 + index, seed: UInt8(truncatingIfNeeded: seed + index))
                    do {
                        while try sender.send(message, stream: 4, ppid: 53) == .wouldBlock {
                            guard ContinuousClock.now < deadline else { throw SCTPError.closed }
                            usleep(200)
                        }
                    } catch {
                        failures.withLockedValue { $0.append("message \(index): \(error)") }
                        return
                    }
                }
            }
        }
        #expect(pair.pump(timeout: .seconds(20)) { pair.eventsA.messages.count == count && pair.eventsB.messages.count == count })
        #expect(finished.wait(timeout: .now() + 5) == .success && finished.wait(timeout: .now() + 5) == .success)
        #expect(failures.withLockedValue { $0 } == [])
        #expect(pair.eventsB.messages.map(\.bytes) == (0..<count).map { pattern(count: 3000 + $0, seed: UInt8(truncatingIfNeeded: $0)) })
        #expect(pair.eventsA.messages.map(\.bytes) == (0..<count).map { pattern(count: 3000 + $0, seed: UInt8(truncatingIfNeeded: 100 + $0)) })
    }

    @Test func twentyPairsShareUsrsctp() throws {
        let pairs = try (0..<20).map { _ in try AssociationPair() }
        let deadline = ContinuousClock.now + .seconds(20)
        func pumpAll(until condition: () -> Bool) -> Bool {
            while ContinuousClock.now < deadline {
                if condition() { return true }
                if !pairs.map({ $0.pumpOnce() }).contains(true) { usleep(500) }
            }
            return condition()
        }
        #expect(pumpAll { pairs.allSatisfy { $0.eventsA.isConnected && $0.eventsB.isConnected } })
        for (index, pair) in pairs.enumerated() {
            #expect(try pair.a.send(pattern(count: 3000, seed: UInt8(index)), stream: 1, ppid: 53) == .sent)
            #expect(try pair.b.send(pattern(count: 100, seed: UInt8(index)), stream: 2, ppid: 51) == .sent)
        }
        #expect(pumpAll { pairs.allSatisfy { $0.eventsA.messages.count == 1 && $0.eventsB.messages.count == 1 } })
        for (index, pair) in pairs.enumerated() {
            #expect(pair.eventsB.messages.first?.bytes == pattern(count: 3000, seed: UInt8(index)))
            #expect(pair.eventsA.messages.first?.bytes == pattern(count: 100, seed: UInt8(index)))
        }
    }

    /// 16 KiB messages back to back (WebTorrent's block size), through a full send buffer:
    /// `.wouldBlock`, `.sendSpaceAvailable` and `bufferedAmount` at work. Prints the rate.
    @Test func sixteenKiBMessagesBackToBack() throws {
        let pair = try AssociationPair()
        try #require(pair.connect())
        let count = 2048 // 32 MiB
        let message = pattern(count: 16 * 1024, seed: 1)
        let start = ContinuousClock.now
        var blocked = 0
        var largestBuffered = 0
        func spaceEvents() -> Int { pair.eventsA.all.filter { $0 == .sendSpaceAvailable }.count }
        for _ in 0..<count {
            while true {
                // Counted before the send: the event may come before `send` returns.
                let seen = spaceEvents()
                if try pair.a.send(message, stream: 1, ppid: 53) == .sent { break }
                blocked += 1
                largestBuffered = max(largestBuffered, pair.a.bufferedAmount)
                try #require(pair.pump(timeout: .seconds(10)) { spaceEvents() > seen })
            }
        }
        #expect(pair.pump(timeout: .seconds(30)) { pair.eventsB.messages.count == count })
        let elapsed = ContinuousClock.now - start
        #expect(pair.eventsB.messages.allSatisfy { $0.bytes == message })
        #expect(blocked > 0, "32 MiB never filled the 1 MiB send buffer")
        #expect(largestBuffered > SCTPAssociation.bufferSize / 2)
        #expect(pair.pump { pair.a.bufferedAmount == 0 })
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print("SCTP throughput: \(count) × 16 KiB in \(elapsed): \(Int(Double(count * 16) / 1024 / seconds)) MiB/s, \(blocked) sends refused with wouldBlock, largest bufferedAmount \(largestBuffered)")
    }
}

/// CRC32c (Castagnoli, reflected polynomial 0x82F63B78), SCTP's checksum (RFC 4960 appendix B).
func crc32c(_ bytes: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xffff_ffff
    for byte in bytes {
        crc ^= UInt32(byte)
        for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0x82f6_3b78 : crc >> 1 }
    }
    return ~crc
}
