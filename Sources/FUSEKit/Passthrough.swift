import CFuse
import Glibc
import NIOConcurrencyHelpers

/// FUSE passthrough: an open file whose bytes already sit in a file on disk is handed to the
/// kernel as that file, so reads (and mmap) go straight to it, at the speed of the disk file,
/// without a round trip through this process or a second copy in the page cache.
///
/// The kernel has it since Linux 6.9 (protocol 7.40), but libfuse 3.14 predates it and
/// cannot negotiate it. So the session's raw I/O is wrapped (`fuse_session_custom_io`):
/// - the INIT request shows whether the kernel offers `FUSE_PASSTHROUGH`; if it does, the
///   INIT reply libfuse writes is amended to accept it (flag plus `max_stack_depth` 1);
/// - an OPEN reply for a file the file system gave a backing file for carries
///   `FOPEN_PASSTHROUGH` and the backing id from the `FUSE_DEV_IOC_BACKING_OPEN` ioctl.
///
/// The kernel's rules, which this class keeps:
/// - while any open file of an inode is in passthrough, every new open of it must be too,
///   through the same backing file (so there is one backing id per inode);
/// - while an inode is open in the page-cached mode, it cannot be opened in passthrough.
/// Opens that would break them fall back (cached) or, when no fallback exists, fail with EBUSY.
/// Without the kernel's offer, or when the ioctl is refused (it needs CAP_SYS_ADMIN), every
/// open is served as before.
final class Passthrough: @unchecked Sendable {
    /// What an open became, to undo at release.
    enum Mode { case cached, uncached, passthrough }

    /// What to answer an open with.
    enum Decision: Equatable { case passthrough(backingID: Int32), cached, uncached, busy }

    private struct InodeIO {
        var cachedOpens = 0
        var passthroughOpens = 0
        var backingID: Int32?
    }

    private struct HandleKey: Hashable {
        let inode: UInt64
        let handle: UInt64
    }

    private let lock = NIOLock()
    private let wanted: Bool
    private var initUnique: UInt64?
    private var offered = false
    private var enabled = false
    private var inodes: [UInt64: InodeIO] = [:]
    private var openModes: [HandleKey: [Mode]] = [:]
    /// The open reply each thread is about to write, set just around `fuse_reply_open`
    /// (which writes synchronously on the calling thread).
    private var pendingReplies: [pthread_t: (handle: UInt64, backingID: Int32)] = [:]
    /// The /dev/fuse descriptor, for the backing ioctls.
    var device: Int32 = -1
    /// Told once the INIT reply is written whether passthrough is on.
    var negotiated: (@Sendable (Bool) -> Void)? {
        get { lock.withLock { negotiatedHandler } }
        set { lock.withLock { negotiatedHandler = newValue } }
    }
    private var negotiatedHandler: (@Sendable (Bool) -> Void)?

    /// Registers a backing file with the connection (an id, or a negative errno) and drops one.
    struct BackingFiles: Sendable {
        var register: @Sendable (_ device: Int32, _ file: Int32) -> Int32
        var unregister: @Sendable (_ device: Int32, _ id: Int32) -> Void

        /// The kernel's ioctls on /dev/fuse.
        static let kernel = BackingFiles(register: { memofs_backing_open($0, $1) },
                                         unregister: { _ = memofs_backing_close($0, $1) })
    }

    private let backingFiles: BackingFiles

    init(wanted: Bool, backingFiles: BackingFiles = .kernel) {
        self.wanted = wanted
        self.backingFiles = backingFiles
    }

    var isEnabled: Bool { lock.withLock { enabled } }

