/// BEP 52's per-file merkle trees: SHA-256 of each 16 KiB block at the leaves, a file's
/// `pieces root` at the top. Leaves past the file's end are zeros, and the tree is padded
/// to a power of two with such empty subtrees.
public enum MerkleTree {
    public static let blockSize = 16 * 1024

    /// The hash of an empty subtree whose top is `layer` levels above the leaves.
    public static func padHash(layer: Int) -> [UInt8] {
        precondition(layer >= 0 && layer < padHashes.count, "no tree has \(layer) layers")
        return padHashes[layer]
    }

    private static let padHashes: [[UInt8]] = {
        var hashes = [[UInt8](repeating: 0, count: SHA256.byteCount)]
        for _ in 1..<64 { hashes.append(SHA256.parent(hashes.last!, hashes.last!)) }
        return hashes
    }()

    /// The root of the subtree whose nodes `layer` levels above the leaves are `nodes`
    /// followed by pad hashes up to `width` (a power of two); nil if `nodes` does not fit.
    public static func root(of nodes: [[UInt8]], width: Int, layer: Int) -> [UInt8]? {
        guard width > 0, width & (width - 1) == 0, nodes.count <= width,
              nodes.allSatisfy({ $0.count == SHA256.byteCount }) else { return nil }
        var level = nodes
        var levelWidth = width
        var pad = padHash(layer: layer)
        while levelWidth > 1 {
            if level.count % 2 == 1 { level.append(pad) }
            var next: [[UInt8]] = []
            next.reserveCapacity(level.count / 2)
            for pair in stride(from: 0, to: level.count, by: 2) { next.append(SHA256.parent(level[pair], level[pair + 1])) }
            level = next.isEmpty ? [SHA256.parent(pad, pad)] : next
            pad = SHA256.parent(pad, pad)
            levelWidth /= 2
        }
        return level.first ?? pad
    }

    /// The node that `node`, at `position` in its layer, leads to with `uncles`: its
    /// sibling, then its parent's sibling, and so on up.
    public static func fold(_ node: [UInt8], position: Int, uncles: [[UInt8]]) -> [UInt8] {
        var node = node, position = position
        for uncle in uncles {
            node = position % 2 == 0 ? SHA256.parent(node, uncle) : SHA256.parent(uncle, node)
            position /= 2
        }
        return node
    }

    /// The smallest power of two at least `count` (and at least 1).
    public static func width(covering count: Int) -> Int {
        var width = 1
        while width < count { width <<= 1 }
        return width
    }
}
