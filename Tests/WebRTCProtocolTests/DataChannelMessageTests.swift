import Testing
@testable import WebRTCProtocol

/// DCEP byte layouts checked against RFC 8832 §5.
@Suite struct DataChannelMessageTests {
    /// A WebTorrent label: 40 hex characters (simple-peer's random channel name).
    let label = "3f1d8c0a9b7e6d5c4b3a29180706f5e4d3c2b1a0"

    /// WebTorrent's channel, laid out by hand from RFC 8832 §5.1's figure.
    @Test func webTorrentOpenBytes() throws {
        let bytes = try DataChannelMessage.open(.webTorrent(label: label)).encoded()
        let expected: [UInt8] = [
            0x03,  // Message Type: DATA_CHANNEL_OPEN
            0x00,  // Channel Type: DATA_CHANNEL_RELIABLE (ordered)
            0x00, 0x00,  // Priority
            0x00, 0x00, 0x00, 0x00,  // Reliability Parameter: unused for reliable channels
            0x00, 0x28,  // Label Length: 40
            0x00, 0x00,  // Protocol Length: 0 ("")
        ] + Array(label.utf8)
        #expect(bytes == expected)
        #expect(bytes.count == 52)
        #expect(try DataChannelMessage(decoding: bytes) == .open(.webTorrent(label: label)))
    }

    @Test func ackIsOneByte() throws {
        #expect(try DataChannelMessage.ack.encoded() == [0x02])
        #expect(try DataChannelMessage(decoding: [0x02]) == .ack)
        #expect(throws: DCEPError.trailingBytes(length: 2, expected: 1)) { try DataChannelMessage(decoding: [0x02, 0x00]) }
    }

    @Test(arguments: [DataChannelType.reliable, .reliableUnordered, .partialReliableRetransmit,
                      .partialReliableRetransmitUnordered, .partialReliableTimed, .partialReliableTimedUnordered])
    func openRoundTrips(type: DataChannelType) throws {
        let open = DataChannelOpen(channelType: type, priority: 0x0102, reliabilityParameter: 0x0A0B_0C0D,
                                   label: "chat ✓", protocol: "bittorrent")
        let bytes = try DataChannelMessage.open(open).encoded()
        #expect(Array(bytes[0..<12]) == [0x03, type.rawValue, 0x01, 0x02, 0x0A, 0x0B, 0x0C, 0x0D, 0x00, 0x08, 0x00, 0x0A])
        #expect(try DataChannelMessage(decoding: bytes) == .open(open))
        #expect(type.isOrdered == (type.rawValue < 0x80))
    }

    @Test func everyTruncationIsAnError() throws {
        let bytes = try DataChannelOpen(channelType: .reliable, label: label, protocol: "p").encoded()
        #expect(throws: DCEPError.truncated(length: 0, needed: 1)) { try DataChannelMessage(decoding: []) }
        for length in 1..<12 {
            #expect(throws: DCEPError.truncated(length: length, needed: 12)) {
                try DataChannelMessage(decoding: Array(bytes.prefix(length)))
            }
        }
        for length in 12..<bytes.count {
            #expect(throws: DCEPError.truncated(length: length, needed: 53)) {
                try DataChannelMessage(decoding: Array(bytes.prefix(length)))
            }
        }
    }

    @Test func inconsistentLengths() throws {
        var bytes = try DataChannelOpen.webTorrent(label: label).encoded()
        #expect(throws: DCEPError.trailingBytes(length: 53, expected: 52)) { try DataChannelMessage(decoding: bytes + [0]) }
        bytes[11] = 0xFF  // a protocol length the message does not hold
        #expect(throws: DCEPError.truncated(length: 52, needed: 52 + 0xFF)) { try DataChannelMessage(decoding: bytes) }
    }

    @Test func badFields() throws {
        #expect(throws: DCEPError.unknownMessageType(0x04)) { try DataChannelMessage(decoding: [0x04]) }
        var bytes = try DataChannelOpen.webTorrent(label: "ab").encoded()
        bytes[1] = 0x03
        #expect(throws: DCEPError.unknownChannelType(0x03)) { try DataChannelMessage(decoding: bytes) }
        bytes[1] = 0x00
        bytes[12] = 0xFF
        #expect(throws: DCEPError.notUTF8(field: "label")) { try DataChannelMessage(decoding: bytes) }
        let long = DataChannelOpen(channelType: .reliable, label: String(repeating: "x", count: 65_536))
        #expect(throws: DCEPError.fieldTooLong(field: "label", length: 65_536)) { try long.encoded() }
    }

    @Test func payloadProtocolIdentifiers() {
        #expect(PayloadProtocolIdentifier.dcep.rawValue == 50)
        #expect(PayloadProtocolIdentifier.string.rawValue == 51)
        #expect(PayloadProtocolIdentifier.binary.rawValue == 53)
        #expect(PayloadProtocolIdentifier.emptyString.rawValue == 56)
        #expect(PayloadProtocolIdentifier.emptyBinary.rawValue == 57)
    }
}
