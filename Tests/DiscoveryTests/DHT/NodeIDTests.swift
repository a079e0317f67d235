import TestSupport
@testable import Discovery
import Testing
import TorrentModel

@Suite struct NodeIDTests {
    static func id(_ bytes: [UInt8]) -> NodeID { NodeID(bytes: bytes + Array(repeating: 0, count: 20 - bytes.count))! }

    @Test func onlyTwentyBytesMakeAnID() {
        #expect(NodeID(bytes: Array(repeating: 1, count: 19)) == nil)
        #expect(NodeID(bytes: Array(repeating: 1, count: 21)) == nil)
        #expect(NodeID(bytes: Array(repeating: 1, count: 20)) != nil)
    }

    @Test func distanceIsXOR() {
        let a = Self.id([0b1010_0000, 0xff])
        let b = Self.id([0b0110_0000, 0x0f])
        #expect(a.distance(to: b) == Self.id([0b1100_0000, 0xf0]))
        #expect(a.distance(to: a) == Self.id([]))
        #expect(a.distance(to: b) == b.distance(to: a))
    }

    @Test func commonPrefixLength() {
        let zero = Self.id([])
        #expect(zero.commonPrefixLength(with: zero) == 160)
        #expect(zero.commonPrefixLength(with: Self.id([0x80])) == 0)
        #expect(zero.commonPrefixLength(with: Self.id([0x01])) == 7)
        #expect(zero.commonPrefixLength(with: Self.id([0, 0x20])) == 10)
        #expect(zero.commonPrefixLength(with: NodeID(bytes: Array(repeating: 0, count: 19) + [1])!) == 159)
    }

    @Test func closenessOrdersByDistance() {
        let target = Self.id([0x10])
        let near = Self.id([0x11])
        let far = Self.id([0x90])
        #expect(target.isCloser(near, than: far))
        #expect(!target.isCloser(far, than: near))
        #expect(!target.isCloser(near, than: near))
        #expect(near.distance(to: target) < far.distance(to: target))
    }

    @Test func randomIDsRepeatWithTheSeedAndDiffer() {
        var first = SeededGenerator(seed: 7)
        var second = SeededGenerator(seed: 7)
        let a = NodeID.random(using: &first)
        #expect(a == NodeID.random(using: &second))
        #expect(a != NodeID.random(using: &first))
    }

    @Test func randomIDSharingAPrefix() {
        var generator = SeededGenerator(seed: 3)
        let base = NodeID.random(using: &generator)
        for length in [0, 1, 7, 8, 9, 100, 159, 160] {
            for _ in 0..<20 {
                let id = NodeID.random(sharingPrefixOf: base, length: length, using: &generator)
                #expect(base.commonPrefixLength(with: id) == length)
            }
        }
    }

    @Test func descriptionIsHex() {
        #expect(Self.id([0xab, 0x01]).description == "ab01" + String(repeating: "0", count: 36))
    }
}

@Suite struct NodeInfoTests {
    @Test func compactIPv4RoundTrip() throws {
        let id = NodeID(bytes: Array("abcdefghij0123456789".utf8))!
        let node = try #require(NodeInfo(id: id, address: ipv4(10, 1, 2, 3, port: 6881)))
        let bytes = node.compactBytes
        #expect(bytes == Array("abcdefghij0123456789".utf8) + [10, 1, 2, 3, 0x1a, 0xe1])
        #expect(NodeInfo(compact: bytes) == node)
    }

    @Test func compactIPv6RoundTrip() throws {
        let id = NodeID(bytes: Array("abcdefghij0123456789".utf8))!
        let address = PeerAddress(host: .ipv6(Array(1...16)), port: 443)
        let node = try #require(NodeInfo(id: id, address: address))
        #expect(node.compactBytes.count == 38)
        #expect(NodeInfo(compact: node.compactBytes) == node)
    }

    @Test func wrongSizesAndNamesAreRefused() {
        #expect(NodeInfo(compact: Array(repeating: 1, count: 25)) == nil)
        #expect(NodeInfo(compact: Array(repeating: 1, count: 27)) == nil)
        #expect(NodeInfo(id: NodeID(bytes: Array(repeating: 1, count: 20))!,
                         address: PeerAddress(host: .name("example.org"), port: 1)) == nil)
    }

    @Test func listIgnoresRaggedTailAndPortZero() {
        var generator = SeededGenerator(seed: 1)
        let nodes = (0..<3).map { index in
            NodeInfo(id: .random(using: &generator), address: ipv4(10, 0, 0, UInt8(index), port: UInt16(index)))!
        }
        let bytes = nodes.flatMap(\.compactBytes) + [1, 2, 3]
        #expect(NodeInfo.decodeList(bytes, entrySize: 26) == Array(nodes[1...]))
    }
}
