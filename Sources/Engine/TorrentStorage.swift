#if canImport(Glibc)
import Glibc
#endif
import NIOConcurrencyHelpers
import SystemCalls
import SystemPackage
import TorrentModel

/// Why a storage operation failed, with the file and the system's reason.
public struct StorageError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let reason: String
    /// The system's error, when the system gave the reason.
    public let errno: Errno?
    public var description: String { "\(path): \(reason)" }

    init(_ path: String, _ reason: String) {
        self.path = path
        self.reason = reason
        self.errno = nil
    }

    init(_ path: String, _ errno: Errno) {
        self.path = path
        self.reason = errno.description
        self.errno = errno
    }

    init(_ path: String, _ reason: String, errno: Errno) {
        self.path = path
        self.reason = reason
        self.errno = errno
    }

    /// Runs a system call on `path`, its `Errno` becoming a storage error that names the path.
    @discardableResult
    static func naming<T>(_ path: String, _ call: () throws -> T) throws -> T {
        do {
            return try call()
        } catch let error as Errno {
            throw StorageError(path, error)
        }
    }

    /// The disk (or the user's quota on it) is full: `memofs status` says so, not just "error".
    public var isDiskFull: Bool { errno == .noSpace || errno == .diskQuotaExceeded }
}

/// A torrent's bytes on disk, in files laid out as the torrent lays them out
/// (`root/name` for a single file, `root/name/…` for a folder), so a finished
/// download is usable by any program and a local recording is seeded in place.
///
/// Files are created sparse at their full length on first write. Reads and writes use
/// swift-system's pread/pwrite (which retry EINTR) on descriptors kept open, and are
/// blocking: callers run them on a thread pool, never on an event loop. Padding files
/// (BEP 47) are never created: their bytes are zeros.
public final class TorrentStorage: PieceStore, @unchecked Sendable {
    public let root: String
    public let info: TorrentInfo
    private let openFiles = OpenFiles()
    /// Downloads keep the reserve's room free (see ``SpaceReserve``); nil for storage only read.
    private let reserve: SpaceReserve?

    public init(root: String, info: TorrentInfo, reserve: SpaceReserve? = nil) {
        self.root = root
        self.info = info
        self.reserve = reserve
    }

    deinit { openFiles.closeAll() }

    public func path(of file: TorrentFile) -> String {
        root + "/" + file.path.joined(separator: "/")
    }

    /// Reads `length` bytes at `offset` of the torrent's byte stream. Missing files
    /// or bytes past a file's end read as an error, never as made-up data.
    public func read(at offset: Int64, length: Int) throws -> [UInt8] {
        var output = [UInt8](repeating: 0, count: length)
        try output.withUnsafeMutableBytes { buffer in
            try forEachSpan(offset: offset, length: length) { file, fileOffset, bufferOffset, count in
                if file.isPadding { return }  // already zero
                let filePath = path(of: file)
                try openFiles.withDescriptor(for: filePath, writable: false) { descriptor in
                    let span = UnsafeMutableRawBufferPointer(rebasing: buffer[bufferOffset..<(bufferOffset + count)])
                    let got = try StorageError.naming(filePath) {
                        try descriptor.readFully(fromAbsoluteOffset: fileOffset, into: span)
                    }
                    if got < count { throw StorageError(filePath, "the file is shorter than the torrent says") }
                }
            }
        }
        return output
    }

    /// Writes bytes at `offset` of the torrent's byte stream, creating folders and files as needed.
    public func write(_ bytes: [UInt8], at offset: Int64) throws {
        try bytes.withUnsafeBytes { buffer in
            try forEachSpan(offset: offset, length: bytes.count) { file, fileOffset, bufferOffset, count in
                if file.isPadding { return }
                let filePath = path(of: file)
                try openFiles.withDescriptor(for: filePath, writable: true, size: file.length) { descriptor in
                    let span = UnsafeRawBufferPointer(rebasing: buffer[bufferOffset..<(bufferOffset + count)])
                    try StorageError.naming(filePath) { try descriptor.writeAll(toAbsoluteOffset: fileOffset, span) }
                }
            }
        }
    }

