import TestSupport
import Bencode
import TorrentModel
@testable import PeerProtocol

let sampleInfoHash = InfoHash(bytes: Array(1...20))!
let samplePeerID = PeerID(bytes: Array("-MF0100-abcdefghijkl".utf8))!

/// One of every message, with payloads that exercise the edges (empty, maximal numbers).
let sampleMessages: [PeerMessage] = [
    .keepAlive, .choke, .unchoke, .interested, .notInterested,
    .have(piece: 0), .have(piece: .max),
    .bitfield([]), .bitfield([0xff, 0x80]),
    .request(BlockRequest(piece: 1, begin: 16384, length: 16384)),
    .piece(piece: 3, begin: 32768, block: Array(repeating: 0xab, count: 16384)),
    .piece(piece: 0, begin: 0, block: []),
    .cancel(BlockRequest(piece: .max, begin: 0, length: 1)),
    .port(6881),
    .suggestPiece(42), .haveAll, .haveNone,
    .rejectRequest(BlockRequest(piece: 7, begin: 0, length: 16384)),
    .allowedFast(9),
    .extended(id: 0, payload: ExtensionHandshake(extensions: ["ut_metadata": 2]).encoded()),
    .extended(id: 3, payload: []),
    .unknown(id: 0x42, payload: [1, 2, 3]),
    .unknown(id: 0xff, payload: []),
]

/// The stream `messages` make on the wire.
func wireStream(_ messages: [PeerMessage]) -> [UInt8] {
    var output: [UInt8] = []
    for message in messages { message.appendEncoded(to: &output) }
    return output
}

/// Runs the framer until it needs more bytes.
func drain(_ framer: inout MessageFramer) throws -> [PeerMessage] {
    var out: [PeerMessage] = []
    while let message = try framer.next() { out.append(message) }
    return out
}

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