    /// Decides how to serve an open the file system answered; takes ownership of `backingFile`.
    func decide(inode: UInt64, handle: UInt64, directIO: Bool, backingFile: Int32?) -> Decision {
        defer { if let backingFile { close(backingFile) } }
        return lock.withLock {
            var io = inodes[inode] ?? InodeIO()
            defer { inodes[inode] = io.cachedOpens == 0 && io.passthroughOpens == 0 ? nil : io }
            if enabled, let backingFile, io.cachedOpens == 0 {
                var id = io.backingID
                if id == nil {
                    let registered = backingFiles.register(device, backingFile)
                    if registered >= 0 { id = registered }
                }
                if let id {
                    io.backingID = id
                    io.passthroughOpens += 1
                    openModes[HandleKey(inode: inode, handle: handle), default: []].append(.passthrough)
                    return .passthrough(backingID: id)
                }
            }
            // The kernel refuses any other kind of open while the inode is in passthrough.
            if io.passthroughOpens > 0 { return .busy }
            if directIO {
                openModes[HandleKey(inode: inode, handle: handle), default: []].append(.uncached)
                return .uncached
            }
            io.cachedOpens += 1
            openModes[HandleKey(inode: inode, handle: handle), default: []].append(.cached)
            return .cached
        }
    }

    /// An open file was released (or its open reply never reached the kernel).
    func released(inode: UInt64, handle: UInt64) {
        lock.withLock {
            let key = HandleKey(inode: inode, handle: handle)
            guard let mode = openModes[key]?.popLast() else { return }
            if openModes[key]?.isEmpty == true { openModes[key] = nil }
            guard var io = inodes[inode] else { return }
            switch mode {
            case .cached: io.cachedOpens -= 1
            case .uncached: break
            case .passthrough:
                io.passthroughOpens -= 1
                if io.passthroughOpens == 0, let id = io.backingID {
                    backingFiles.unregister(device, id)
                    io.backingID = nil
                }
            }
            inodes[inode] = io.cachedOpens == 0 && io.passthroughOpens == 0 ? nil : io
        }
    }

    /// Runs `reply` (which writes an open reply on this thread) with the passthrough fields
    /// to put into that reply.
    func withPendingReply<T>(handle: UInt64, backingID: Int32, _ reply: () -> T) -> T {
        let thread = pthread_self()
        lock.withLock { pendingReplies[thread] = (handle, backingID) }
        defer { lock.withLock { _ = pendingReplies.removeValue(forKey: thread) } }
        return reply()
    }

    // MARK: The session's raw I/O

    /// Notes the kernel's INIT request (the only one inspected).
    func received(_ buffer: UnsafeRawPointer, count: Int) {
        guard count >= Layout.initRequestFlags2 + 4,
              buffer.loadUnaligned(fromByteOffset: Layout.inOpcode, as: UInt32.self) == Layout.opcodeInit else { return }
        let flags = buffer.loadUnaligned(fromByteOffset: Layout.initRequestFlags, as: UInt32.self)
        let flags2 = buffer.loadUnaligned(fromByteOffset: Layout.initRequestFlags2, as: UInt32.self)
        let unique = buffer.loadUnaligned(fromByteOffset: Layout.inUnique, as: UInt64.self)
        lock.withLock {
            initUnique = unique
            offered = wanted && flags & Layout.initExt != 0 && flags2 & Layout.passthroughFlags2 != 0
        }
    }

