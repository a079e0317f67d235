#if canImport(Glibc)
import Glibc
#endif

/// One decoder under libFuzzer: the name `mount-scripts/fuzz` and `MEMOFS_FUZZ_TARGET` call it
/// by, and what it does with one input. A target returns for any input; a property that does
/// not hold stops the process through ``require(_:_:file:line:)``, which libFuzzer reports as
/// a crash and saves the input of.
struct FuzzTarget: Sendable {
    let name: String
    let run: @Sendable ([UInt8]) -> Void
}

/// Traps when a property of a decoder fails (a round trip that changes a value, a framer that
/// decodes differently depending on how the bytes were cut). A trap, not an error: libFuzzer
/// saves the input that caused it.
func require(_ condition: Bool, _ message: @autoclosure () -> String,
             file: StaticString = #fileID, line: UInt = #line) {
    guard !condition else { return }
    fatalError("property does not hold: \(message())", file: file, line: line)
}

/// Reads bytes off the front of a fuzzer input: targets that need a choice (a cut point, an
/// address length) take it from the input, so libFuzzer explores the choices too.
struct FuzzInput {
    private(set) var rest: ArraySlice<UInt8>

    init(_ bytes: [UInt8]) { rest = bytes[...] }

    /// The next byte, or 0 once the input is used up.
    mutating func byte() -> UInt8 {
        guard let first = rest.first else { return 0 }
        rest = rest.dropFirst()
        return first
    }
}
