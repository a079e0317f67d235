import Testing
@testable import WebRTCProtocol

/// A tracker relays whatever a peer sends: mangled descriptions and DCEP messages must give a
/// typed error or a value, never a crash, and what parses must print back to something that parses.
@Suite struct HostileSessionDescriptionTests {
    /// A small deterministic generator (SplitMix64) so a failure repeats.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    @Test func mangledOffers() throws {
        var random = Generator(state: 15)
        let original = Array(ChromiumFixtures.offer.utf8)
        let alphabet = Array(" :=\r\n0aZ/+-.".utf8) + [0xFF, 0x00]
        var parsed = 0
        for _ in 0..<3000 {
            var bytes = original
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                let index = Int.random(in: 0..<bytes.count, using: &random)
                switch Int.random(in: 0..<3, using: &random) {
                case 0: bytes[index] = alphabet.randomElement(using: &random)!
                case 1: bytes.remove(at: index)
                default: bytes.insert(alphabet.randomElement(using: &random)!, at: index)
                }
            }
            do {
                let description = try SessionDescription(parsing: String(decoding: bytes, as: UTF8.self))
                parsed += 1
                #expect(try SessionDescription(parsing: description.text) == description)
            } catch is SDPError {
                continue
            }
        }
        #expect(parsed > 0 && parsed < 3000, "the loop reaches both outcomes (\(parsed) parsed)")
    }

    @Test func randomDCEPBytes() throws {
        var random = Generator(state: 8832)
        var decoded = 0
        for _ in 0..<5000 {
            let length = Int.random(in: 0...24, using: &random)
            var bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
            if !bytes.isEmpty { bytes[0] = [0x02, 0x03, 0x03, 0x03].randomElement(using: &random)! }
            if bytes.count >= 12 { bytes[8] = 0; bytes[10] = 0; bytes[9] = UInt8(bytes.count / 2 - 6); bytes[11] = 0 }
            do {
                let message = try DataChannelMessage(decoding: bytes)
                decoded += 1
                #expect(try message.encoded() == bytes)
            } catch is DCEPError {
                continue
            }
        }
        #expect(decoded > 0, "some random messages are well formed")
    }
}
