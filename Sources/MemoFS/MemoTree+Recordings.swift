import CXattr
import Engine
import Foundation
import FUSEKit
import SystemCalls
import SystemPackage
import TorrentModel

/// Recordings: sharing them when written, their magnet sidecars, removing and renaming.
extension MemoTree {
    /// Hashes a recording into a torrent and seeds it, replacing the torrent of its earlier
    /// content. The sidecar appears when this is done. An empty file is not shared.
    func share(_ name: String) {
        // One share at a time per recording; a change during it is shared when it ends.
        if recordings[name]?.sharing != nil {
            recordings[name]!.dirty = true
            return
        }
        recordings[name, default: Recording()].dirty = false
        recordings[name]!.sharing = Task { await self.performShare(name) }
    }

    private func performShare(_ name: String) async {
        let old = recordings[name]?.torrent
        let path = localPath(name)
        var info = stat()
        guard stat(path, &info) == 0 else {
            recordings[name]?.sharing = nil
            return
        }
        var options = TorrentCreator.Options(
            name: name, comment: Self.descriptionAttribute(of: path), createdBy: "memofs 0.1.0",
            creationDate: Int64(time(nil)), trackers: configuration.trackers.map { [$0] })
        options.pieceLength = nil
        do {
            if let old { try await session.remove(old.infoHash, deleteFiles: false) }
            recordings[name]?.torrent = nil
            guard info.st_size > 0 else {
                recordings[name]?.lastError = "empty: nothing to share"
                recordings[name]?.sharing = nil
                return
            }
            let torrent = try await session.seed(path: path, options: options)
            recordings[name]?.torrent = torrent
            recordings[name]?.lastError = nil
            logger.info("sharing \(name) as \(torrent.infoHash)")
        } catch {
            recordings[name]?.lastError = "\(error)"
            logger.error("could not share \(name): \(error)")
        }
        recordings[name]?.sharing = nil
        // Written again while hashing: share the newer content.
        if recordings[name]?.dirty == true && recordings[name]?.writers == 0 { share(name) }
    }

