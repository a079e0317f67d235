/// Big-endian integer reading and writing: every integer on the peer wire is
/// big-endian ("network order", BEP 3). Kept internal and free of Foundation.
enum BigEndian {
    /// Reads a UInt32 at `index`; the caller has checked that four bytes are there.
    @inline(__always)
    static func uint32<C: Collection<UInt8>>(_ bytes: C, at index: C.Index) -> UInt32 {
        var value: UInt32 = 0
        var position = index
        for _ in 0..<4 {
            value = value << 8 | UInt32(bytes[position])
            bytes.formIndex(after: &position)
        }
        return value
    }

    @inline(__always)
    static func uint16<C: Collection<UInt8>>(_ bytes: C, at index: C.Index) -> UInt16 {
        let next = bytes.index(after: index)
        return UInt16(bytes[index]) << 8 | UInt16(bytes[next])
    }

    @inline(__always)
    static func append(_ value: UInt32, to output: inout [UInt8]) {
        output.append(UInt8(truncatingIfNeeded: value >> 24))
        output.append(UInt8(truncatingIfNeeded: value >> 16))
        output.append(UInt8(truncatingIfNeeded: value >> 8))
        output.append(UInt8(truncatingIfNeeded: value))
    }

    @inline(__always)
    static func append(_ value: UInt16, to output: inout [UInt8]) {
        output.append(UInt8(truncatingIfNeeded: value >> 8))
        output.append(UInt8(truncatingIfNeeded: value))
    }
}