    /// Creates the torrent's empty files, which no piece covers and so no write would create.
    public func createEmptyFiles() throws {
        for file in info.files where file.length == 0 && !file.isPadding {
            try openFiles.withDescriptor(for: path(of: file), writable: true) { _ in }
        }
    }

    public func writePiece(_ piece: Int, _ bytes: [UInt8]) throws {
        try reserve?.ensureRoom(for: bytes.count, under: root)
        try write(bytes, at: Int64(piece) * Int64(info.pieceLength))
    }

    /// Punches a hole over the piece's bytes in each of its files (`fallocate`
    /// PUNCH_HOLE | KEEP_SIZE): the file system frees the blocks wholly inside it and zeroes
    /// the rest of the range, so the disk space is given back for real and the neighbouring
    /// pieces' bytes are untouched. A file that is not there has nothing to give back.
    public func discardPiece(_ piece: Int) throws {
        try forEachSpan(offset: Int64(piece) * Int64(info.pieceLength), length: info.length(ofPiece: piece)) { file, fileOffset, _, count in
            if file.isPadding { return }
            let filePath = path(of: file)
            guard (try? FilePath(filePath).stat()) != nil else { return }
            try openFiles.withDescriptor(for: filePath, writable: true, size: file.length) { descriptor in
                try StorageError.naming(filePath) { try descriptor.punchHole(at: fileOffset, length: Int64(count)) }
            }
        }
    }

    /// Size and modification time of each file, nil where it does not exist: how a
    /// restart tells whether files changed behind memofs's back.
    public func fileStamps() -> [FileStamp?] {
        fileStamps(of: Array(info.files.indices))
    }

    /// Stamps of some files only, so recording a piece does not stat every file of a big torrent.
    public func fileStamps(of files: [Int]) -> [FileStamp?] {
        files.map { index in
            let file = info.files[index]
            if file.isPadding { return FileStamp(size: file.length, modifiedNanoseconds: 0) }
            guard let status = try? FilePath(path(of: file)).stat() else { return nil }
            return FileStamp(size: status.size,
                             modifiedNanoseconds: Int64(status.st_mtim.tv_sec) * 1_000_000_000 + Int64(status.st_mtim.tv_nsec))
        }
    }

    public func filePath(of file: TorrentFile) -> String? { path(of: file) }

    /// Closes every open descriptor (before files are removed or replaced).
    public func close() { openFiles.closeAll() }

    /// Removes the torrent's files and the folders it made under `root`. What is already
    /// gone, or a folder holding files of the user's, is left as it is.
    public func removeFiles() {
        close()
        for file in info.files where !file.isPadding { try? FilePath(path(of: file)).remove() }
        if !info.isSingleFile {
            var folders = Set<String>()
            for file in info.files {
                for depth in 1..<file.path.count { folders.insert(file.path[..<depth].joined(separator: "/")) }
            }
            for folder in folders.sorted(by: { $0.count > $1.count }) { try? FilePath(root + "/" + folder).removeDirectory() }
        }
    }

    /// Calls `body` for each file span the range covers: (file, offset in file, offset in the range, length).
    private func forEachSpan(offset: Int64, length: Int,
                             _ body: (TorrentFile, Int64, Int, Int) throws -> Void) throws {
        guard offset >= 0, length >= 0, offset + Int64(length) <= info.totalLength else {
            throw StorageError(root, "range \(offset)+\(length) is outside the torrent (\(info.totalLength) bytes)")
        }
        var remaining = length
        var position = offset
        // Binary search for the first file that ends after `offset`.
        var low = 0, high = info.files.count - 1
        while low < high {
            let middle = (low + high) / 2
            if info.files[middle].offset + info.files[middle].length <= position { low = middle + 1 } else { high = middle }
        }
        var index = low
        while remaining > 0 && index < info.files.count {
            let file = info.files[index]
            let fileEnd = file.offset + file.length
            if fileEnd > position {
                let count = Int(min(Int64(remaining), fileEnd - position))
                try body(file, position - file.offset, length - remaining, count)
                remaining -= count
                position += Int64(count)
            }
            index += 1
        }
    }
}

