#if canImport(Glibc)
import Glibc
#endif
import SystemPackage

/// The descriptor calls swift-system 1.8 leaves out, wrapped as it wraps the others.
extension FileDescriptor {
    /// `fsync`.
    public func sync() throws(Errno) {
        try Errno.check(fsync(rawValue))
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
