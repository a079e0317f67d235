import ArgumentParser
import SystemCalls
import SystemPackage

/// `memofs pin PATH…`: a share is downloaded whole in the background and kept, for
/// listening offline. The same as `setfattr -n user.memofs.pin -v 1 PATH` on the mount,
/// which is how it reaches the daemon: no socket of its own to secure.
struct Pin: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Download shares whole in the background and keep them (for offline use).",
        discussion: """
        PATH is a file or folder under shared/ of a mounted memofs; a file of a multi-file \
        torrent pins its whole torrent. Same as: setfattr -n user.memofs.pin -v 1 PATH. \
        `memofs status` marks pinned shares.
        """)

    @Argument(help: "Shares under shared/ of a memofs mount.") var paths: [String]

    func run() throws { try PinAttribute.set(paths, pinned: true) }
}

/// `memofs unpin PATH…`: back to fetching only what is read; what was downloaded stays.
struct Unpin: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Stop downloading shares whole; what is there stays.",
        discussion: "Same as: setfattr -n user.memofs.pin -v 0 PATH.")

    @Argument(help: "Shares under shared/ of a memofs mount.") var paths: [String]

    func run() throws { try PinAttribute.set(paths, pinned: false) }
}

enum PinAttribute {
    static let name = "user.memofs.pin"

    static func set(_ paths: [String], pinned: Bool) throws {
        for path in paths {
            // Only memofs's shares and recordings have an info hash attribute: anything else
            // would take the pin attribute silently (ext4 keeps user.* attributes) and mean nothing.
            do {
                _ = try FilePath(path).extendedAttribute("user.memofs.infohash")
            } catch .noSuchFileOrDirectory {
                throw MemofsError.system(path, .noSuchFileOrDirectory)
            } catch {
                throw MemofsError("\(path): not a share of a mounted memofs (a file or folder under its shared/)")
            }
            do {
                try FilePath(path).setExtendedAttribute(name, to: Array((pinned ? "1" : "0").utf8))
            } catch .notSupported, .notSupportedOnSocket {
                throw MemofsError("\(path): a recording in local/ is complete already; only shares under shared/ can be pinned")
            } catch {
                throw MemofsError.system(path, error)
            }
            print("\(pinned ? "pinned" : "unpinned") \(path)")
        }
    }
}