public struct FileStamp: Equatable, Sendable, Codable {
    public let size: Int64
    public let modifiedNanoseconds: Int64
}

/// Open file descriptors by path, behind a lock (reads and writes come from pool threads).
///
/// A descriptor is closed only when no read or write is using it: one closed under a
/// `pread` could be reused by another file first, and the read would return its bytes.
final class OpenFiles: @unchecked Sendable {
    private var readable: [String: FileDescriptor] = [:]
    private var writable: [String: FileDescriptor] = [:]
    private let mutex = NIOLock()
    private var isClosed = false
    /// Reads and writes using a descriptor now, and descriptors to close once there are none.
    private var users = 0
    private var toClose: [FileDescriptor] = []

    /// Runs `body` with the file's descriptor, kept open until it returns.
    func withDescriptor<T>(for path: String, writable wantWrite: Bool, size: Int64 = 0,
                           _ body: (FileDescriptor) throws -> T) throws -> T {
        let descriptor: FileDescriptor = try mutex.withLock {
            let descriptor = try self.descriptor(for: path, writable: wantWrite, size: size)
            users += 1
            return descriptor
        }
        defer {
            let closing: [FileDescriptor] = mutex.withLock {
                users -= 1
                guard users == 0 else { return [] }
                defer { toClose = [] }
                return toClose
            }
            for old in closing { try? old.close() }
        }
        return try body(descriptor)
    }

    /// Opens the file if need be; under `mutex`.
    private func descriptor(for path: String, writable wantWrite: Bool, size: Int64) throws -> FileDescriptor {
        // Closed for good: a verification finishing after its torrent was removed must not
        // recreate the files.
        guard !isClosed else { throw StorageError(path, "the torrent's storage is closed") }
        if let descriptor = writable[path] { return descriptor }
        if !wantWrite, let descriptor = readable[path] { return descriptor }
        if wantWrite {
            try makeParentFolders(of: path)
            let descriptor = try StorageError.naming(path) {
                try FileDescriptor.open(path, .readWrite, options: [.create, .closeOnExec],
                                        permissions: [.ownerReadWrite, .groupRead, .otherRead])
            }
            do {
                // Sparse: the length is set, no blocks are allocated until written.
                if try descriptor.stat().size < size { try descriptor.resize(to: size) }
            } catch let error as Errno {
                try? descriptor.close()
                throw StorageError(path, error)
            }
            if let old = readable.removeValue(forKey: path) { retire(old) }
            writable[path] = descriptor
            return descriptor
        }
        let descriptor = try StorageError.naming(path) { try FileDescriptor.open(path, .readOnly, options: .closeOnExec) }
        readable[path] = descriptor
        return descriptor
    }

    func closeAll() {
        mutex.withLock {
            isClosed = true
            for descriptor in readable.values { retire(descriptor) }
            for descriptor in writable.values { retire(descriptor) }
            readable = [:]
            writable = [:]
        }
    }

    /// Closes a descriptor now if nothing uses one, else when the last user is done; under `mutex`.
    private func retire(_ descriptor: FileDescriptor) {
        if users == 0 { try? descriptor.close() } else { toClose.append(descriptor) }
    }

    private func makeParentFolders(of path: String) throws {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/").dropLast() {
            prefix += "/" + component
            do {
                try FilePath(prefix).makeDirectory()
            } catch .fileExists {
                continue
            } catch {
                throw StorageError(prefix, error)
            }
        }
    }
}
