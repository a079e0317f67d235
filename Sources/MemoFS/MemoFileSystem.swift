import Engine
import Foundation
import FUSEKit
import SystemPackage
import TorrentModel

/// The FUSE face of the tree. Reads that wait for torrent data wait here, outside the
/// tree's actor, so they hold up nothing else; they end when the data is verified, when
/// the reader is interrupted (EINTR), or after the read timeout (EIO).
public final class MemoFileSystem: FileSystem {
    public let tree: MemoTree
    let readTimeout: Duration?

    public init(tree: MemoTree, readTimeout: Duration?) {
        self.tree = tree
        self.readTimeout = readTimeout
    }

    public func lookup(parent: UInt64, name: String) async throws -> Entry {
        try await tree.lookup(parent: parent, name: name)
    }

    public func attributes(of inode: UInt64) async throws -> FileAttributes {
        try await tree.attributes(of: inode)
    }

    public func setAttributes(of inode: UInt64, _ changes: AttributeChanges) async throws -> FileAttributes {
        try await tree.setAttributes(of: inode, changes)
    }

    public func listDirectory(_ inode: UInt64) async throws -> [DirectoryEntry] {
        try await tree.listDirectory(inode)
    }

    public func open(_ inode: UInt64, flags: Int32) async throws -> OpenedFile {
        try await tree.open(inode, flags: flags)
    }

    public func read(_ inode: UInt64, handle: UInt64, offset: Int64, size: Int) async throws -> [UInt8] {
        switch try await tree.planRead(handle: handle, offset: offset, size: size) {
        case .bytes(let bytes):
            return bytes
        case .local(let descriptor):
            var buffer = [UInt8](repeating: 0, count: size)
            let count = try buffer.withUnsafeMutableBytes { try descriptor.read(fromAbsoluteOffset: offset, into: $0) }
            buffer.removeLast(size - count)
            return buffer
        case .torrent(let torrent, let index, let readahead, let reader):
            do {
                guard let readTimeout else {
                    return try await torrent.read(file: index, offset: offset, length: size, readahead: readahead, reader: reader)
                }
                return try await withThrowingTaskGroup(of: [UInt8]?.self) { group in
                    group.addTask { try await torrent.read(file: index, offset: offset, length: size, readahead: readahead, reader: reader) }
                    group.addTask {
                        try await Task.sleep(for: readTimeout)
                        return nil
                    }
                    defer { group.cancelAll() }
                    // The first to finish: the data, or nil from the timer.
                    guard case .some(.some(let bytes)) = try await group.next() else { throw FUSEError.io }
                    return bytes
                }
            } catch is CancellationError {
                throw FUSEError.interrupted
            } catch let error as FUSEError {
                throw error
            } catch {
                throw FUSEError.io
            }
        }
    }

    public func write(_ inode: UInt64, handle: UInt64, offset: Int64, data: [UInt8]) async throws -> Int {
        try await tree.write(handle: handle, offset: offset, data: data)
    }

    public func flush(_ inode: UInt64, handle: UInt64) async throws {
        try await tree.flush(handle: handle)
    }

    public func release(_ inode: UInt64, handle: UInt64) async {
        await tree.release(handle: handle)
    }

    public func create(parent: UInt64, name: String, permissions: UInt32, flags: Int32) async throws -> (Entry, OpenedFile) {
        try await tree.create(parent: parent, name: name, permissions: permissions, flags: flags)
    }

    public func unlink(parent: UInt64, name: String) async throws {
        try await tree.unlink(parent: parent, name: name)
    }

    public func removeDirectory(parent: UInt64, name: String) async throws {
        try await tree.removeDirectory(parent: parent, name: name)
    }

    public func rename(parent: UInt64, name: String, newParent: UInt64, newName: String, flags: UInt32) async throws {
        // RENAME_EXCHANGE and RENAME_NOREPLACE would need renameat2's guarantees: refused, not faked.
        guard flags == 0 else { throw FUSEError.invalid }
        try await tree.rename(parent: parent, name: name, newParent: newParent, newName: newName)
    }

    public func fsync(_ inode: UInt64, handle: UInt64) async throws {
        try await tree.fsync(handle: handle)
    }

    public func extendedAttribute(of inode: UInt64, name: String) async throws -> [UInt8] {
        try await tree.extendedAttribute(of: inode, name: name)
    }

    public func extendedAttributeNames(of inode: UInt64) async throws -> [String] {
        try await tree.extendedAttributeNames(of: inode)
    }

    public func setExtendedAttribute(of inode: UInt64, name: String, value: [UInt8], flags: Int32) async throws {
        try await tree.setExtendedAttribute(of: inode, name: name, value: value, flags: flags)
    }

    public func removeExtendedAttribute(of inode: UInt64, name: String) async throws {
        try await tree.removeExtendedAttribute(of: inode, name: name)
    }

    public func statistics() async throws -> statvfs {
        var result = statvfs()
        // Report the data folder's disk, so `df` on the mount tells the room left for recordings.
        _ = statvfs(tree.configuration.localFolder, &result)
        return result
    }
}
