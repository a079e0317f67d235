import PeerProtocol
import TorrentModel

/// A torrent and a peer for tests that need some: the peer id has memofs's own client prefix.
public let sampleInfoHash = InfoHash(bytes: Array(1...20))!
public let samplePeerID = PeerID(bytes: Array("-MF0100-abcdefghijkl".utf8))!

/// One of every peer message, with payloads that exercise the edges (empty, maximal numbers):
/// what the message tests round-trip and the wire decoder's tests frame.
public let sampleMessages: [PeerMessage] = [
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
    .hashRequest(HashRequest(piecesRoot: Array(repeating: 0x5a, count: 32), base: 0, index: 512, count: 512, proofLayers: 7)),
    .hashReject(HashRequest(piecesRoot: Array(repeating: 0xa5, count: 32), base: 2, index: 0, count: 2)),
    .hashes(HashRequest(piecesRoot: Array(repeating: 1, count: 32), base: 0, index: 0, count: 2, proofLayers: 1),
            Array(repeating: 0xcd, count: 3 * 32)),
    .extended(id: 0, payload: ExtensionHandshake(extensions: ["ut_metadata": 2]).encoded()),
    .extended(id: 3, payload: []),
    .unknown(id: 0x42, payload: [1, 2, 3]),
    .unknown(id: 0xff, payload: []),
]

/// The stream `messages` make on the wire.
public func wireStream(_ messages: [PeerMessage]) -> [UInt8] {
    var output: [UInt8] = []
    for message in messages { message.appendEncoded(to: &output) }
    return output
}