    static func descriptionAttribute(of path: String) -> String? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let length = getxattr(path, "user.description", &buffer, buffer.count)
        guard length > 0 else { return nil }
        return String(decoding: buffer[..<length], as: UTF8.self)
    }

    /// The magnet link of a recording: its trackers and, when our address is known, `x.pe`.
    func magnet(of name: String) async -> MagnetLink? {
        guard let torrent = recordings[name]?.torrent else { return nil }
        var magnet = torrent.magnetLink
        if let address = configuration.advertisedAddress, let peer = PeerAddress("\(address):\(session.listenPort)") {
            magnet.peers = [peer]
        }
        return magnet
    }

    func sidecarText(_ name: String) async throws -> String {
        guard let magnet = await magnet(of: name) else { throw FUSEError.notFound }
        return magnet.uri + "\n"
    }

    // MARK: removing and renaming

    func unlink(parent: UInt64, name: String) async throws {
        guard let parentNode = inodes.node(parent) else { throw FUSEError.notFound }
        switch parentNode {
        case .local:
            if name.hasSuffix(".magnet"), recordings[String(name.dropLast(7))]?.torrent != nil { throw FUSEError.accessDenied }
            try FilePath(localPath(name)).remove()
            inodes.retire(.recording(name))
            inodes.retire(.sidecar(name))
            let recording = recordings.removeValue(forKey: name)
            await recording?.sharing?.value
            if let torrent = recording?.torrent { try? await session.remove(torrent.infoHash, deleteFiles: false) }
        case .shared:
            guard let (torrent, info) = try await sharedTorrent(named: name) else { throw FUSEError.notFound }
            // A failed share is a file with nothing on disk: `rm` removes it as any other.
            guard info?.isSingleFile ?? true else { throw FUSEError.isDirectory }
            try await session.remove(torrent.infoHash, deleteFiles: true)
            inodes.retire(.failedShare(torrent.infoHash))
        case .torrentFolder(let hash, let path):
            guard let info = await session.torrent(hash)?.torrentInfo,
                  let index = info.files.firstIndex(where: { Array($0.path.dropFirst()) == path + [name] }) else {
                throw FUSEError.notFound
            }
            // The torrent's data goes when its folder goes; until then the file is only hidden.
            hidden.insert(.torrentFile(hash, index))
        default:
            throw FUSEError.accessDenied
        }
    }

    func removeDirectory(parent: UInt64, name: String) async throws {
        guard let parentNode = inodes.node(parent) else { throw FUSEError.notFound }
        switch parentNode {
        case .shared:
            guard let (torrent, info) = try await sharedTorrent(named: name) else { throw FUSEError.notFound }
            guard let info, !info.isSingleFile else { throw FUSEError.notDirectory }
            guard folderIsEmpty(.torrentFolder(torrent.infoHash, []), info: info) else { throw FUSEError.notEmpty }
            try await session.remove(torrent.infoHash, deleteFiles: true)
        case .torrentFolder(let hash, let path):
            guard let info = await session.torrent(hash)?.torrentInfo else { throw FUSEError.notFound }
            let node = Node.torrentFolder(hash, path + [name])
            guard folderIsEmpty(node, info: info) else { throw FUSEError.notEmpty }
            hidden.insert(node)
        default:
            throw FUSEError.accessDenied
        }
    }

    /// Renaming a recording renames its file and shares it again under the new name (the
    /// name is part of the torrent, so the magnet link changes).
    func rename(parent: UInt64, name: String, newParent: UInt64, newName: String) async throws {
        guard inodes.node(parent) == .local, inodes.node(newParent) == .local else {
            throw inodes.node(parent) == .local || inodes.node(newParent) == .local ? FUSEError.crossDevice : FUSEError.accessDenied
        }
        guard !name.hasSuffix(".magnet") || recordings[String(name.dropLast(7))]?.torrent == nil,
              !newName.hasSuffix(".magnet") else { throw FUSEError.accessDenied }
        try FilePath(localPath(name)).rename(to: FilePath(localPath(newName)))
        inodes.move(.recording(name), to: .recording(newName))
        // Open handles follow the file to its new name.
        for (id, handle) in handles {
            if case .local(let descriptor, name, let writable, let wrote) = handle {
                handles[id] = .local(descriptor: descriptor, name: newName, writable: writable, wrote: wrote)
            }
        }
        let moved = recordings.removeValue(forKey: name) ?? Recording()
        await moved.sharing?.value
        if let torrent = moved.torrent { try? await session.remove(torrent.infoHash, deleteFiles: false) }
        if let replaced = recordings.removeValue(forKey: newName), let torrent = replaced.torrent {
            try? await session.remove(torrent.infoHash, deleteFiles: false)
        }
        recordings[newName] = Recording(writers: moved.writers)
        if moved.writers == 0 { share(newName) } else { recordings[newName]!.dirty = true }
    }

    // MARK: extended attributes

    static let infoHashAttribute = "user.memofs.infohash"
    static let magnetAttribute = "user.memofs.magnet"
    static let progressAttribute = "user.memofs.progress"
    /// A share's state, as `memofs status` says it (downloading, choked, failed, …).
    static let stateAttribute = "user.memofs.state"
    /// A share's last error: why it failed, or the last peer banned; only while there is one.
    static let errorAttribute = "user.memofs.error"

    func extendedAttributeNames(of inode: UInt64) async throws -> [String] {
        guard let node = inodes.node(inode) else { throw FUSEError.notFound }
        switch node {
        case .recording(let name):
            var names = Self.diskAttributeNames(localPath(name))
            if recordings[name]?.torrent != nil { names += [Self.infoHashAttribute, Self.magnetAttribute, Self.progressAttribute] }
            return names
        case .torrentFile(let hash, _), .torrentFolder(let hash, _):
            let hasError = await shareError(session.torrent(hash)) != nil
            return [Self.infoHashAttribute, Self.magnetAttribute, Self.progressAttribute, Self.pinAttribute, Self.stateAttribute]
                + (hasError ? [Self.errorAttribute] : [])
        case .failedShare:
            return [Self.infoHashAttribute, Self.magnetAttribute, Self.stateAttribute, Self.errorAttribute]
        default:
            return []
        }
    }

    func extendedAttribute(of inode: UInt64, name attribute: String) async throws -> [UInt8] {
        guard let node = inodes.node(inode) else { throw FUSEError.notFound }
        let torrent: Torrent?
        switch node {
        case .recording(let name):
            if !attribute.hasPrefix("user.memofs.") {
                return try FilePath(localPath(name)).extendedAttribute(attribute)
            }
            torrent = recordings[name]?.torrent
        case .torrentFile(let hash, _), .torrentFolder(let hash, _), .failedShare(let hash):
            torrent = await session.torrent(hash)
        default:
            torrent = nil
        }
        guard let torrent else { throw FUSEError.noAttribute }
        switch attribute {
        case Self.infoHashAttribute:
            return Array(torrent.infoHash.hex.utf8)
        case Self.stateAttribute where torrent.root != configuration.localFolder:
            let status = if let latest = torrent.latestStatus { latest } else { await torrent.status }
            return Array(ShareActivity.assess(ShareFacts(status)).state.utf8)
        case Self.errorAttribute where torrent.root != configuration.localFolder:
            guard let error = await shareError(torrent) else { throw FUSEError.noAttribute }
            return Array(error.utf8)
        case Self.pinAttribute where torrent.root != configuration.localFolder:
            return Array((await torrent.isDownloadingWhole ? "1" : "0").utf8)
        case Self.magnetAttribute:
            if case .recording(let name) = node, let magnet = await magnet(of: name) { return Array(magnet.uri.utf8) }
            return Array(torrent.magnetLink.uri.utf8)
        case Self.progressAttribute:
            if case .torrentFile(_, let index) = node, let info = await torrent.torrentInfo {
                let length = info.files[index].length
                let present = await torrent.verifiedBytes(inFile: index)
                return Array(String(format: "%.1f%%", length == 0 ? 100 : Double(present) * 100 / Double(length)).utf8)
            }
            return Array(String(format: "%.1f%%", await torrent.status.progress * 100).utf8)
        default:
            throw FUSEError.noAttribute
        }
    }

    /// Why a share failed, else its last error; nil when it has none.
    func shareError(_ torrent: Torrent?) async -> String? {
        guard let torrent else { return nil }
        if let failure = await torrent.metadataFailure { return failure }
        return await torrent.lastError
    }

    func setExtendedAttribute(of inode: UInt64, name attribute: String, value: [UInt8], flags: Int32) async throws {
        if attribute == Self.pinAttribute { return try await setPin(of: inode, value: value) }
        guard case .recording(let name)? = inodes.node(inode), attribute.hasPrefix("user."),
              !attribute.hasPrefix("user.memofs.") else { throw FUSEError.notSupported }
        try FilePath(localPath(name)).setExtendedAttribute(attribute, to: value, flags: flags)
    }

    func removeExtendedAttribute(of inode: UInt64, name attribute: String) async throws {
        if attribute == Self.pinAttribute { return try await setPin(of: inode, value: Array("0".utf8)) }
        guard case .recording(let name)? = inodes.node(inode), !attribute.hasPrefix("user.memofs.") else {
            throw FUSEError.noAttribute
        }
        try FilePath(localPath(name)).removeExtendedAttribute(attribute)
    }

    static func diskAttributeNames(_ path: String) -> [String] {
        var buffer = [CChar](repeating: 0, count: 65536)
        let length = listxattr(path, &buffer, buffer.count)
        guard length > 0 else { return [] }
        return buffer[..<length].split(separator: 0).map { String(decoding: $0.map { UInt8(bitPattern: $0) }, as: UTF8.self) }
    }
}
