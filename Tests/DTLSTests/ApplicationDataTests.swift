import DTLS
import Testing
import WebRTCProtocol

@Suite struct ApplicationDataTests {
    @Test func recordsCrossBothWaysOneToOne() throws {
        let link = try DatagramLink()
        link.handshake()
        let big = bytes(count: 1200, seed: 1)
        let many = (0..<300).map { bytes(count: 1 + $0 * 4 % 1100, seed: UInt64($0) + 10) }
        try link.send([big] + many, from: .client)
        try link.send(many.reversed() + [big], from: .server)
        #expect(link.serverSaw.applicationData == [big] + many)
        #expect(link.clientSaw.applicationData == many.reversed() + [big])
        #expect(link.clientSaw.failure == nil && link.serverSaw.failure == nil)
    }

    @Test func largestRecordAndTooLarge() throws {
        let link = try DatagramLink()
        link.handshake()
        let largest = bytes(count: DTLSConnection.maximumRecordSize, seed: 2)
        try link.send([largest], from: .server)
        #expect(link.clientSaw.applicationData == [largest])
        #expect(throws: DTLSError.recordTooLarge(size: 16_385, limit: 16_384)) {
            try link.client.send(applicationData: bytes(count: 16_385, seed: 3))
        }
        #expect(try link.client.send(applicationData: []).isEmpty)
    }

    @Test func noApplicationDataBeforeTheHandshake() throws {
        let link = try DatagramLink()
        #expect(throws: DTLSError.notEstablished(state: "idle")) { try link.client.send(applicationData: [1]) }
        _ = link.client.start()
        #expect(throws: DTLSError.notEstablished(state: "handshaking")) { try link.client.send(applicationData: [1]) }
    }

    /// Random datagrams, a truncated record and a record with one bit flipped are dropped
    /// (DTLS drops records that fail to parse or authenticate, RFC 6347 §4.1.2.7) and the
    /// connection carries on.
    @Test func garbageAndTruncatedRecordsAreDroppedWithoutHarm() throws {
        let link = try DatagramLink()
        link.handshake()
        let record = try link.client.send(applicationData: bytes(count: 500, seed: 4))
        #expect(record.count == 1)
        var flipped = record[0]
        flipped[flipped.count - 3] ^= 0x01
        var hostile: [[UInt8]] = [[], Array(record[0].prefix(40)), Array(record[0].dropLast(1)), flipped,
                                  Array(record[0].prefix(13)), [23, 0xfe, 0xfd]]
        hostile += (0..<300).map { bytes(count: $0 * 7 % 1500, seed: UInt64($0) + 100) }
        // Random bytes after a valid-looking application-data header, too.
        hostile += (0..<100).map { [23, 0xfe, 0xfd, 0, 1] + bytes(count: 8 + $0 * 5, seed: UInt64($0) + 1000) }
        for (index, datagram) in hostile.enumerated() {
            let output = link.server.receive(datagram: datagram)
            #expect(output.failure == nil, "hostile datagram \(index): \(datagram.prefix(20))")
            #expect(output.applicationData.isEmpty)
        }
        #expect(link.server.state == .established)
        try link.send([[1, 2, 3]], from: .client)
        try link.send([[4, 5, 6]], from: .server)
        #expect(link.serverSaw.applicationData == [[1, 2, 3]])
        #expect(link.clientSaw.applicationData == [[4, 5, 6]])
    }

    @Test func garbageBeforeTheClientHelloDoesNotStopTheHandshake() throws {
        let link = try DatagramLink()
        for seed in 0..<50 {
            let output = link.server.receive(datagram: bytes(count: 20 + Int(seed) * 13, seed: UInt64(seed) + 5000))
            #expect(output.failure == nil)
        }
        link.handshake()
        #expect(link.clientSaw.handshakeCompleted && link.serverSaw.handshakeCompleted)
    }

    @Test func twoConnectionsInterleavedKeepToThemselves() throws {
        let first = try DatagramLink()
        let second = try DatagramLink()
        // Interleave every step of the two handshakes.
        first.absorb(first.client.start(), from: .client)
        second.absorb(second.client.start(), from: .client)
        for _ in 0..<20 {
            first.run(rounds: 1)
            second.run(rounds: 1)
        }
        #expect(first.clientSaw.handshakeCompleted && first.serverSaw.handshakeCompleted)
        #expect(second.clientSaw.handshakeCompleted && second.serverSaw.handshakeCompleted)
        // One connection's record fed to the other is not theirs: dropped, no harm done.
        let stray = try first.client.send(applicationData: [9, 9, 9])
        let output = second.server.receive(datagram: stray[0])
        #expect(output.applicationData.isEmpty && output.failure == nil)
        for index in 0..<50 {
            first.toServer += try first.client.send(applicationData: [1, UInt8(index)])
            second.toServer += try second.client.send(applicationData: [2, UInt8(index)])
            second.toClient += try second.server.send(applicationData: [3, UInt8(index)])
        }
        second.run()
        first.run()
        #expect(first.serverSaw.applicationData == (0..<50).map { [1, UInt8($0)] })
        #expect(second.serverSaw.applicationData == (0..<50).map { [2, UInt8($0)] })
        #expect(second.clientSaw.applicationData == (0..<50).map { [3, UInt8($0)] })
        #expect(first.clientSaw.applicationData.isEmpty)
    }
}
