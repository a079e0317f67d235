import CFuse
import Foundation
import NIOConcurrencyHelpers

/// A mounted FUSE file system, served by libfuse3's low-level API.
///
/// Each request starts a Swift task and returns at once; the task replies when the file
/// system answers. So a read that waits for the network holds no FUSE thread, and many
/// reads are in flight together. The loop runs on its own thread until the file system
/// is unmounted (by `unmount()`, `umount`, or `fusermount3 -u`).
public final class FUSEMount: @unchecked Sendable {
    public let mountpoint: String
    let fileSystem: FileSystem
    let requests = RequestRegistry()
    let directories = DirectorySnapshots()
    private var session: OpaquePointer?
    private let state = NIOLockedValueBox(State.idle)
    /// Set by `unmount()`: new requests fail at once, so nothing waits on a mount that is going.
    let isShuttingDown = NIOLockedValueBox(false)
    private var connectionID: UInt32 = 0
    let passthrough: Passthrough

    enum State { case idle, mounted, running, ended }

    /// - Parameter passthrough: hand files the file system gives a backing file for to the
    ///   kernel (FUSE passthrough), when the kernel offers it.
    public init(fileSystem: FileSystem, mountpoint: String, passthrough: Bool = true) {
        self.fileSystem = fileSystem
        self.mountpoint = mountpoint
        self.passthrough = Passthrough(wanted: passthrough)
    }

    /// Called once the kernel's INIT is answered, with whether passthrough is on. Set before `run()`.
    public func onNegotiated(_ handler: @escaping @Sendable (_ passthrough: Bool) -> Void) {
        passthrough.negotiated = handler
    }

    /// Creates the session and mounts it. Throws with the reason when the kernel refuses.
    /// - Parameters:
    ///   - options: `-o` mount options for the kernel and libfuse (`allow_other`, …).
    ///   - source: what the mount table shows as the mount's source (`fsname`): `findmnt`
    ///     and `df` show it, so a file system backed by a folder names that folder.
    public func mount(options: [String] = [], source: String = "memofs") throws {
        let allOptions = ["fsname=" + Self.escapedOption(source), "subtype=memofs", "default_permissions"] + options
        let arguments = ["memofs", "-o", allOptions.joined(separator: ",")]
        var cStrings = arguments.map { strdup($0) }
        defer { cStrings.forEach { free($0) } }
        var ops = makeOperations()
        let newSession = cStrings.withUnsafeMutableBufferPointer { buffer -> OpaquePointer? in
            var args = fuse_args(argc: Int32(buffer.count), argv: buffer.baseAddress, allocated: 0)
            return fuse_session_new(&args, &ops, MemoryLayout<fuse_lowlevel_ops>.size,
                                    Unmanaged.passUnretained(self).toOpaque())
        }
        guard let newSession else { throw MountError("libfuse could not create a session (bad options: \(allOptions))") }
        guard fuse_session_mount(newSession, mountpoint) == 0 else {
            fuse_session_destroy(newSession)
            throw MountError("could not mount \(mountpoint) (is it an existing empty folder, and is /dev/fuse usable?)")
        }
        // The session's raw I/O goes through `Passthrough`, which negotiates what libfuse 3.14 cannot.
        var io = Self.passthroughIO()
        let device = fuse_session_fd(newSession)
        guard fuse_session_custom_io(newSession, &io, device) == 0 else {
            fuse_session_unmount(newSession)
            fuse_session_destroy(newSession)
            throw MountError("libfuse refused the session's I/O functions")
        }
        passthrough.device = device
        session = newSession
        // Never stat the mountpoint here: the kernel would wait for a reply nobody reads yet.
        connectionID = Self.connectionID(of: mountpoint) ?? 0
        state.withLockedValue { $0 = .mounted }
    }

    /// Serves requests until the file system is unmounted, then cleans up the session.
    public func run() async {
        guard let current = session, state.withLockedValue({ $0 }) == .mounted else { return }
        state.withLockedValue { $0 = .running }
        nonisolated(unsafe) let session = current
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let thread = Thread {
                let config = fuse_loop_cfg_create()
                fuse_loop_cfg_set_max_threads(config, 4)
                fuse_loop_cfg_set_clone_fd(config, 0)
                _ = fuse_session_loop_mt(session, config)
                fuse_loop_cfg_destroy(config)
                continuation.resume()
            }
            thread.name = "fuse-loop"
            thread.start()
        }
        // Replies still being computed would touch a destroyed session: end them first.
        requests.cancelAll()
        let deadline = ContinuousClock.now + .seconds(10)
        while requests.pendingCount > 0 && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(10)) }
        fuse_session_unmount(session)
        fuse_session_destroy(session)
        self.session = nil
        state.withLockedValue { $0 = .ended }
        fileSystem.unmounted()
    }

    /// Detaches the mount so `run()` returns. Every request in flight is cancelled and
    /// answered with an error and new ones fail at once, so a reader blocked on data is
    /// freed and shutting down never hangs. If the kernel still holds the connection open
    /// after `grace`, it is aborted through fusectl when that is mounted.
    public func unmount(grace: Duration = .seconds(2)) {
        guard let session, state.withLockedValue({ $0 }) != .ended else { return }
        isShuttingDown.withLockedValue { $0 = true }
        fuse_session_exit(session)
        if geteuid() == 0 {
            umount2(mountpoint, Int32(MNT_DETACH))
        } else {
            let helper = Process()
            helper.executableURL = URL(fileURLWithPath: "/usr/bin/fusermount3")
            helper.arguments = ["-u", "-z", mountpoint]
            try? helper.run()
            helper.waitUntilExit()
        }
        requests.cancelAll()
        let id = connectionID
        Task.detached { [state] in
            try? await Task.sleep(for: grace)
            guard state.withLockedValue({ $0 }) == .running, id != 0 else { return }
            // Still serving open files: end the connection (fusectl), as `umount -f` would.
            let path = "/sys/fs/fuse/connections/\(id)/abort"
            if let file = fopen(path, "w") {
                fputs("1", file)
                fclose(file)
            }
        }
    }

    /// A value as libfuse's option parser wants it: a comma would end the option and a
    /// backslash escapes the next character, so both are escaped with a backslash.
    static func escapedOption(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: ",", with: "\\,")
    }

    public var isRunning: Bool { state.withLockedValue { $0 } == .running }

    /// The FUSE connection's number (its device minor, as in /sys/fs/fuse/connections),
    /// read from /proc/self/mountinfo: "id parent major:minor root mountpoint …".
    static func connectionID(of mountpoint: String) -> UInt32? {
        guard let table = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) else { return nil }
        for line in table.split(separator: "\n").reversed() {
            let fields = line.split(separator: " ")
            guard fields.count > 4, fields[4] == mountpoint else { continue }
            let device = fields[2].split(separator: ":")
            if device.count == 2, let minor = UInt32(device[1]) { return minor }
        }
        return nil
    }
}

public struct MountError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
