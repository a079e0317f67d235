import Engine
import TorrentModel

/// What an inode stands for. Inode numbers are handed out once per key and never reused
/// while the file system is mounted.
enum Node: Hashable, Sendable {
    case root
    case local
    case shared
    case addFile
    /// A recording in `local/`, by file name.
    case recording(String)
    /// The read-only magnet link of a recording.
    case sidecar(String)
    /// A folder of a multi-file torrent: the path inside it (empty for the torrent's own folder).
    case torrentFolder(InfoHash, [String])
    /// A file of a torrent, by index in its file list.
    case torrentFile(InfoHash, Int)
    /// A `.torrent` being dropped into `shared/`, by name, until it is closed and added.
    case droppedTorrent(String)
    /// A shared torrent whose metadata was refused (unsafe names, say): an empty file that
    /// cannot be opened, the reason in its xattrs and in `memofs status`, gone with `rm`.
    case failedShare(InfoHash)
}

/// Inode numbers both ways.
struct InodeTable {
    private var byNode: [Node: UInt64] = [.root: 1, .local: 2, .shared: 3, .addFile: 4]
    private var byInode: [UInt64: Node] = [1: .root, 2: .local, 3: .shared, 4: .addFile]
    private var next: UInt64 = 100

    mutating func inode(for node: Node) -> UInt64 {
        if let inode = byNode[node] { return inode }
        let inode = next
        next += 1
        byNode[node] = inode
        byInode[inode] = node
        return inode
    }

    func node(_ inode: UInt64) -> Node? { byInode[inode] }

    /// After an unlink: the next file with this name gets a new inode, so the kernel never
    /// mixes up its cache of the old file with the new one.
    mutating func retire(_ node: Node) {
        byNode.removeValue(forKey: node)
    }

    /// After a rename the kernel keeps the inode and moves the name: the inode now stands
    /// for the new node, and a node that was at the new name is forgotten.
    mutating func move(_ old: Node, to new: Node) {
        if let replaced = byNode.removeValue(forKey: new) { byInode[replaced] = nil }
        guard let inode = byNode.removeValue(forKey: old) else { return }
        byNode[new] = inode
        byInode[inode] = new
    }
}
