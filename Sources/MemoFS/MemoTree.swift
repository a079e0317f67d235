import Engine
import Foundation
import FUSEKit
import Logging
import SystemPackage
import TorrentModel

/// The tree users see: `local/` (recordings, seeded, each with a `.magnet` sidecar) and
/// `shared/` (torrents from others, read on demand, plus `.add`).
///
/// An actor: every change to the tree's state happens here. Blocking file work on
/// recordings is small (open, pread, pwrite on local files); waiting for torrent data
/// happens in the torrent, not here, so one slow read never holds up the others.
public actor MemoTree {
    let session: Session
    nonisolated let configuration: MemoFSConfiguration
    let logger: Logger
    let mountedAt = timespec(tv_sec: time(nil), tv_nsec: 0)

    var inodes = InodeTable()
    var recordings: [String: Recording] = [:] { didSet { treeGeneration &+= 1 } }
    /// Bumped by every change to what the status report shows of the tree itself.
    var treeGeneration = 0
    var handles: [UInt64: OpenHandle] = [:]
    var nextHandle: UInt64 = 1
    /// Files of multi-file torrents that `rm` removed from view (the torrent goes with its folder).
    var hidden: Set<Node> = []
    /// `.torrent` files being written into `shared/`.
    var droppedNames: Set<String> = []
    /// The last few errors of `.add` lines and dropped `.torrent` files, oldest first.
    public internal(set) var addErrors: [StatusReport.AddError] = [] { didSet { treeGeneration &+= 1 } }
    /// When the daemon stopped; the last report says so, so `memofs status` does not show it as live.
    var stoppedAt: Double? { didSet { treeGeneration &+= 1 } }
    /// The report last written (its time zeroed), to skip writing an unchanged one, and
    /// what it was built from, to skip even building it when nothing changed.
    var lastStatusReport: StatusReport?
    var lastStatusInputs: [Int]?
    /// Why the last status report could not be written, logged once rather than every second.
    var statusWriteProblem: String?
    /// Where the tree is mounted, for the status report.
    public var mountpoint: String? { didSet { treeGeneration &+= 1 } }

    public func setMountpoint(_ path: String) { mountpoint = path }
    /// Whether the mount serves complete files through FUSE passthrough (for the status report).
    public var passthrough: Bool? { didSet { treeGeneration &+= 1 } }
    public func setPassthrough(_ enabled: Bool) { passthrough = enabled }

    struct Recording {
        var torrent: Torrent?
        var writers = 0
        var dirty = false
        var sharing: Task<Void, Never>?
        var lastError: String?
    }

    enum OpenHandle {
        case local(descriptor: FileDescriptor, name: String, writable: Bool, wrote: Bool)
        case torrentFile(Torrent, fileIndex: Int, fileLength: Int64, head: ReadHead, reader: ReaderID)
        case text([UInt8])
        case add(AddInput)
        case dropped(name: String, bytes: [UInt8])
    }

    public init(session: Session, configuration: MemoFSConfiguration, logger: Logger = Logger(label: "memofs.fs")) {
        self.session = session
        self.configuration = configuration
        self.logger = logger
    }

    /// Finds the recordings already in `local/` and matches them with the torrents the session
    /// resumed; recordings without one (copied in while memofs was not running, or cut off
    /// while hashing) are shared now.
    public func start() async throws {
        try FileManager.default.createDirectory(atPath: configuration.localFolder, withIntermediateDirectories: true)
        var seeded: [String: Torrent] = [:]
        for torrent in await session.allTorrents where torrent.root == configuration.localFolder {
            // A recording changed while memofs was down no longer matches its torrent: share it anew.
            if let info = await torrent.torrentInfo, info.isSingleFile, await torrent.isComplete, seeded[info.name] == nil {
                seeded[info.name] = torrent
            } else {
                try? await session.remove(torrent.infoHash, deleteFiles: false)
            }
        }
        for name in try localFileNames() {
            recordings[name] = Recording(torrent: seeded.removeValue(forKey: name))
            if recordings[name]?.torrent == nil { share(name) }
        }
        // Torrents of recordings whose file is gone: stop seeding them.
        for torrent in seeded.values { try? await session.remove(torrent.infoHash, deleteFiles: false) }
    }

    /// Ends sharing and writes the last status report, marked stopped. Whoever writes the
    /// report every second (the daemon's status writer) calls this after its last
    /// `writeStatus()` has returned, so no running report lands after the stopped one.
    public func stop() async {
        for recording in recordings.values { await recording.sharing?.value }
        for handle in handles.values {
            if case .local(let descriptor, _, _, _) = handle { try? descriptor.close() }
        }
        handles = [:]
        stoppedAt = Date().timeIntervalSince1970
        await writeStatus()
    }

    func localFileNames() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: configuration.localFolder)
            .filter { name in
                var info = stat()
                return stat(configuration.localFolder + "/" + name, &info) == 0 && info.st_mode & S_IFMT == S_IFREG
            }
    }

    func localPath(_ name: String) -> String { configuration.localFolder + "/" + name }

    func allocateHandle(_ handle: OpenHandle) -> UInt64 {
        let id = nextHandle
        nextHandle += 1
        handles[id] = handle
        return id
    }

    // MARK: lookup and attributes

    func lookup(parent: UInt64, name: String) async throws -> Entry {
        guard let parentNode = inodes.node(parent) else { throw FUSEError.notFound }
        let node: Node
        switch parentNode {
        case .root:
            switch name {
            case "local": node = .local
            case "shared": node = .shared
            default: throw FUSEError.notFound
            }
        case .local:
            node = try localNode(named: name)
        case .shared:
            if name == ".add" {
                node = .addFile
            } else if droppedNames.contains(name) {
                node = .droppedTorrent(name)
            } else {
                guard let (torrent, info) = try await sharedTorrent(named: name) else { throw FUSEError.notFound }
                node = Self.shareNode(torrent, info)
            }
        case .torrentFolder(let hash, let path):
            guard let info = await session.torrent(hash)?.torrentInfo else { throw FUSEError.notFound }
            let childPath = path + [name]
            if let index = info.files.firstIndex(where: { Array($0.path.dropFirst()) == childPath }), !info.files[index].isPadding {
                node = .torrentFile(hash, index)
            } else if info.files.contains(where: { $0.path.count > childPath.count + 1 && Array($0.path.dropFirst().prefix(childPath.count)) == childPath }) {
                node = .torrentFolder(hash, childPath)
            } else {
                throw FUSEError.notFound
            }
        default:
            throw FUSEError.notDirectory
        }
        guard !hidden.contains(node) else { throw FUSEError.notFound }
        let inode = inodes.inode(for: node)
        return Entry(attributes: try await attributes(of: inode, node: node), timeout: entryTimeout(node))
    }

    /// Names that change (sidecars appear, torrents arrive) are cached briefly.
    func entryTimeout(_ node: Node) -> Double {
        switch node {
        case .root, .local, .shared, .addFile: 60
        default: 1
        }
    }

    func localNode(named name: String) throws -> Node {
        if name.hasSuffix(".magnet") {
            let recording = String(name.dropLast(".magnet".count))
            if recordings[recording]?.torrent != nil, recordings[recording]?.sharing == nil { return .sidecar(recording) }
        }
        var info = stat()
        guard stat(localPath(name), &info) == 0, info.st_mode & S_IFMT == S_IFREG else { throw FUSEError.notFound }
        if recordings[name] == nil { recordings[name] = Recording() }
        return .recording(name)
    }

    func attributes(of inode: UInt64) async throws -> FileAttributes {
        guard let node = inodes.node(inode) else { throw FUSEError.notFound }
        return try await attributes(of: inode, node: node)
    }

    func attributes(of inode: UInt64, node: Node) async throws -> FileAttributes {
        switch node {
        case .root, .local, .shared:
            return FileAttributes(inode: inode, kind: .directory, permissions: 0o755, modified: mountedAt)
        case .addFile:
            return FileAttributes(inode: inode, kind: .file, permissions: 0o222, modified: mountedAt)
        case .recording(let name):
            var info = stat()
            guard stat(localPath(name), &info) == 0 else { throw FUSEError.notFound }
            return FileAttributes(inode: inode, kind: .file, permissions: 0o644, size: UInt64(info.st_size),
                                  blocks: UInt64(info.st_blocks), modified: info.st_mtim)
        case .sidecar(let name):
            let text = try await sidecarText(name)
            var info = stat()
            _ = stat(localPath(name), &info)
            return FileAttributes(inode: inode, kind: .file, permissions: 0o444, size: UInt64(text.count), modified: info.st_mtim)
        case .torrentFolder(let hash, _):
            guard let torrent = await session.torrent(hash) else { throw FUSEError.notFound }
            return FileAttributes(inode: inode, kind: .directory, permissions: 0o755, modified: await torrentDate(torrent))
        case .torrentFile(let hash, let index):
            guard let torrent = await session.torrent(hash), let info = await torrent.torrentInfo,
                  index < info.files.count else { throw FUSEError.notFound }
            let file = info.files[index]
            let present = await torrent.verifiedBytes(inFile: index)
            return FileAttributes(inode: inode, kind: .file, permissions: 0o444, size: UInt64(file.length),
                                  blocks: UInt64((present + 511) / 512), modified: await torrentDate(torrent))
        case .failedShare(let hash):
            guard let torrent = await session.torrent(hash) else { throw FUSEError.notFound }
            return FileAttributes(inode: inode, kind: .file, permissions: 0o444, size: 0, modified: await torrentDate(torrent))
        case .droppedTorrent(let name):
            let size = handles.values.compactMap { handle -> Int? in
                if case .dropped(name, let bytes) = handle { return bytes.count }
                return nil
            }.first ?? 0
            return FileAttributes(inode: inode, kind: .file, permissions: 0o644, size: UInt64(size), modified: mountedAt)
        }
    }

    func torrentDate(_ torrent: Torrent) async -> timespec {
        // The same on every mount: the torrent's own date, else when it was first added.
        let seconds = await torrent.creationDate ?? torrent.addedAt
        return timespec(tv_sec: Int(seconds), tv_nsec: 0)
    }

    // MARK: directories

    func listDirectory(_ inode: UInt64) async throws -> [DirectoryEntry] {
        guard let node = inodes.node(inode) else { throw FUSEError.notFound }
        switch node {
        case .root:
            return [DirectoryEntry(name: "local", inode: 2, kind: .directory), DirectoryEntry(name: "shared", inode: 3, kind: .directory)]
        case .local:
            var entries: [DirectoryEntry] = []
            for name in try localFileNames().sorted() {
                if recordings[name] == nil { recordings[name] = Recording() }
                entries.append(await listed(name, .recording(name)))
                if recordings[name]?.torrent != nil && recordings[name]?.sharing == nil {
                    entries.append(await listed(name + ".magnet", .sidecar(name)))
                }
            }
            return entries
        case .shared:
            var entries = [DirectoryEntry(name: ".add", inode: 4, kind: .file)]
            for (name, torrent, info) in await sharedTorrents() {
                let child = Self.shareNode(torrent, info)
                if hidden.contains(child) { continue }
                entries.append(await listed(name, child))
            }
            return entries
        case .torrentFolder(let hash, let path):
            guard let info = await session.torrent(hash)?.torrentInfo else { throw FUSEError.notFound }
            var seen = Set<String>()
            var entries: [DirectoryEntry] = []
            for (index, file) in info.files.enumerated() where !file.isPadding {
                let relative = Array(file.path.dropFirst())
                guard relative.count > path.count, Array(relative.prefix(path.count)) == path else { continue }
                let name = relative[path.count]
                guard seen.insert(name).inserted else { continue }
                let child: Node = relative.count == path.count + 1 ? .torrentFile(hash, index) : .torrentFolder(hash, path + [name])
                if hidden.contains(child) || (isFolder(child) && folderIsEmpty(child, info: info)) { continue }
                entries.append(await listed(name, child))
            }
            return entries
        default:
            throw FUSEError.notDirectory
        }
    }

    /// A listing's entry with the attributes a lookup would give, so the kernel gets them
    /// with the listing; without them (the file vanished meanwhile) when they cannot be had.
    func listed(_ name: String, _ node: Node) async -> DirectoryEntry {
        let inode = inodes.inode(for: node)
        let entry = (try? await attributes(of: inode, node: node)).map { Entry(attributes: $0, timeout: entryTimeout(node)) }
        return DirectoryEntry(name: name, inode: inode, kind: isFolder(node) ? .directory : .file, entry: entry)
    }

    func isFolder(_ node: Node) -> Bool {
        if case .torrentFolder = node { return true }
        return false
    }

    /// Whether every file under a torrent folder was removed from view.
    func folderIsEmpty(_ node: Node, info: TorrentInfo) -> Bool {
        guard case .torrentFolder(let hash, let path) = node else { return false }
        for (index, file) in info.files.enumerated() where !file.isPadding {
            let relative = Array(file.path.dropFirst())
            if relative.count > path.count, Array(relative.prefix(path.count)) == path, !hidden.contains(.torrentFile(hash, index)) {
                return false
            }
        }
        return true
    }

    /// The torrents shown in `shared/`, with unique names: those whose metadata is known,
    /// and those whose metadata was refused (info nil: ``Node/failedShare(_:)``), named
    /// after their magnet's `dn` or, when that is no file name, their info hash. A second
    /// torrent with a taken name gets " (2)", in the order of their info hashes.
    func sharedTorrents() async -> [(String, Torrent, TorrentInfo?)] {
        var found: [(name: String, torrent: Torrent, info: TorrentInfo?)] = []
        for torrent in await session.allTorrents where torrent.root != configuration.localFolder {
            if let info = await torrent.torrentInfo {
                found.append((info.name, torrent, info))
            } else if await torrent.metadataFailure != nil {
                found.append((Self.fileName(await torrent.name, or: torrent.infoHash.hex), torrent, nil))
            }
        }
        found.sort { ($0.name, $0.torrent.infoHash.hex) < ($1.name, $1.torrent.infoHash.hex) }
        var taken = Set<String>()
        var result: [(String, Torrent, TorrentInfo?)] = []
        for (shown, torrent, info) in found {
            var name = shown
            var counter = 2
            while taken.contains(name) || name == ".add" {
                name = "\(shown) (\(counter))"
                counter += 1
            }
            taken.insert(name)
            result.append((name, torrent, info))
        }
        return result
    }

    /// `name` if it can be a file's name (a magnet's `dn` is any text), else `fallback`.
    static func fileName(_ name: String, or fallback: String) -> String {
        let usable = !name.isEmpty && name != "." && name != ".." && !name.contains("/") && !name.contains("\0")
            && name.utf8.count <= 255
        return usable ? name : fallback
    }

    /// The node a share in `shared/` is: its one file, its folder, or a failed share.
    static func shareNode(_ torrent: Torrent, _ info: TorrentInfo?) -> Node {
        guard let info else { return .failedShare(torrent.infoHash) }
        return info.isSingleFile ? .torrentFile(torrent.infoHash, 0) : .torrentFolder(torrent.infoHash, [])
    }

    func sharedTorrent(named name: String) async throws -> (Torrent, TorrentInfo?)? {
        for (shown, torrent, info) in await sharedTorrents() where shown == name { return (torrent, info) }
        return nil
    }
}
