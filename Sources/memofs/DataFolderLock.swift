import Foundation
import SystemCalls
import SystemPackage

/// `<data>/memofs.lock`: one memofs at a time per data folder, since two would write the
/// same state database, log and status report.
///
/// The holder keeps the file open with an exclusive `flock` for as long as it runs, and
/// writes its pid and what it does into it, so a refusal can name both. The kernel lets
/// go of the lock when the holder dies, however it dies: a file left by a crash is just
/// taken over and overwritten.
final class DataFolderLock: @unchecked Sendable {
    private var descriptor: FileDescriptor?

    private init(descriptor: FileDescriptor) {
        self.descriptor = descriptor
    }

    deinit { release() }

    /// Takes the lock for this process and writes `what` (the mountpoint, or the command)
    /// into it; refuses, naming the holder, when another memofs has it.
    static func acquire(dataFolder: String, mountpoint: String? = nil, command: String) throws -> DataFolderLock {
        let lock = try DataFolderLock(descriptor: open(dataFolder))
        try lock.take(dataFolder: dataFolder)
        var record = "pid=\(getpid())\ncommand=\(command)\n"
        if let mountpoint { record += "mountpoint=\(mountpoint)\n" }
        try MemofsError.naming(path(dataFolder)) {
            try lock.descriptor?.resize(to: 0)
            try lock.descriptor?.writeAll(toAbsoluteOffset: 0, Array(record.utf8))
        }
        return lock
    }

    /// Refuses as `acquire` would, but holds nothing: the check a command makes before it
    /// starts the daemon that takes the lock.
    static func checkFree(dataFolder: String) throws {
        let lock = try DataFolderLock(descriptor: open(dataFolder))
        try lock.take(dataFolder: dataFolder)
        lock.release()
    }

    func release() {
        try? descriptor?.close()  // closing the last descriptor of the file releases the flock
        descriptor = nil
    }

    static func path(_ dataFolder: String) -> String { dataFolder + "/memofs.lock" }

    /// Close-on-exec, so no child (fusermount3) inherits the lock and keeps it past our end.
    private static func open(_ dataFolder: String) throws -> FileDescriptor {
        try MemofsError.naming(path(dataFolder)) {
            try FileDescriptor.open(path(dataFolder), .readWrite, options: [.create, .closeOnExec],
                                    permissions: [.ownerReadWrite, .groupRead, .otherRead])
        }
    }

    private func take(dataFolder: String) throws {
        guard let descriptor else { return }
        guard !(try MemofsError.naming(Self.path(dataFolder)) { try descriptor.tryLockExclusively() }) else { return }
        let holder = Self.holder(descriptor)
        release()
        let command = holder["command"].flatMap { $0 == "mount" ? nil : $0 }
        let who = "memofs" + (command.map { " " + $0 } ?? "") + (holder["pid"].map { " (pid \($0))" } ?? "")
        if let mountpoint = holder["mountpoint"] {
            throw MemofsError("the data folder \(dataFolder) is in use: \(who) has it mounted on \(mountpoint). "
                              + "Unmount that first (umount \(mountpoint)), or give this one another data folder (--data DIR)")
        }
        throw MemofsError("the data folder \(dataFolder) is in use by \(who). "
                          + "Stop it first, or give this one another data folder (--data DIR)")
    }

    /// What the holder wrote: `key=value` lines.
    private static func holder(_ descriptor: FileDescriptor) -> [String: String] {
        var buffer = [UInt8](repeating: 0, count: 4096)
        guard let count = try? buffer.withUnsafeMutableBytes({ try descriptor.read(fromAbsoluteOffset: 0, into: $0) }),
              count > 0 else { return [:] }
        var fields: [String: String] = [:]
        for line in String(decoding: buffer[0..<count], as: UTF8.self).split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2 { fields[parts[0]] = parts[1] }
        }
        return fields
    }
}
