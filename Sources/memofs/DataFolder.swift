import Foundation
import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

/// The data folder (`--data`): recordings, downloads, state, the log. Checked before
/// anything starts, so a folder memofs cannot use is refused with its reason rather than
/// failing later in the background, where nobody sees why.
enum DataFolder {
    /// Files memofs writes in the data folder: a file left by another user (memofs once run
    /// with sudo) makes the folder unusable although the folder itself is writable.
    static let ownFiles = ["state.sqlite", "state.sqlite-wal", "state.sqlite-shm", "memofs.log", "memofs.lock", "status.json"]

    /// Creates the folder when it is missing and returns its absolute path; refuses a file,
    /// and a folder (or a file of memofs's in it) that this user cannot read and write.
    static func prepare(_ given: String) throws -> String {
        let path = Mountpoint.resolved(given)
        let info: Stat
        do {
            info = try FilePath(path).stat()
        } catch .notDirectory {
            throw MemofsError("cannot create the data folder \(path): a part of its path is a file, not a folder. "
                              + "Give --data another folder")
        } catch .noSuchFileOrDirectory {
            do {
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            } catch {
                throw MemofsError("cannot create the data folder \(path): \(MemofsError.describe(error)). "
                                  + "Create it yourself, or give --data another folder")
            }
            return path
        } catch {
            throw problem(path, "\(error)")
        }
        guard info.type == .directory else {
            throw MemofsError("the data folder \(path) is a file, not a folder: give --data a folder (or move the file away)")
        }
        guard access(path, R_OK | W_OK | X_OK) == 0 else {
            throw problem(path, "not readable and writable for you (uid \(getuid())); it belongs to uid \(info.userID.rawValue), "
                                + "mode \(String(info.permissions.rawValue & 0o7777, radix: 8))")
        }
        for name in ownFiles {
            let file = path + "/" + name
            if access(file, F_OK) == 0, access(file, R_OK | W_OK) != 0 {
                let owner = (try? FilePath(file).stat().userID.rawValue).map(String.init) ?? "?"
                throw MemofsError("\(file) is not readable and writable for you (uid \(getuid())); it belongs to uid "
                                  + "\(owner), as if memofs ran here as another user. Give it back "
                                  + "(chown -R \(getuid()) \(path)), or give --data another folder")
            }
        }
        return path
    }

    private static func problem(_ path: String, _ reason: String) -> MemofsError {
        MemofsError("cannot use the data folder \(path): \(reason). Fix its permissions, or give --data another folder")
    }
}
