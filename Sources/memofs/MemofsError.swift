import Engine
import Foundation
import SystemPackage

/// A runtime failure of a command: printed as `memofs: <description>` with exit status 1
/// and no usage line, because nothing was wrong with how the command was typed.
/// (Mistakes in the command line are `ValidationError`s, found while parsing: those print
/// a usage line and exit with 64.)
struct MemofsError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }

    /// `path: reason` for a failed system call.
    static func system(_ path: String, _ errno: Errno) -> MemofsError {
        MemofsError("\(path): \(errno)")
    }

    /// Runs system calls on `path`; an `Errno` they throw becomes `path: reason`.
    @discardableResult
    static func naming<T>(_ path: String, _ calls: () throws -> T) throws -> T {
        do {
            return try calls()
        } catch let error as Errno {
            throw system(path, error)
        }
    }

    /// What any error thrown by a command means, in words: our own errors as they are,
    /// Foundation's without their domain and code, a taken port with the way out.
    static func describe(_ error: Error) -> String {
        switch error {
        case let error as MemofsError:
            return error.description
        case let error as PortInUse:
            let flag = error.use == .peers ? "--port" : "--dht-port"
            return "\(error.description): stop what holds it or choose another port (\(flag) 0 picks a free one)"
        case let error as DecodingError:
            return "unreadable JSON: \(decodingProblem(error))"
        default:
            break
        }
        let nsError = error as NSError
        guard nsError.domain == NSCocoaErrorDomain || nsError.domain == NSPOSIXErrorDomain else {
            return String(describing: error)
        }
        let path = nsError.userInfo[NSFilePathErrorKey] as? String
            ?? (nsError.userInfo[NSURLErrorKey] as? URL)?.path
        let reason = foundationReason(nsError)
        return path.map { "\($0): \(reason)" } ?? reason
    }

    /// The plain reason behind a Foundation file error: errno when it carries one.
    private static func foundationReason(_ error: NSError) -> String {
        if error.domain == NSPOSIXErrorDomain { return Errno(rawValue: Int32(error.code)).description }
        if let underlying = error.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return Errno(rawValue: Int32(underlying.code)).description
        }
        switch CocoaError.Code(rawValue: error.code) {
        case .fileNoSuchFile, .fileReadNoSuchFile: return Errno.noSuchFileOrDirectory.description
        case .fileReadNoPermission, .fileWriteNoPermission: return Errno.permissionDenied.description
        case .fileWriteFileExists: return "a file is in the way (a folder was expected)"
        case .fileWriteOutOfSpace: return Errno.noSpace.description
        case .fileWriteVolumeReadOnly: return Errno.readOnlyFileSystem.description
        case .fileReadCorruptFile: return "the file's content is not what was expected"
        default: return error.localizedDescription
        }
    }

    private static func decodingProblem(_ error: DecodingError) -> String {
        switch error {
        case .dataCorrupted(let context), .keyNotFound(_, let context), .typeMismatch(_, let context),
             .valueNotFound(_, let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return path.isEmpty ? context.debugDescription : "\(path): \(context.debugDescription)"
        @unknown default:
            return String(describing: error)
        }
    }
}
