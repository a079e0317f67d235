#if canImport(Glibc)
import Glibc
#endif

/// An errno to answer a FUSE request with. File systems throw it; any other error becomes `EIO`.
public struct FUSEError: Error, Equatable, Sendable, CustomStringConvertible {
    public let code: Int32

    public init(_ code: Int32) { self.code = code }

    public static let notFound = FUSEError(ENOENT)
    public static let exists = FUSEError(EEXIST)
    public static let notPermitted = FUSEError(EPERM)
    public static let accessDenied = FUSEError(EACCES)
    public static let invalid = FUSEError(EINVAL)
    public static let io = FUSEError(EIO)
    public static let interrupted = FUSEError(EINTR)
    public static let notDirectory = FUSEError(ENOTDIR)
    public static let isDirectory = FUSEError(EISDIR)
    public static let notEmpty = FUSEError(ENOTEMPTY)
    public static let notSupported = FUSEError(ENOTSUP)
    public static let noAttribute = FUSEError(ENODATA)
    public static let range = FUSEError(ERANGE)
    public static let readOnly = FUSEError(EROFS)
    public static let notImplemented = FUSEError(ENOSYS)
    public static let badHandle = FUSEError(EBADF)
    public static let noSpace = FUSEError(ENOSPC)
    public static let nameTooLong = FUSEError(ENAMETOOLONG)
    public static let busy = FUSEError(EBUSY)
    public static let crossDevice = FUSEError(EXDEV)

    public var description: String { String(cString: strerror(code)) }
}
