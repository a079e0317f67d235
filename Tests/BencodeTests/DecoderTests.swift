import Testing
@testable import Bencode

private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

@Suite struct DecoderTests {
    @Test func decodesEveryKind() throws {
        #expect(try Bencode.decode(bytes("i42e")) == .integer(42))
        #expect(try Bencode.decode(bytes("i-42e")) == .integer(-42))
        #expect(try Bencode.decode(bytes("i0e")) == .integer(0))
        #expect(try Bencode.decode(bytes("4:spam")) == .string("spam"))
        #expect(try Bencode.decode(bytes("0:")) == .bytes([]))
        #expect(try Bencode.decode(bytes("l4:spami7ee")) == .list([.string("spam"), .integer(7)]))
        #expect(try Bencode.decode(bytes("d3:cow3:moo4:spam4:eggse"))
                == .dict(["cow": .string("moo"), "spam": .string("eggs")]))
        #expect(try Bencode.decode(bytes("de")) == .dictionary([:]))
        #expect(try Bencode.decode(bytes("le")) == .list([]))
    }

    @Test func decodesTheExtremeIntegers() throws {
        #expect(try Bencode.decode(bytes("i9223372036854775807e")) == .integer(.max))
        #expect(try Bencode.decode(bytes("i-9223372036854775808e")) == .integer(.min))
    }

    @Test func keepsBinaryStringsAsBytes() throws {
        let input: [UInt8] = Array("3:".utf8) + [0x00, 0xff, 0x80]
        #expect(try Bencode.decode(input) == .bytes([0x00, 0xff, 0x80]))
        #expect(try Bencode.decode(input).string == nil)
    }

    @Test(arguments: [
        ("i03e", BencodeError.Reason.leadingZero, 1),
        ("i-03e", .leadingZero, 2),
        ("i00e", .leadingZero, 1),
        ("i-0e", .negativeZero, 1),
        ("ie", .emptyInteger, 1),
        ("i-e", .emptyInteger, 2),
        ("i12", .unexpectedEnd, 3),
        ("i1x2e", .unexpectedByte(UInt8(ascii: "x")), 2),
        ("i9223372036854775808e", .integerOverflow, 1),
        ("i-9223372036854775809e", .integerOverflow, 2),
        ("i99999999999999999999e", .integerOverflow, 1),
        ("04:spam", .leadingZero, 0),
        ("5:spam", .unexpectedEnd, 6),
        (":spam", .unexpectedByte(UInt8(ascii: ":")), 0),
        ("4spam", .unexpectedByte(UInt8(ascii: "s")), 1),
        ("d4:spam4:eggs3:cow3:mooe", .unsortedKey, 13),
        ("d3:cow3:moo3:cow3:mooe", .duplicateKey, 11),
        ("di1e3:mooe", .keyNotAString, 1),
        ("d3:cowe", .unexpectedByte(UInt8(ascii: "e")), 6),
        ("d3:cow", .unexpectedEnd, 6),
        ("l4:spam", .unexpectedEnd, 7),
        ("i1ei2e", .trailingBytes, 3),
        ("4:spamx", .trailingBytes, 6),
        ("", .unexpectedEnd, 0),
        ("x", .unexpectedByte(UInt8(ascii: "x")), 0),
        ("e", .unexpectedByte(UInt8(ascii: "e")), 0),
    ])
    func refusesWhatIsNotCanonical(input: String, reason: BencodeError.Reason, offset: Int) {
        #expect(throws: BencodeError(reason, at: offset)) { try Bencode.decode(bytes(input)) }
    }

    @Test func keysSortAsRawBytesNotAsText() throws {
        // "Z" (0x5a) sorts before "a" (0x61), and a prefix sorts before its extensions.
        #expect(throws: Never.self) { try Bencode.decode(bytes("d1:Zi1e1:ai2e2:aai3ee")) }
        #expect(throws: BencodeError(.unsortedKey, at: 8)) { try Bencode.decode(bytes("d2:aai1e1:ai2ee")) }
        let high: [UInt8] = Array("d1:".utf8) + [0x7f] + Array("i1e1:".utf8) + [0x80] + Array("i2ee".utf8)
        #expect(throws: Never.self) { try Bencode.decode(high) }
    }

    @Test func boundsNesting() throws {
        let decoder = BencodeDecoder(limits: .init(maxDepth: 3))
        #expect(throws: Never.self) { try decoder.decode(bytes("llleee")) }
        #expect(throws: BencodeError(.nestingTooDeep(limit: 3), at: 3)) { try decoder.decode(bytes("lllleeee")) }
        // A deep input refused by default, without exhausting the stack.
        let deep = [UInt8](repeating: UInt8(ascii: "l"), count: 100_000) + [UInt8](repeating: UInt8(ascii: "e"), count: 100_000)
        #expect(throws: BencodeError(.nestingTooDeep(limit: 64), at: 64)) { try Bencode.decode(deep) }
    }

    @Test func boundsStringLengthBeforeReadingIt() throws {
        let decoder = BencodeDecoder(limits: .init(maxStringLength: 10))
        #expect(throws: Never.self) { try decoder.decode(bytes("10:0123456789")) }
        #expect(throws: BencodeError(.stringLengthTooLong(limit: 10), at: 0)) { try decoder.decode(bytes("11:01234567890")) }
        // A claimed length far beyond the input is refused at once, not allocated.
        #expect(throws: BencodeError(.stringLengthTooLong(limit: 64 << 20), at: 0)) {
            try Bencode.decode(bytes("99999999999999999999999:x"))
        }
        #expect(throws: BencodeError(.unexpectedEnd, at: 8)) { try Bencode.decode(bytes("999999:x")) }
    }

    @Test func boundsTheNumberOfValues() throws {
        let decoder = BencodeDecoder(limits: .init(maxValues: 4))
        #expect(throws: Never.self) { try decoder.decode(bytes("li1ei2ei3ee")) }
        #expect(throws: BencodeError(.tooManyValues(limit: 4), at: 10)) { try decoder.decode(bytes("li1ei2ei3ei4ee")) }
    }

    @Test func keepsTheRawRangeOfEveryValue() throws {
        let input = bytes("d4:infod6:lengthi5e4:name1:xe3:zzzl1:a1:bee")
        let root = try BencodeDecoder().decodeNode(input)
        let info = try #require(root["info"])
        #expect(Array(input[info.range]) == bytes("d6:lengthi5e4:name1:xe"))
        let length = try #require(info["length"])
        #expect(Array(input[length.range]) == bytes("i5e"))
        guard case .list(let items) = try #require(root["zzz"]).kind else { Issue.record("not a list"); return }
        #expect(Array(input[items[1].range]) == bytes("1:b"))
        #expect(root.range == 0..<input.count)
    }

    @Test func decodesAPrefixAndSaysWhereItEnds() throws {
        let input = bytes("d8:msg_typei1e5:piecei0eeRAWDATA")
        let (value, end) = try BencodeDecoder().decodePrefix(input)
        #expect(value["msg_type"] == .integer(1))
        #expect(Array(input[end...]) == bytes("RAWDATA"))
    }

    @Test func errorsNameTheOffset() {
        let error = BencodeError(.unsortedKey, at: 14)
        #expect(error.description == "invalid bencode at byte 14: dictionary keys are not sorted")
        #expect(BencodeError(.unexpectedByte(0), at: 2).description.contains("0x0"))
    }
}
