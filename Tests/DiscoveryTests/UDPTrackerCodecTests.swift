@testable import Discovery
import TestSupport
import Testing
import TorrentModel

/// Byte layouts checked against the tables of BEP 15.
@Suite struct UDPTrackerCodecTests {
    @Test func connectRequestLayout() {
        let bytes = UDPTrackerMessage.connectRequest(transactionID: 0xA1B2_C3D4)
        #expect(bytes.count == 16)
        #expect(Array(bytes[0..<8]) == [0x00, 0x00, 0x04, 0x17, 0x27, 0x10, 0x19, 0x80], "protocol_id 0x41727101980")
        #expect(Array(bytes[8..<12]) == [0, 0, 0, 0], "action 0: connect")
        #expect(Array(bytes[12..<16]) == [0xA1, 0xB2, 0xC3, 0xD4])
    }

    @Test func announceRequestLayout() {
        var request = sampleRequest(event: .completed)
        request.key = 0x0102_0304
        let bytes = UDPTrackerMessage.announceRequest(connectionID: 0x1122_3344_5566_7788, transactionID: 0xCAFE_BABE,
                                                      request: request)
        #expect(bytes.count == 98)
        #expect(Array(bytes[0..<8]) == be64(0x1122_3344_5566_7788))
        #expect(Array(bytes[8..<12]) == [0, 0, 0, 1], "action 1: announce")
        #expect(Array(bytes[12..<16]) == be32(0xCAFE_BABE))
        #expect(Array(bytes[16..<36]) == exampleHashBytes)
        #expect(Array(bytes[36..<56]) == Array("-MF0100-abcdefghijkl".utf8))
        #expect(Array(bytes[56..<64]) == be64(2000), "downloaded")
        #expect(Array(bytes[64..<72]) == be64(3000), "left")
        #expect(Array(bytes[72..<80]) == be64(1000), "uploaded")
        #expect(Array(bytes[80..<84]) == [0, 0, 0, 1], "event 1: completed")
        #expect(Array(bytes[84..<88]) == [0, 0, 0, 0], "IP address 0: default")
        #expect(Array(bytes[88..<92]) == [1, 2, 3, 4], "key")
        #expect(Array(bytes[92..<96]) == [0xff, 0xff, 0xff, 0xff], "num_want -1: default")
        #expect(Array(bytes[96..<98]) == be16(6881), "port")
    }

    @Test func announceRequestOptionalFields() {
        var request = sampleRequest(event: .stopped, numWant: 50)
        request.left = -7
        let bytes = UDPTrackerMessage.announceRequest(connectionID: 1, transactionID: 2, request: request,
                                                      ipv4: [192, 0, 2, 1])
        #expect(Array(bytes[64..<72]) == be64(0), "negative left is sent as 0")
        #expect(Array(bytes[80..<84]) == [0, 0, 0, 3])
        #expect(Array(bytes[84..<88]) == [192, 0, 2, 1])
        #expect(Array(bytes[92..<96]) == be32(50))
        let badIP = UDPTrackerMessage.announceRequest(connectionID: 1, transactionID: 2, request: request, ipv4: [1, 2])
        #expect(Array(badIP[84..<88]) == [0, 0, 0, 0])
        let huge = UDPTrackerMessage.announceRequest(connectionID: 1, transactionID: 2,
                                                     request: sampleRequest(numWant: Int.max))
        #expect(Array(huge[92..<96]) == be32(UInt32(Int32.max)))
    }

