import Dispatch
import Engine
import FUSEKit
import Logging
import MemoFS
import ServiceLifecycle

// The long-lived parts of a memofs process as services of one `ServiceGroup`, which owns
// SIGINT and SIGTERM: the group shuts its services down in the reverse order of its list,
// one after the other, so the mount goes first, then the tree, then the engine under both.
// Thin adapters here keep Engine and MemoFS free of the lifecycle library.

/// The engine session, started before the group (so a taken port is refused before anything
/// else starts); at shutdown it disconnects peers and saves state.
struct SessionService: Service, CustomStringConvertible {
    let session: Session

    func run() async throws {
        // Cancelled rather than shut down (a service failed hard): shut down all the same.
        try? await gracefulShutdown()
        await session.shutdown()
    }

    var description: String { "session" }
}

/// The tree's status writer: `<data>/status.json` every second while running. At shutdown,
/// after the last periodic write, the tree stops (sharing ends, open local files close) and
/// the last report is written, marked stopped, so `memofs status` knows memofs ended cleanly.
struct StatusWriterService: Service, CustomStringConvertible {
    let tree: MemoTree
    var interval: Duration = .seconds(1)

    func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            await tree.writeStatus()
            // Only the wait is cut short: a report being written is finished first.
            try? await cancelWhenGracefulShutdown { [interval] in try await Task.sleep(for: interval) }
        }
        await tree.stop()
    }

    var description: String { "status writer" }
}

/// The FUSE mount: mounts, serves until unmounted, and unmounts at shutdown. The user's own
/// `umount` ends it too; the group is configured to shut everything else down then.
struct MountService: Service, CustomStringConvertible {
    let mount: FUSEMount
    let options: [String]
    /// What the mount table shows as the mount's source: the data folder.
    let source: String
    /// Logged once mounted.
    let announcement: [String]
    let logger: Logger

    func run() async throws {
        try mount.mount(options: options, source: source)
        for line in announcement { logger.info("\(line)") }
        await withTaskCancellationOrGracefulShutdownHandler {
            await mount.run()
        } onCancelOrGracefulShutdown: { [mount, logger] in
            logger.info("stopping: unmounting \(mount.mountpoint)")
            // `unmount()` waits for fusermount3: not on a thread of the cooperative pool.
            DispatchQueue.global().async { mount.unmount() }
        }
        logger.info("unmounted \(mount.mountpoint)")
    }

    var description: String { "mount" }
}

/// A command's own work (a download, seeding) beside the session: its end ends the group,
/// and SIGINT/SIGTERM cancel it, which is a clean stop rather than an error.
struct CommandService: Service, CustomStringConvertible {
    let name: String
    let work: @Sendable () async throws -> Void

    func run() async throws {
        do {
            try await cancelWhenGracefulShutdown(work)
        } catch is CancellationError where Task.isShuttingDownGracefully {
            return
        }
    }

    var description: String { name }
}

extension ServiceGroupConfiguration {
    /// Services of a memofs process: SIGINT and SIGTERM stop them cleanly, handled here once.
    static func stoppedBySignals(_ services: [ServiceConfiguration]) -> Self {
        Self(services: services, gracefulShutdownSignals: [.sigint, .sigterm], logger: Logger(label: "memofs.lifecycle"))
    }
}

extension ServiceGroupConfiguration.ServiceConfiguration {
    /// A service whose end, normal or not, shuts the whole group down gracefully.
    static func endingTheGroup(_ service: any Service) -> Self {
        Self(service: service, successTerminationBehavior: .gracefullyShutdownGroup,
             failureTerminationBehavior: .gracefullyShutdownGroup)
    }
}

/// Runs a command's work with the engine session until the work ends or SIGINT/SIGTERM
/// arrives; either way the session then shuts down, once. The work's error, if any, is thrown.
func runWithSession(_ session: Session, command: String, work: @escaping @Sendable () async throws -> Void) async throws {
    let group = ServiceGroup(configuration: .stoppedBySignals([
        .init(service: SessionService(session: session)),
        .endingTheGroup(CommandService(name: command, work: work)),
    ]))
    try await group.run()
}
