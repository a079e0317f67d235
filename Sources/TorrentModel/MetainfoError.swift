import Bencode
import SystemPackage

/// Why a torrent was refused. Each case says what is wrong in words a user can act on.
public enum MetainfoError: Error, Equatable, Sendable, CustomStringConvertible {
    case notBencode(BencodeError)
    case missingField(String)
    case wrongType(field: String, expected: String)
    case invalidValue(field: String, reason: String)
    case unsafePath(file: String, reason: String)
    case inconsistent(String)
    case tooLarge(String)
    case io(path: String, reason: String)

    public var description: String {
        switch self {
        case .notBencode(let error): "not a torrent: \(error)"
        case .missingField(let field): "torrent has no '\(field)'"
        case .wrongType(let field, let expected): "torrent field '\(field)' is not \(expected)"
        case .invalidValue(let field, let reason): "torrent field '\(field)' is invalid: \(reason)"
        case .unsafePath(let file, let reason): "unsafe file name \(file) in torrent: \(reason)"
        case .inconsistent(let reason): "torrent is inconsistent: \(reason)"
        case .tooLarge(let reason): "torrent is too large: \(reason)"
        case .io(let path, let reason): "\(path): \(reason)"
        }
    }
}

extension MetainfoError {
    /// Runs a system call on `path`; its `Errno` becomes `.io` naming the path
    /// (`path: No such file or directory`).
    @discardableResult
    static func naming<T>(_ path: String, _ call: () throws -> T) throws -> T {
        do {
            return try call()
        } catch let error as Errno {
            throw MetainfoError.io(path: path, reason: error.description)
        }
    }
}
