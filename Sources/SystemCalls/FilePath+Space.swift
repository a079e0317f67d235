#if canImport(Glibc)
import Glibc
#endif
import SystemPackage

extension FilePath {
    /// Bytes an unprivileged writer may still use on this path's file system (`statvfs`:
    /// available blocks times the fragment size), so what `df` shows as available.
    public func availableSpace() throws(Errno) -> Int64 {
        var result = statvfs()
        try Errno.check(withCString { statvfs($0, &result) })
        return Int64(result.f_bavail) * Int64(result.f_frsize)
    }
}

extension FileDescriptor {
    /// Allocates bytes `[offset, offset + length)` of the file for real (`posix_fallocate`):
    /// writes there can no longer fail for want of space, and the space is taken now.
    public func allocate(offset: Int64 = 0, length: Int64) throws(Errno) {
        // Returns the error number itself rather than setting errno.
        let result = posix_fallocate(rawValue, off_t(offset), off_t(length))
        guard result == 0 else { throw Errno(rawValue: result) }
    }
}
