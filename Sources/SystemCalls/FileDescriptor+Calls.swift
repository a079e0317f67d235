#if canImport(Glibc)
import Glibc
#endif
import CXattr
import SystemPackage

/// The descriptor calls swift-system 1.8 leaves out, wrapped as it wraps the others.
extension FileDescriptor {
    /// `fsync`.
    public func sync() throws(Errno) {
        try Errno.check(fsync(rawValue))
    }

    /// `fallocate(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE)`: frees the blocks of the range
    /// (zeroing what part of a block it covers), the file's size unchanged. ext4, XFS, btrfs
    /// and tmpfs support it; others throw EOPNOTSUPP.
    public func punchHole(at offset: Int64, length: Int64) throws(Errno) {
        while true {
            if memofs_punch_hole(rawValue, offset, length) == 0 { return }
            let error = Errno(rawValue: Glibc.errno)
            if error != .interrupted { throw error }
        }
    }

    /// Allocates bytes `[offset, offset + length)` of the file for real (`posix_fallocate`):
    /// writes there can no longer fail for want of space, and the space is taken now.
    public func allocate(offset: Int64 = 0, length: Int64) throws(Errno) {
        // Returns the error number itself rather than setting errno.
        let result = posix_fallocate(rawValue, off_t(offset), off_t(length))
        guard result == 0 else { throw Errno(rawValue: result) }
    }

    /// `flock(LOCK_EX | LOCK_NB)`: true when this descriptor now holds the exclusive lock,
    /// false when another holds it.
    public func tryLockExclusively() throws(Errno) -> Bool {
        guard flock(rawValue, LOCK_EX | LOCK_NB) != 0 else { return true }
        let error = Errno(rawValue: Glibc.errno)
        if error == .wouldBlock { return false }
        throw error
    }

    /// Reads from `offset` until `buffer` is full or the file ends; the count read, short
    /// only at the end of the file. (`read(fromAbsoluteOffset:into:)` may return less than
    /// asked before the end; it retries EINTR itself.)
    /// Throws `Errno`.
    public func readFully(fromAbsoluteOffset offset: Int64, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var done = 0
        while done < buffer.count {
            let got = try read(fromAbsoluteOffset: offset + Int64(done), into: UnsafeMutableRawBufferPointer(rebasing: buffer[done...]))
            if got == 0 { break }
            done += got
        }
        return done
    }
}
