import Bencode
import Foundation
@testable import TorrentModel

/// An info dictionary with valid piece hashes for `fileLengths`, for tests that then break one field.
func infoDictionary(name: String = "memo", pieceLength: Int64 = 16384, files: [(path: [String], length: Int64)]?,
                    singleLength: Int64 = 20000) -> [String: BencodeValue] {
    let total = files.map { $0.reduce(0) { $0 + $1.length } } ?? singleLength
    let pieces = total == 0 ? 0 : Int((total - 1) / pieceLength + 1)
    var info: [String: BencodeValue] = [
        "name": .string(name),
        "piece length": .integer(pieceLength),
        "pieces": .bytes([UInt8](repeating: 0xab, count: pieces * 20)),
    ]
    if let files {
        info["files"] = .list(files.map { .dict(["length": .integer($0.length), "path": .list($0.path.map(BencodeValue.string))]) })
    } else {
        info["length"] = .integer(singleLength)
    }
    return info
}

func encodeTorrent(info: [String: BencodeValue], top: [String: BencodeValue] = [:]) -> [UInt8] {
    var root: [[UInt8]: BencodeValue] = [:]
    for (key, value) in top { root[Array(key.utf8)] = value }
    var infoValue: [[UInt8]: BencodeValue] = [:]
    for (key, value) in info { infoValue[Array(key.utf8)] = value }
    root[Array("info".utf8)] = .dictionary(infoValue)
    return Bencode.encode(.dictionary(root))
}
