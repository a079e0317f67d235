#if canImport(Glibc)
import Glibc
#endif
import SystemPackage

/// An errno to answer a FUSE request with. File systems throw it, or swift-system's `Errno`
/// as a call on a local file gave it; any other error becomes `EIO` (see `init(replyingTo:)`).
public struct FUSEError: Error, Equatable, Sendable, CustomStringConvertible {
    public let code: Int32

    public init(_ code: Int32) { self.code = code }

    public init(_ errno: Errno) { self.code = errno.rawValue }

    /// The reply to a request whose operation threw `error`: a `FUSEError` or an `Errno` as
    /// it is, a cancelled task (the kernel interrupted the request) `EINTR`, anything else
    /// `EIO`: the one place a file system's errors become errno replies.
    public init(replyingTo error: any Error) {
        switch error {
        case let error as FUSEError: self = error
        case let error as Errno: self.init(error)
        case is CancellationError: self = .interrupted
        default: self = .io
        }
    }

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

    public var description: String { Errno(rawValue: code).description }
}
