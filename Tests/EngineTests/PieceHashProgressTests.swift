@testable import Engine
import Testing
import TorrentModel

@Suite struct PieceHashProgressTests {
    /// Blocks arriving in any order give the digest of the whole piece, hashed as far as
    /// they are contiguous; a block seen twice changes nothing.
    @Test func blocksInAnyOrderGiveThePiecesDigest() {
        var generator = SystemRandomNumberGenerator()
        let piece = (0..<(16 * 16384 + 1000)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let begins = Array(stride(from: 0, to: piece.count, by: 16384))
        for order in [begins, begins.reversed(), begins.shuffled(using: &generator)] {
            let progress = PieceHashProgress()
            var buffer = [UInt8](repeating: 0, count: piece.count)
            for (index, begin) in order.enumerated() {
                let end = min(begin + 16384, piece.count)
                buffer.replaceSubrange(begin..<end, with: piece[begin..<end])
                progress.arrived(begin: begin, length: end - begin, in: buffer)
                if index == 0 { progress.arrived(begin: begin, length: end - begin, in: buffer) }
                if index < order.count - 1 { #expect(progress.hashedUpTo < piece.count) }
            }
            #expect(progress.hashedUpTo == piece.count)
            #expect(progress.finish(buffer) == SHA1.hash(piece))
        }
        // Nothing arrived in order: everything is hashed at the end.
        let late = PieceHashProgress()
        late.arrived(begin: 16384, length: 16384, in: piece)
        #expect(late.hashedUpTo == 0)
        #expect(late.finish(piece) == SHA1.hash(piece))
    }
}