    @Test func connectResponse() throws {
        let datagram = be32(0) + be32(77) + be64(0xFEED_FACE_0000_0001)
        #expect(try UDPTrackerResponse(decoding: datagram, peerAddressLength: 6)
            == .connect(transactionID: 77, connectionID: 0xFEED_FACE_0000_0001))
        // Extra bytes (a future extension) are ignored.
        #expect(try UDPTrackerResponse(decoding: datagram + [1, 2, 3], peerAddressLength: 6).transactionID == 77)
    }

    @Test func announceResponseIPv4() throws {
        let peers = [ipv4(1, 2, 3, 4, port: 6881), ipv4(5, 6, 7, 8, port: 1)]
        let datagram = be32(1) + be32(9) + be32(1800) + be32(3) + be32(4) + compact(peers)
        #expect(try UDPTrackerResponse(decoding: datagram, peerAddressLength: 6)
            == .announce(transactionID: 9, interval: 1800, leechers: 3, seeders: 4, peers: peers))
        // A partial entry at the end is ignored (BEP 15: do not expect exact sizes).
        #expect(try UDPTrackerResponse(decoding: datagram + [9, 9, 9], peerAddressLength: 6)
            == .announce(transactionID: 9, interval: 1800, leechers: 3, seeders: 4, peers: peers))
    }

    @Test func announceResponseIPv6() throws {
        let peer = PeerAddress(host: .ipv6(Array(1...16)), port: 443)
        let zeroPort = PeerAddress(host: .ipv6(Array(repeating: 2, count: 16)), port: 0)
        let datagram = be32(1) + be32(9) + be32(UInt32(bitPattern: -1)) + be32(0) + be32(0) + compact([peer, zeroPort])
        #expect(try UDPTrackerResponse(decoding: datagram, peerAddressLength: 18)
            == .announce(transactionID: 9, interval: -1, leechers: 0, seeders: 0, peers: [peer]))
    }

    @Test func errorResponse() throws {
        let datagram = be32(3) + be32(5) + Array("torrent not registered".utf8) + [0]
        #expect(try UDPTrackerResponse(decoding: datagram, peerAddressLength: 6)
            == .error(transactionID: 5, message: "torrent not registered"))
        #expect(try UDPTrackerResponse(decoding: be32(3) + be32(5), peerAddressLength: 6)
            == .error(transactionID: 5, message: ""))
    }

    @Test func shortDatagrams() {
        #expect(throws: TrackerError.datagramTooShort(action: "any", length: 0, needed: 8)) {
            try UDPTrackerResponse(decoding: [], peerAddressLength: 6)
        }
        #expect(throws: TrackerError.datagramTooShort(action: "any", length: 7, needed: 8)) {
            try UDPTrackerResponse(decoding: [0, 0, 0, 0, 0, 0, 0], peerAddressLength: 6)
        }
        #expect(throws: TrackerError.datagramTooShort(action: "connect", length: 15, needed: 16)) {
            try UDPTrackerResponse(decoding: be32(0) + be32(1) + [0, 0, 0, 0, 0, 0, 0], peerAddressLength: 6)
        }
        #expect(throws: TrackerError.datagramTooShort(action: "announce", length: 19, needed: 20)) {
            try UDPTrackerResponse(decoding: be32(1) + be32(1) + Array(repeating: 0, count: 11), peerAddressLength: 6)
        }
        #expect(TrackerError.datagramTooShort(action: "connect", length: 15, needed: 16).description
            == "UDP tracker connect response is 15 bytes, shorter than the 16 it needs")
    }

    @Test func unexpectedActions() {
        #expect(throws: TrackerError.unexpectedAction(2)) {
            try UDPTrackerResponse(decoding: be32(2) + be32(1) + be32(0) + be32(0) + be32(0), peerAddressLength: 6)
        }
        #expect(throws: TrackerError.unexpectedAction(0xffff_ffff)) {
            try UDPTrackerResponse(decoding: be32(0xffff_ffff) + be32(1), peerAddressLength: 6)
        }
    }

    @Test func peersAreCapped() throws {
        var datagram = be32(1) + be32(9) + be32(1800) + be32(0) + be32(0)
        for index in 0..<2000 { datagram += be32(UInt32(index) + 1) + be16(80) }
        guard case .announce(_, _, _, _, let peers) = try UDPTrackerResponse(decoding: datagram, peerAddressLength: 6)
        else { Issue.record("not an announce"); return }
        #expect(peers.count == AnnounceResponse.maxPeers)
    }
}
