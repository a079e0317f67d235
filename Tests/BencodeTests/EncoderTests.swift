import Testing
@testable import Bencode

@Suite struct EncoderTests {
    @Test func writesCanonicalBencode() {
        let value = BencodeValue.dict([
            "spam": .list([.string("a"), .integer(-3)]),
            "cow": .integer(0),
            "Zebra": .bytes([0xff]),
        ])
        let expected = Array("d5:Zebra1:".utf8) + [0xff] + Array("3:cowi0e4:spaml1:ai-3eee".utf8)
        #expect(Bencode.encode(value) == expected)
    }

    @Test func writesTheExtremeIntegers() {
        #expect(Bencode.encode(.integer(.min)) == Array("i-9223372036854775808e".utf8))
        #expect(Bencode.encode(.integer(.max)) == Array("i9223372036854775807e".utf8))
    }
}
