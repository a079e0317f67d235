import Foundation
import Logging
import NIOConcurrencyHelpers
import SystemCalls
import SystemPackage

/// Room kept in the data folder's file system for what must not fail when the disk fills
/// up: the state database's transactions (SQLite needs new WAL pages even to delete a row),
/// the status report, the bookkeeping of an `rm`. Without it, a data folder on a full disk
/// could not even be mounted again to remove what filled it ("database or disk is full" at
/// the first commit).
///
/// Two guards, both of the reserve's size (1 % of the file system, 256 KiB to 16 MiB):
/// downloads never write into the last of it (``ensureRoom(for:under:)``: the write fails as
/// a full disk would, and the torrent stops), and a file of that size (`space-reserve`) is
/// kept allocated, to be given back when something else filled the disk: at start, when the
/// status cannot be written, when the database finds the disk full. It is made again once
/// there is room.
public final class SpaceReserve: Sendable {
    public static let fileName = "space-reserve"
    public let path: String
    /// The reserve's size on the data folder's file system.
    public let size: Int64
    private let held = NIOLockedValueBox(false)
    let logger: Logger

    static let smallest: Int64 = 256 << 10
    static let largest: Int64 = 16 << 20

    public init(dataFolder: String, logger: Logger) {
        path = dataFolder + "/" + Self.fileName
        self.logger = logger
        var result = statvfs()
        let total = statvfs(dataFolder, &result) == 0 ? Int64(result.f_blocks) * Int64(result.f_frsize) : 0
        size = min(max(total / 100, Self.smallest), Self.largest)
    }

    /// Bytes available on the file system of `path`, or of its nearest existing folder (a
    /// torrent's folder is made with its first write); nil if none can be read.
    public static func availableBytes(under path: String) -> Int64? {
        var folder = FilePath(path)
        while !folder.isEmpty {
            if let available = try? folder.availableBytes() { return available }
            guard folder.removeLastComponent() else { break }
        }
        return nil
    }

    var availableBytes: Int64? { Self.availableBytes(under: (path as NSString).deletingLastPathComponent) }

    /// At start, before the database opens: the reserve is given back if the disk has less
    /// than it left (the database may need it now), else made if missing.
    public func prepare() {
        if FileManager.default.fileExists(atPath: path) {
            held.withLockedValue { $0 = true }
            if let available = availableBytes, available < size { release(because: "\(available >> 10) KiB available at start") }
        } else {
            restoreIfRoom()
        }
    }

    /// Refuses a download's write of `count` bytes under `folder` that would leave less than
    /// the reserve's size available, with the error a full disk gives.
    public func ensureRoom(for count: Int, under folder: String) throws {
        guard let available = Self.availableBytes(under: folder), available - Int64(count) < size else { return }
        throw StorageError(folder, "No space left on device (memofs keeps the last \(size >> 10) KiB for its database)",
                           errno: .noSpace)
    }

    /// Gives the reserve's space back to the file system. True if it was held.
    @discardableResult
    public func release(because reason: String) -> Bool {
        let wasHeld = held.withLockedValue { held in
            defer { held = false }
            return held
        }
        guard wasHeld, (try? FilePath(path).remove()) != nil else { return false }
        let kilobytes = size >> 10
        logger.warning("the disk of the data folder is full (\(reason)): released the \(kilobytes) KiB space reserve so that the state database and the status still work; it is made again when space returns")
        return true
    }

    /// Makes the reserve if it is missing and the file system has room for it twice over.
    /// True if the reserve is held afterwards.
    @discardableResult
    public func restoreIfRoom() -> Bool {
        if held.withLockedValue({ $0 }) { return true }
        guard let available = availableBytes, available >= 2 * size else { return false }
        do {
            let descriptor = try FileDescriptor.open(FilePath(path), .writeOnly, options: [.create], permissions: [.ownerReadWrite])
            defer { try? descriptor.close() }
            try descriptor.allocate(length: size)
        } catch {
            try? FilePath(path).remove()
            return false
        }
        held.withLockedValue { $0 = true }
        return true
    }
}
