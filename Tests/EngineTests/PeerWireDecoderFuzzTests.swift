@testable import Engine
import PeerProtocol
import TestSupport
import Testing

/// Random and mutated streams into the production wire decoder: it must deliver or refuse,
/// never crash. Seeded, with bounded iterations, so a failure reproduces.
@Suite struct PeerWireDecoderFuzzTests {
    @Test func randomBytes() {
        var generator = SeededGenerator(seed: 0xf00d)
        var decoded = 0
        var refused = 0
        for round in 0..<300 {
            // Mostly frames with small, plausible length prefixes and random ids and payloads
            // after a valid handshake, so bodies get decoded, now and then an oversized prefix;
            // every third round pure noise, handshake included.
            var stream: [UInt8] = []
            if round % 3 == 0 {
                stream = generator.bytes(Int.random(in: 0...512, using: &generator))
            } else {
                stream = WireFeed.handshake.encoded()
                for _ in 0..<Int.random(in: 1...20, using: &generator) {
                    if Int.random(in: 0..<40, using: &generator) == 0 {
                        stream += generator.bytes(4)
                    } else {
                        let length = Int.random(in: 0...70, using: &generator)
                        stream += [0, 0, 0, UInt8(length)] + generator.bytes(length)
                    }
                }
            }
            var feed = WireFeed(withHandshake: false)
            var offset = 0
            while offset < stream.count, feed.error == nil {
                let end = min(stream.count, offset + Int.random(in: 1...64, using: &generator))
                feed.read(stream[offset..<end])
                offset = end
            }
            decoded += feed.messages.count
            if feed.error != nil { refused += 1 }
        }
        #expect(decoded > 100)
        #expect(refused > 50)
    }

    @Test func mutatedValidStreams() {
        var generator = SeededGenerator(seed: 42)
        let valid = wireStream(sampleMessages.filter { $0.encoded().count < 2000 })
        var refused = 0
        for _ in 0..<300 {
            var stream = valid
            for _ in 0..<Int.random(in: 1...8, using: &generator) {
                stream[Int.random(in: 0..<stream.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
            if WireFeed.decode(stream).error != nil { refused += 1 }
        }
        #expect(refused > 0)
    }
}
