#if canImport(Glibc)
import Glibc
#endif
import SystemPackage

extension Errno {
    /// The result of a C call that returns -1 and sets `errno` when it fails, or that error.
    /// For the calls swift-system does not wrap: the one place besides swift-system where
    /// memofs reads the global `errno`, right after the call that set it.
    @discardableResult
    public static func check<Result: SignedInteger>(_ result: Result) throws(Errno) -> Result {
        guard result == -1 else { return result }
        throw Errno(rawValue: Glibc.errno)
    }
}
