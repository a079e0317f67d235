#if canImport(Glibc)
import Glibc
#endif
import CXattr
import SystemPackage

/// The path calls swift-system 1.8 leaves out, each a thin wrapper of one C function that
/// turns its errno into a typed `Errno`, as swift-system does for the calls it has.
extension FilePath {
    /// `mkdir`.
    public func makeDirectory(permissions: FilePermissions = [.ownerReadWriteExecute, .groupReadExecute, .otherReadExecute]) throws(Errno) {
        try Errno.check(withCString { mkdir($0, permissions.rawValue) })
    }

    /// `statvfs`: the bytes an unprivileged user may still write to the file system this
    /// path is on (`f_bavail` blocks of `f_frsize`), as `df` reports them.
    public func availableBytes() throws(Errno) -> Int64 {
        var status = statvfs()
        try Errno.check(withCString { statvfs($0, &status) })
        return Int64(status.f_bavail) * Int64(status.f_frsize)
    }

    /// `rmdir`.
    public func removeDirectory() throws(Errno) {
        try Errno.check(withCString { rmdir($0) })
    }

    /// `unlink`.
    public func remove() throws(Errno) {
        try Errno.check(withCString { unlink($0) })
    }

    /// `rename`.
    public func rename(to target: FilePath) throws(Errno) {
        try Errno.check(withCString { source in target.withCString { Glibc.rename(source, $0) } })
    }

    /// `truncate`.
    public func resize(to size: Int64) throws(Errno) {
        try Errno.check(withCString { truncate($0, off_t(size)) })
    }

    /// `chmod`.
    public func setPermissions(_ permissions: FilePermissions) throws(Errno) {
        try Errno.check(withCString { chmod($0, permissions.rawValue) })
    }

    /// `utimensat`: sets the modification time and leaves the access time; nil sets both to now.
    public func setModificationTime(_ time: timespec?) throws(Errno) {
        try Errno.check(withCString { path in
            guard let time else { return utimensat(AT_FDCWD, path, nil, 0) }
            var times = [timespec(tv_sec: 0, tv_nsec: Int(memofs_utime_omit)), time]
            return utimensat(AT_FDCWD, path, &times, 0)
        })
    }

    /// The names in a folder (`opendir`, `readdir`), without `.` and `..`, in the order the
    /// file system gives them.
    public func directoryEntries() throws(Errno) -> [String] {
        guard let directory = withCString({ opendir($0) }) else { throw Errno(rawValue: Glibc.errno) }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// `getxattr`: the value of an extended attribute (at most 64 KiB, the kernel's limit).
    public func extendedAttribute(_ name: String) throws(Errno) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: 65536)
        let length = try Errno.check(withCString { path in
            buffer.withUnsafeMutableBytes { getxattr(path, name, $0.baseAddress, $0.count) }
        })
        return Array(buffer[..<length])
    }


    /// `setxattr`.
    public func setExtendedAttribute(_ name: String, to value: [UInt8], flags: Int32 = 0) throws(Errno) {
        try Errno.check(withCString { path in
            value.withUnsafeBytes { setxattr(path, name, $0.baseAddress, $0.count, flags) }
        })
    }

    /// `removexattr`.
    public func removeExtendedAttribute(_ name: String) throws(Errno) {
        try Errno.check(withCString { removexattr($0, name) })
    }
}
