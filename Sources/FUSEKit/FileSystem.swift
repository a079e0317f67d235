#if canImport(Glibc)
import Glibc
#endif

/// What a file system served through FUSE answers. Every operation is async: the
/// adapter starts a task per request and replies when it finishes, so a read that
/// waits (for the network, say) holds no FUSE thread. A read's task is cancelled when
/// the kernel interrupts the request (Ctrl-C on the reader); it should then throw
/// `CancellationError` or `FUSEError.interrupted`.
///
/// Operations not implemented answer `ENOSYS` (or the conventional default).
public protocol FileSystem: AnyObject, Sendable {
    func lookup(parent: UInt64, name: String) async throws -> Entry
    func forget(inode: UInt64, lookups: UInt64)
    func attributes(of inode: UInt64) async throws -> FileAttributes
    func setAttributes(of inode: UInt64, _ changes: AttributeChanges) async throws -> FileAttributes
    /// The whole listing; the adapter snapshots it per open directory and pages it.
    func listDirectory(_ inode: UInt64) async throws -> [DirectoryEntry]
    func open(_ inode: UInt64, flags: Int32) async throws -> OpenedFile
    func read(_ inode: UInt64, handle: UInt64, offset: Int64, size: Int) async throws -> [UInt8]
    func write(_ inode: UInt64, handle: UInt64, offset: Int64, data: [UInt8]) async throws -> Int
    func flush(_ inode: UInt64, handle: UInt64) async throws
    func release(_ inode: UInt64, handle: UInt64) async
    func fsync(_ inode: UInt64, handle: UInt64) async throws
    func create(parent: UInt64, name: String, permissions: UInt32, flags: Int32) async throws -> (Entry, OpenedFile)
    func makeDirectory(parent: UInt64, name: String, permissions: UInt32) async throws -> Entry
    func unlink(parent: UInt64, name: String) async throws
    func removeDirectory(parent: UInt64, name: String) async throws
    func rename(parent: UInt64, name: String, newParent: UInt64, newName: String, flags: UInt32) async throws
    func extendedAttribute(of inode: UInt64, name: String) async throws -> [UInt8]
    func extendedAttributeNames(of inode: UInt64) async throws -> [String]
    func setExtendedAttribute(of inode: UInt64, name: String, value: [UInt8], flags: Int32) async throws
    func removeExtendedAttribute(of inode: UInt64, name: String) async throws
    func statistics() async throws -> statvfs
    /// The kernel unmounted the file system (umount, or the session ended).
    func unmounted()
}

extension FileSystem {
    public func forget(inode: UInt64, lookups: UInt64) {}
    public func setAttributes(of inode: UInt64, _ changes: AttributeChanges) async throws -> FileAttributes {
        throw FUSEError.notPermitted
    }
    public func open(_ inode: UInt64, flags: Int32) async throws -> OpenedFile { OpenedFile(handle: 0) }
    public func read(_ inode: UInt64, handle: UInt64, offset: Int64, size: Int) async throws -> [UInt8] {
        throw FUSEError.notImplemented
    }
    public func write(_ inode: UInt64, handle: UInt64, offset: Int64, data: [UInt8]) async throws -> Int {
        throw FUSEError.accessDenied
    }
    public func flush(_ inode: UInt64, handle: UInt64) async throws {}
    public func release(_ inode: UInt64, handle: UInt64) async {}
    public func fsync(_ inode: UInt64, handle: UInt64) async throws {}
    public func create(parent: UInt64, name: String, permissions: UInt32, flags: Int32) async throws -> (Entry, OpenedFile) {
        throw FUSEError.accessDenied
    }
    public func makeDirectory(parent: UInt64, name: String, permissions: UInt32) async throws -> Entry {
        throw FUSEError.accessDenied
    }
    public func unlink(parent: UInt64, name: String) async throws { throw FUSEError.accessDenied }
    public func removeDirectory(parent: UInt64, name: String) async throws { throw FUSEError.accessDenied }
    public func rename(parent: UInt64, name: String, newParent: UInt64, newName: String, flags: UInt32) async throws {
        throw FUSEError.accessDenied
    }
    public func extendedAttribute(of inode: UInt64, name: String) async throws -> [UInt8] { throw FUSEError.noAttribute }
    public func extendedAttributeNames(of inode: UInt64) async throws -> [String] { [] }
    public func setExtendedAttribute(of inode: UInt64, name: String, value: [UInt8], flags: Int32) async throws {
        throw FUSEError.notSupported
    }
    public func removeExtendedAttribute(of inode: UInt64, name: String) async throws { throw FUSEError.noAttribute }
    public func statistics() async throws -> statvfs {
        var result = statvfs()
        result.f_bsize = 4096
        result.f_frsize = 4096
        result.f_namemax = 255
        return result
    }
    public func unmounted() {}
}