    /// Writes a reply, amended first when it is the INIT reply or a passthrough open.
    func write(_ fd: Int32, _ iov: UnsafeMutablePointer<iovec>, _ count: Int32) -> Int {
        guard count == 2, let header = iov[0].iov_base, iov[0].iov_len >= Layout.outHeaderSize, let payload = iov[1].iov_base,
              iov[1].iov_len == Layout.openOutSize || iov[1].iov_len == Layout.initOutSize else {
            return Glibc.writev(fd, iov, count)
        }
        let unique = header.loadUnaligned(fromByteOffset: Layout.outUnique, as: UInt64.self)
        let error = header.loadUnaligned(fromByteOffset: Layout.outError, as: Int32.self)
        let patch: Patch? = lock.withLock {
            if iov[1].iov_len == Layout.initOutSize, unique == initUnique, error == 0 {
                initUnique = nil
                return .initReply(accept: offered)
            }
            if iov[1].iov_len == Layout.openOutSize, error == 0, let pending = pendingReplies[pthread_self()],
               payload.loadUnaligned(fromByteOffset: 0, as: UInt64.self) == pending.handle {
                return .openReply(backingID: pending.backingID)
            }
            return nil
        }
        guard let patch else { return Glibc.writev(fd, iov, count) }
        var amended = [UInt8](UnsafeRawBufferPointer(start: payload, count: iov[1].iov_len))
        amended.withUnsafeMutableBytes { bytes in
            switch patch {
            case .initReply(let accept):
                let flags = bytes.loadUnaligned(fromByteOffset: Layout.initOutFlags, as: UInt32.self)
                guard accept, flags & Layout.initExt != 0, flags & Layout.writebackCache == 0 else { return }
                let flags2 = bytes.loadUnaligned(fromByteOffset: Layout.initOutFlags2, as: UInt32.self)
                bytes.storeBytes(of: flags2 | Layout.passthroughFlags2, toByteOffset: Layout.initOutFlags2, as: UInt32.self)
                bytes.storeBytes(of: 1, toByteOffset: Layout.initOutMaxStackDepth, as: UInt32.self)
            case .openReply(let backingID):
                let flags = bytes.loadUnaligned(fromByteOffset: Layout.openOutFlags, as: UInt32.self)
                bytes.storeBytes(of: flags & Layout.passthroughAllowedOpenFlags | Layout.openPassthrough,
                                 toByteOffset: Layout.openOutFlags, as: UInt32.self)
                bytes.storeBytes(of: backingID, toByteOffset: Layout.openOutBackingID, as: Int32.self)
            }
        }
        let written = amended.withUnsafeMutableBytes { bytes -> Int in
            var parts = [iov[0], iovec(iov_base: bytes.baseAddress, iov_len: bytes.count)]
            return Glibc.writev(fd, &parts, 2)
        }
        if written >= 0, case .initReply = patch {
            let accepted = amended.withUnsafeBytes {
                $0.loadUnaligned(fromByteOffset: Layout.initOutFlags2, as: UInt32.self) & Layout.passthroughFlags2 != 0
            }
            let handler = lock.withLock {
                enabled = accepted
                return negotiatedHandler
            }
            handler?(accepted)
        }
        return written
    }

    private enum Patch { case initReply(accept: Bool), openReply(backingID: Int32) }

    /// Offsets and values of the kernel's FUSE ABI (linux/fuse.h, protocol 7.40) that
    /// libfuse 3.14's headers do not have.
    enum Layout {
        static let inOpcode = 4, inUnique = 8
        static let opcodeInit: UInt32 = 26
        /// fuse_in_header (40 bytes), then fuse_init_in: major, minor, max_readahead, flags, flags2.
        static let initRequestFlags = 40 + 12, initRequestFlags2 = 40 + 16
        static let outHeaderSize = 16, outError = 4, outUnique = 8
        /// fuse_init_out: flags at 12, flags2 at 32, max_stack_depth at 36; 64 bytes in all.
        static let initOutSize = 64, initOutFlags = 12, initOutFlags2 = 32, initOutMaxStackDepth = 36
        /// fuse_open_out: fh, open_flags, backing_id.
        static let openOutSize = 16, openOutFlags = 8, openOutBackingID = 12
        static let initExt: UInt32 = 1 << 30
        static let writebackCache: UInt32 = 1 << 16
        /// FUSE_PASSTHROUGH is bit 37 of the 64-bit flags: bit 5 of flags2.
        static let passthroughFlags2: UInt32 = 1 << 5
        static let openPassthrough: UInt32 = 1 << 7
        /// Open flags kept next to FOPEN_PASSTHROUGH: noflush and parallel direct writes. The
        /// kernel fails the open on others (keep cache, say), and direct io would send reads
        /// back to this process.
        static let passthroughAllowedOpenFlags: UInt32 = (1 << 5) | (1 << 6)
    }
}

extension FUSEMount {
    /// The session's I/O: plain read and writev, with passthrough's amendments.
    static func passthroughIO() -> fuse_custom_io {
        var io = fuse_custom_io()
        io.read = { fd, buffer, length, userdata in
            let count = Glibc.read(fd, buffer, length)
            if count > 0, let buffer, let userdata {
                Unmanaged<FUSEMount>.fromOpaque(userdata).takeUnretainedValue().passthrough.received(buffer, count: count)
            }
            return count
        }
        io.writev = { fd, iov, count, userdata in
            guard let iov, let userdata else { return Glibc.writev(fd, iov, count) }
            return Unmanaged<FUSEMount>.fromOpaque(userdata).takeUnretainedValue().passthrough.write(fd, iov, count)
        }
        return io
    }
}
