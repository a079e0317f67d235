import TestSupport
import Bencode
import TorrentModel
@testable import PeerProtocol

/// A valid info dictionary whose bencoding is larger than `minimumSize` bytes:
/// one file cut into enough 16 KiB pieces that the `pieces` string alone is that long.
func sampleInfoBytes(minimumSize: Int) -> [UInt8] {
    let pieceLength = 16384
    let pieceCount = minimumSize / 20 + 1
    var generator = SeededGenerator(seed: 7)
    let info: BencodeValue = .dict([
        "name": .string("memo.mkv"),
        "piece length": .integer(Int64(pieceLength)),
        "pieces": .bytes(generator.bytes(pieceCount * 20)),
        "length": .integer(Int64(pieceCount * pieceLength - 100)),
    ])
    return BencodeEncoder.encode(info)
}

/// Splits `bytes` into metadata pieces the way a serving peer would.
func metadataPieces(_ bytes: [UInt8]) -> [[UInt8]] {
    (0..<MetadataAssembler.pieceCount(forSize: bytes.count)).map { MetadataAssembler.piece($0, of: bytes)! }
}
