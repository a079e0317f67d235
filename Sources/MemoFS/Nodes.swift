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
}
