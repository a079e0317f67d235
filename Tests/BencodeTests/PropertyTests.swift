import TestSupport
import Testing
@testable import Bencode

func randomValue(_ rng: inout SeededGenerator, depth: Int = 0) -> BencodeValue {
    let kind = depth >= 4 ? Int.random(in: 0...1, using: &rng) : Int.random(in: 0...3, using: &rng)
    switch kind {
    case 0:
        let choices: [Int64] = [0, 1, -1, .max, .min, Int64.random(in: .min ... .max, using: &rng)]
        return .integer(choices.randomElement(using: &rng)!)
    case 1:
        return .bytes((0..<Int.random(in: 0...24, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) })
    case 2:
        return .list((0..<Int.random(in: 0...5, using: &rng)).map { _ in randomValue(&rng, depth: depth + 1) })
    default:
        var entries: [[UInt8]: BencodeValue] = [:]
        for _ in 0..<Int.random(in: 0...5, using: &rng) {
            let key = (0..<Int.random(in: 0...6, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            entries[key] = randomValue(&rng, depth: depth + 1)
        }
        return .dictionary(entries)
    }
}

@Suite struct PropertyTests {
    @Test func randomValuesRoundTrip() throws {
        var rng = SeededGenerator(seed: 0x6d656d6f)
        for _ in 0..<3_000 {
            let value = randomValue(&rng)
            let encoded = Bencode.encode(value)
            #expect(try Bencode.decode(encoded) == value)
        }
    }

    /// Random bytes must never crash the decoder; what it accepts must be canonical,
    /// so encoding the result gives back the input exactly.
    @Test func randomBytesNeverCrashAndAcceptedInputIsCanonical() {
        var rng = SeededGenerator(seed: 42)
        let alphabet = Array("ilde0123456789:-x".utf8)
        let clock = ContinuousClock()
        let started = clock.now
        var accepted = 0
        for _ in 0..<50_000 {
            let count = Int.random(in: 0...40, using: &rng)
            let input = (0..<count).map { _ in
                Bool.random(using: &rng) ? alphabet.randomElement(using: &rng)! : UInt8.random(in: 0...255, using: &rng)
            }
            if let value = try? Bencode.decode(input) {
                accepted += 1
                #expect(Bencode.encode(value) == input)
            }
        }
        #expect(accepted > 0)
        #expect(clock.now - started < .seconds(60))
    }

    /// Valid encodings with one byte changed, inserted or removed: the decoder either
    /// refuses them or accepts a canonical input.
    @Test func mutatedEncodingsNeverCrash() {
        var rng = SeededGenerator(seed: 7)
        for _ in 0..<20_000 {
            var input = Bencode.encode(randomValue(&rng))
            guard !input.isEmpty else { continue }
            let position = Int.random(in: 0..<input.count, using: &rng)
            switch Int.random(in: 0...2, using: &rng) {
            case 0: input[position] = UInt8.random(in: 0...255, using: &rng)
            case 1: input.insert(UInt8.random(in: 0...255, using: &rng), at: position)
            default: input.remove(at: position)
            }
            if let value = try? Bencode.decode(input) {
                #expect(Bencode.encode(value) == input)
            }
        }
    }

    @Test func truncationsAreAlwaysRefused() throws {
        var rng = SeededGenerator(seed: 99)
        for _ in 0..<2_000 {
            let input = Bencode.encode(randomValue(&rng))
            for cut in 0..<input.count {
                #expect(throws: BencodeError.self) { try Bencode.decode(Array(input[..<cut])) }
            }
        }
    }
}
