import Foundation
import TestSupport
import Testing
@testable import TorrentModel

/// BEP 52's merkle trees: memofs's roots, piece layers and block hashes against the ones
/// Debian's libtorrent writes into a hybrid torrent.
@Suite struct MerkleTreeTests {
    @Test func padHashesAreHashesOfEmptySubtrees() {
        let zero = [UInt8](repeating: 0, count: 32)
        #expect(MerkleTree.padHash(layer: 0) == zero)
        #expect(MerkleTree.padHash(layer: 1) == SHA256.hash(zero + zero))
        #expect(MerkleTree.padHash(layer: 2) == SHA256.parent(MerkleTree.padHash(layer: 1), MerkleTree.padHash(layer: 1)))
        // A tree of three leaves is padded to four with a zero leaf.
        let leaves = (0..<3).map { SHA256.hash([UInt8($0)]) }
        let expected = SHA256.parent(SHA256.parent(leaves[0], leaves[1]), SHA256.parent(leaves[2], zero))
        #expect(MerkleTree.root(of: leaves, width: 4, layer: 0) == expected)
        #expect(MerkleTree.root(of: leaves, width: 3, layer: 0) == nil)
        #expect(MerkleTree.root(of: leaves, width: 2, layer: 0) == nil)
        #expect(MerkleTree.width(covering: 5) == 8)
        // SHA-256 of "abc" (FIPS 180-2).
        #expect(Hex.encode(SHA256.hash(Array("abc".utf8))) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    /// A folder with files that end mid-block and mid-piece, an empty file, a file of one
    /// block and one of less than a piece.
    @Test func hybridTorrentsMatchLibtorrentsTrees() throws {
        let folder = try TemporaryFolder()
        let root = "Hybrid"
        let sizes = [("a.webm", 100_000), ("empty", 0), ("one.bin", 16384), ("small.ogg", 5000), ("z.bin", 230_001)]
        var contents: [String: [UInt8]] = [:]
        for (index, (path, size)) in sizes.enumerated() {
            contents[root + "/" + path] = try folder.write(root + "/" + path, count: size, seed: UInt64(index + 3))
        }
        let torrentPath = folder.path + "/lt.torrent"
        let lt = try Libtorrent.run("make", try Libtorrent.json([
            "root": folder.path, "files": sizes.map { root + "/" + $0.0 }, "out": torrentPath, "piece_size": 32768, "hybrid": true,
        ] as [String: Any]))
        let info = try Metainfo(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: torrentPath)))).info
        #expect(info.infoHash.hex == lt["info_hash"] as? String)
        #expect(info.v2InfoHash.map(Hex.encode) == lt["v2_info_hash"] as? String)
        let roots = try #require(lt["roots"] as? [Any])
        #expect(info.files.count == roots.count)
        #expect(info.piecesRoots.map { $0.map(Hex.encode) } == roots.map { $0 as? String })
        let layers = try #require(lt["piece_layers"] as? [String: String])

        func leaves(of file: TorrentFile) -> [[UInt8]] {
            let bytes = contents[file.pathString]!
            return stride(from: 0, to: bytes.count, by: MerkleTree.blockSize).map {
                SHA256.hash(Array(bytes[$0..<min($0 + MerkleTree.blockSize, bytes.count)]))
            }
        }
        for (index, file) in info.files.enumerated() where file.length > 0 && !file.isPadding {
            let blocks = leaves(of: file)
            #expect(MerkleTree.root(of: blocks, width: MerkleTree.width(covering: blocks.count), layer: 0) == info.piecesRoots[index],
                    "\(file.pathString)")
        }

        var checked = 0
        for piece in 0..<info.pieceCount {
            let place = try #require(info.treePlace(ofPiece: piece), "piece \(piece)")
            let file = info.files[place.file]
            var pieceLayer: [Int: [UInt8]]?
            if let request = place.pieceLayerRequest {
                #expect(request.proofLayers == 0)
                let text = try #require(layers[Hex.encode(place.root)])
                let hashes = stride(from: 0, to: text.count / 2, by: 32).map { Array(Hex.decode(text)![$0..<($0 + 32)]) }
                let padded = hashes + Array(repeating: MerkleTree.padHash(layer: place.pieceLayer), count: request.count - hashes.count)
                pieceLayer = place.pieceLayer(from: padded)
                #expect(pieceLayer == Dictionary(uniqueKeysWithValues: hashes.enumerated().map { ($0.offset, $0.element) }))
                var forged = padded
                forged[0][0] ^= 1
                #expect(place.pieceLayer(from: forged) == nil)
                #expect(place.pieceLayer(from: Array(padded.dropLast())) == nil)
            }
            let node = try #require(place.expectedPieceNode(pieceLayer: pieceLayer))
            let request = place.blockHashesRequest
            let all = leaves(of: file)
            let answer = Array(all[min(request.index, all.count)..<min(request.index + request.count, all.count)])
            let padded = answer + Array(repeating: MerkleTree.padHash(layer: 0), count: request.count - answer.count)
            let verified = try #require(place.blockHashes(from: padded, node: node), "piece \(piece) of \(file.pathString)")
            #expect(verified.count == place.blockCount)
            #expect(place.fileBytesInPiece == Int(min(file.length - Int64(place.pieceInFile) * 32768, 32768)))
            var forged = padded
            forged[forged.count - 1][5] ^= 0x40
            #expect(place.blockHashes(from: forged, node: node) == nil)
            checked += 1
        }
        #expect(checked == info.pieceCount)
    }

    /// A file of more than 512 pieces: its piece layer comes 512 hashes at a time (BEP 52
    /// says a request SHOULD NOT ask for more), each part with the uncle hashes that lead
    /// from it to the root libtorrent wrote.
    @Test func aLargeFilesPieceLayerComesInPartsWithProofs() throws {
        let folder = try TemporaryFolder()
        let pieces = 1100
        _ = try folder.write("big/long.opus", count: pieces * 16384 - 1000, seed: 77)
        let torrentPath = folder.path + "/lt.torrent"
        let lt = try Libtorrent.run("make", try Libtorrent.json([
            "root": folder.path, "files": ["big/long.opus"], "out": torrentPath, "piece_size": 16384, "hybrid": true,
        ] as [String: Any]))
        let info = try Metainfo(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: torrentPath)))).info
        let text = try #require((lt["piece_layers"] as? [String: String])?.values.first)
        let layer = stride(from: 0, to: text.count / 2, by: 32).map { Array(Hex.decode(text)![$0..<($0 + 32)]) }
        #expect(layer.count == pieces)
        // Every level of the tree above the piece layer, padded to 2048 nodes.
        var levels = [layer + Array(repeating: MerkleTree.padHash(layer: 0), count: 2048 - pieces)]
        while levels.last!.count > 1 {
            let below = levels.last!
            levels.append(stride(from: 0, to: below.count, by: 2).map { SHA256.parent(below[$0], below[$0 + 1]) })
        }
        #expect(levels.last!.first == info.piecesRoots[0])

        for piece in [0, 511, 512, 700, pieces - 1] {
            let place = try #require(info.treePlace(ofPiece: piece))
            let request = try #require(place.pieceLayerRequest)
            #expect(request.count == 512 && request.index == piece / 512 * 512)
            #expect(request.uncleCount == 2)
            var position = request.index / 512
            var uncles: [[UInt8]] = []
            for level in 9..<11 {
                uncles.append(levels[level][position ^ 1])
                position /= 2
            }
            let answer = Array(levels[0][request.index..<(request.index + 512)]) + uncles
            let verified = try #require(place.pieceLayer(from: answer), "piece \(piece)")
            #expect(verified[piece] == layer[piece])
            #expect(verified.count == min(512, pieces - request.index))
            var forged = answer
            forged[forged.count - 1][0] ^= 1
            #expect(place.pieceLayer(from: forged) == nil)
            #expect(place.pieceLayer(from: Array(answer.dropLast())) == nil)
        }
    }

    @Test func aV1TorrentHasNoTree() throws {
        let folder = try TemporaryFolder()
        _ = try folder.write("rec.webm", count: 70_000)
        let made = try TorrentCreator.createBlocking(from: folder.path + "/rec.webm")
        #expect(made.info.v2InfoHash == nil)
        #expect(made.info.treePlace(ofPiece: 0) == nil)
    }
}
