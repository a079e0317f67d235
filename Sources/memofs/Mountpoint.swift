import Foundation
import SystemCalls
import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

/// The folder to mount on, and why memofs may refuse it. Checked by the command before it
/// goes to the background (so the refusal reaches the terminal) and again by the daemon.
enum Mountpoint {
    /// The absolute path the kernel will list the mount under, with the refusals:
    /// a mountpoint already mounted, missing, not a folder, or not empty (unless `nonempty`).
    static func check(_ given: String, allowNonEmpty: Bool) throws -> String {
        let path = resolved(given)
        if let mounted = MountTable.current().entry(at: path) {
            let what = mounted.fsType == "fuse.memofs" ? "memofs (data folder \(mounted.source))"
                : "\(mounted.fsType) from \(mounted.source)"
            throw MemofsError("\(path) is already mounted: \(what) is there. Unmount it first "
                              + "(umount \(path), or fusermount3 -u \(path)), or mount somewhere else")
        }
        let names: [String]
        do {
            names = try FilePath(path).directoryEntries()
        } catch .noSuchFileOrDirectory {
            throw MemofsError("the mountpoint \(path) does not exist: create it (mkdir -p \(path))")
        } catch .notDirectory {
            throw MemofsError("the mountpoint \(path) is not a folder: mount on an empty folder")
        } catch {
            throw MemofsError("the mountpoint \(path) cannot be opened: \(error)")
        }
        if !allowNonEmpty && !names.isEmpty {
            let shown = names.sorted().prefix(3).joined(separator: ", ") + (names.count > 3 ? ", …" : "")
            throw MemofsError("the mountpoint \(path) is not empty (\(shown)): the mount would hide what is there. "
                              + "Mount on an empty folder, or pass --nonempty (-o nonempty) to mount over it anyway")
        }
        return path
    }

    /// `given` made absolute and free of `.`, `..` and symbolic links, without touching
    /// the last component unless it is a link: if something hangs mounted there, looking
    /// into it would hang too.
    static func resolved(_ given: String) -> String {
        let expanded = (given as NSString).expandingTildeInPath
        let absolute = expanded.hasPrefix("/") ? expanded : FileManager.default.currentDirectoryPath + "/" + expanded
        var components: [Substring] = []
        for component in absolute.split(separator: "/") where component != "." {
            if component == ".." { _ = components.popLast() } else { components.append(component) }
        }
        guard let last = components.popLast() else { return "/" }
        let parent = "/" + components.joined(separator: "/")
        let realParent = realPath(parent) ?? parent
        let path = (realParent == "/" ? "" : realParent) + "/" + last
        // readlink answers from the link itself; on a folder (or a mount) it fails with EINVAL.
        var target = [CChar](repeating: 0, count: 8)
        if readlink(path, &target, target.count) >= 0, let linked = realPath(path) { return linked }
        return path
    }

    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
