import Bencode
@testable import Discovery
import TestSupport
import TorrentModel

/// BEP 3's (unofficial spec's) favourite example hash: it mixes bytes that must be
/// escaped with ones that may stay literal.
let exampleHashBytes: [UInt8] = [0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf1, 0x23, 0x45,
                                 0x67, 0x89, 0xab, 0xcd, 0xef, 0x12, 0x34, 0x56, 0x78, 0x9a]

func sampleRequest(event: AnnounceEvent = .started, numWant: Int? = nil, trackerID: String? = nil,
                   infoHash: [UInt8] = exampleHashBytes) -> AnnounceRequest {
    AnnounceRequest(infoHash: InfoHash(bytes: infoHash)!,
                    peerID: samplePeerID,
                    port: 6881, uploaded: 1000, downloaded: 2000, left: 3000,
                    event: event, numWant: numWant, key: 0xBEEF, trackerID: trackerID)
}

/// Bencodes a dictionary with text keys.
func bencode(_ entries: KeyValuePairs<String, BencodeValue>) -> [UInt8] {
    Bencode.encode(.dict(entries))
}

func ipv4(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8, port: UInt16) -> PeerAddress {
    PeerAddress(host: .ipv4([a, b, c, d]), port: port)
}

/// Compact entries (BEP 23 / BEP 7) for the given peers.
func compact(_ peers: [PeerAddress]) -> [UInt8] {
    var bytes: [UInt8] = []
    for peer in peers {
        switch peer.host {
        case .ipv4(let address), .ipv6(let address): bytes += address
        case .name: fatalError("names have no compact form")
        }
        bytes += [UInt8(peer.port >> 8), UInt8(peer.port & 0xff)]
    }
    return bytes
}

/// Percent-decodes a query value to bytes, to check what the encoder wrote.
func percentDecode(_ text: Substring) -> [UInt8]? {
    let utf8 = Array(text.utf8)
    var out: [UInt8] = []
    var index = 0
    while index < utf8.count {
        if utf8[index] == UInt8(ascii: "%") {
            guard index + 2 < utf8.count,
                  let byte = UInt8(String(decoding: utf8[(index + 1)...(index + 2)], as: UTF8.self), radix: 16)
            else { return nil }
            out.append(byte)
            index += 3
        } else {
            out.append(utf8[index])
            index += 1
        }
    }
    return out
}

/// The query parameters of a request target, in order.
func queryParameters(_ target: String) -> [(String, Substring)] {
    guard let question = target.firstIndex(of: "?") else { return [] }
    return target[target.index(after: question)...].split(separator: "&").map { part in
        let pieces = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        return (String(pieces[0]), pieces.count > 1 ? pieces[1] : "")
    }
}
