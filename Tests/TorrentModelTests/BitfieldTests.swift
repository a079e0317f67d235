import Testing
@testable import TorrentModel

@Suite struct BitfieldTests {
    @Test func setsAndCountsBitsInWireOrder() {
        var field = Bitfield(count: 10)
        field[0] = true
        field[9] = true
        field[9] = true
        #expect(field.bytes == [0x80, 0x40])
        #expect(field.setCount == 2)
        #expect(field.setIndices == [0, 9])
        field[0] = false
        #expect(field.setCount == 1)
        #expect(!field.isComplete)
    }

    @Test func allSetLeavesSpareBitsClear() {
        let field = Bitfield(count: 10, allSet: true)
        #expect(field.bytes == [0xff, 0xc0])
        #expect(field.isComplete)
    }

    @Test func refusesWrongLengthsAndSpareBits() {
        #expect(Bitfield(wireBytes: [0xff], count: 10) == nil)
        #expect(Bitfield(wireBytes: [0xff, 0xe0], count: 10) == nil)
        #expect(Bitfield(wireBytes: [0xff, 0xc0], count: 10)?.setCount == 10)
        #expect(Bitfield(wireBytes: [], count: 0)?.isComplete == true)
    }
}
