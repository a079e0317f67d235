import ArgumentParser
import Engine
import Foundation
import FUSEKit
import Logging
import MemoFS
import ServiceLifecycle
import SystemCalls
import SystemPackage
import TorrentModel

/// `memofs mount MOUNTPOINT`: the daemon. Without `--foreground` it starts itself again
/// in the background (its log in `<data>/memofs.log`) and returns once the mount is up.
struct Mount: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Mount local/ (recordings you share) and shared/ (what others share).",
        discussion: """
        Returns once mounted; the daemon stays in the background and logs to
        <data>/memofs.log. Unmount with `umount MOUNTPOINT` (or `fusermount3 -u`),
        or stop the daemon with SIGINT or SIGTERM.

        memofs refuses, and says why: a mountpoint that is not empty (unless
        --nonempty) or is already mounted, a data folder another memofs uses or
        that it cannot read and write, a port another program holds.

        -o takes the same settings, comma-separated, for mount(8) and /etc/fstab:
          data=DIR              --data DIR
          port=N                --port N
          listen=ADDR           --listen ADDR
          tracker=URL           --tracker URL (repeatable)
          read_timeout=SECONDS  --read-timeout SECONDS
          cache_size=SIZE       --cache-size SIZE
          dht_bootstrap=H:P     --dht-bootstrap H:P (repeatable)
          dht_port=N            --dht-port N
          no_dht                --no-dht
          lsd, no_lsd           --lsd, --no-lsd
          no_webrtc             --no-webrtc
          stun=IP:PORT          --stun IP:PORT (repeatable)
          webrtc_address=IP     --webrtc-address IP (repeatable)
          tracker_certificate=F --tracker-certificate F
          nonempty              --nonempty
          verbose, debug        -v, -vv
          foreground            --foreground
          allow_other           let other users into the mount (as non-root:
                                user_allow_other in /etc/fuse.conf)
        """)

    @Argument(help: "Where to mount: an existing, empty folder.") var mountpoint: String
    @Option(help: ArgumentHelp("Where recordings, downloads and state live "
                               + "(default: $XDG_DATA_HOME/memofs, else ~/.local/share/memofs).", valueName: "dir"))
    var data: String?
    @Option(help: "Peer port, TCP (default: 6881; 0 picks a free one).") var port: Int?
    @Option(help: ArgumentHelp("The address to accept peers on (default: 0.0.0.0, every IPv4 address).", valueName: "address"))
    var listen: String?
    @Option(name: .customLong("tracker"), help: ArgumentHelp("A tracker put into the magnets of recordings (repeatable).",
                                                              valueName: "url"))
    var trackers: [String] = []
    @Option(help: ArgumentHelp("Fail a read that waited this long for data with EIO (default: wait).", valueName: "seconds"))
    var readTimeout: Double?
    @Option(help: ArgumentHelp("The most disk space shares (shared/, not pinned) may use before the least recently read "
                               + "pieces are evicted: 500M, 2G, 0, or unlimited (default: 10 % of the free space, "
                               + "256 MiB to 32 GiB).", valueName: "size"))
    var cacheSize: String?
    @Flag(help: "Mount even on a folder that is not empty (its files are hidden while mounted).") var nonempty = false
    @Flag(name: .shortAndLong, help: "Log more: -v peer connections, disconnects, stalls; -vv everything.")
    var verbose: Int
    @Flag(help: "Stay in the foreground instead of running in the background.") var foreground = false
    @Option(name: .customShort("o"), help: ArgumentHelp("Mount options, comma-separated (listed below).", valueName: "options"))
    var options: [String] = []
    @OptionGroup var discovery: DiscoveryOptions
    @OptionGroup var webRTC: WebRTCOptions

    func validate() throws {
        _ = try settings()
    }

    /// Command-line flags and `-o` options merged; `-o` wins where both are given.
    func settings() throws -> MountSettings {
        var result = MountSettings(dataFolder: data ?? Self.defaultDataFolder(), port: port ?? 6881, listen: listen ?? "0.0.0.0",
                                   trackers: trackers, foreground: foreground, readTimeout: readTimeout,
                                   dhtEnabled: !discovery.noDHT, dhtBootstrap: discovery.dhtBootstrap, dhtPort: discovery.dhtPort,
                                   lsd: discovery.lsd, nonempty: nonempty, verbosity: verbose, webRTC: webRTC.settings)
        if let cacheSize { result.cacheSize = try Self.cacheLimit(cacheSize) }
        for option in options.flatMap({ $0.split(separator: ",") }) {
            let parts = option.split(separator: "=", maxSplits: 1).map(String.init)
            let key = parts[0], value = parts.count > 1 ? parts[1] : nil
            func required() throws -> String {
                guard let value, !value.isEmpty else { throw ValidationError("-o \(key) needs a value (\(key)=…)") }
                return value
            }
            switch key {
            case "data": result.dataFolder = try required()
            case "port":
                guard let number = Int(try required()) else { throw ValidationError("-o port=\(value!) is not a number") }
                result.port = number
            case "listen": result.listen = try required()
            case "tracker": result.trackers.append(try required())
            case "read_timeout":
                guard let seconds = Double(try required()) else { throw ValidationError("-o read_timeout=\(value!) is not a number of seconds") }
                result.readTimeout = seconds
            case "cache_size": result.cacheSize = try Self.cacheLimit(try required())
            case "dht_bootstrap": result.dhtBootstrap.append(try required())
            case "dht_port":
                guard let number = Int(try required()) else { throw ValidationError("-o dht_port=\(value!) is not a number") }
                result.dhtPort = number
            case "no_dht": result.dhtEnabled = false
            case "no_webrtc": result.webRTC.enabled = false
            case "stun": result.webRTC.stun.append(try required())
            case "webrtc_address": result.webRTC.addresses.append(try required())
            case "tracker_certificate": result.webRTC.trackerCertificate = try required()
            case "lsd": result.lsd = true
            case "no_lsd": result.lsd = false
            case "foreground": result.foreground = true
            case "nonempty": result.nonempty = true
            case "verbose": result.verbosity = max(result.verbosity, 1)
            case "debug": result.verbosity = max(result.verbosity, 2)
            case "allow_other": result.fuseOptions.append("allow_other")
            // What mount(8) and fstab pass along; they mean nothing more here.
            case "rw", "nosuid", "suid", "nodev", "dev", "noexec", "exec", "noatime", "relatime", "atime", "user", "users",
                 "nouser", "auto", "noauto", "_netdev", "nofail", "defaults":
                break
            case let other where other.hasPrefix("x-systemd.") || other.hasPrefix("comment="):
                break
            default:
                throw ValidationError("unknown mount option '\(key)' (known: data, port, listen, tracker, read_timeout, cache_size, dht_bootstrap, dht_port, no_dht, lsd, no_lsd, no_webrtc, stun, webrtc_address, tracker_certificate, nonempty, verbose, debug, foreground, allow_other)")
            }
        }
        try DiscoveryOptions.check(bootstrap: result.dhtBootstrap, port: result.dhtPort)
        try WebRTCOptions.check(stun: result.webRTC.stun, addresses: result.webRTC.addresses)
        guard (0...65535).contains(result.port) else { throw ValidationError("port \(result.port) is not 0–65535") }
        if let timeout = result.readTimeout, timeout <= 0 { throw ValidationError("read timeout \(timeout) must be more than 0 seconds") }
        for tracker in result.trackers where TrackerCheck.problem(tracker) != nil {
            throw ValidationError("tracker \(tracker): \(TrackerCheck.problem(tracker)!)")
        }
        guard PeerAddress("\(result.listen.contains(":") ? "[\(result.listen)]" : result.listen):1") != nil else {
            throw ValidationError("listen address '\(result.listen)' is not an IP address or host name")
        }
        return result
    }

    /// A `--cache-size`, or a usage error naming what is wrong with it.
    static func cacheLimit(_ text: String) throws -> CacheLimit {
        do {
            return try CacheSize.parse(text).map(CacheLimit.bytes) ?? .unlimited
        } catch {
            throw ValidationError("\(error)")
        }
    }

    static func defaultDataFolder() -> String {
        if let xdg = ProcessInfo.processInfo.environment["XDG_DATA_HOME"], !xdg.isEmpty { return xdg + "/memofs" }
        let home = ProcessInfo.processInfo.environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return home + "/.local/share/memofs"
    }

    /// The refusals come first, here in the command (so they reach the terminal) and again
    /// in the daemon, which then holds the data folder's lock for its whole life.
    func run() async throws {
        var settings = try settings()
        let mountpoint = try Mountpoint.check(self.mountpoint, allowNonEmpty: settings.nonempty)
        settings.dataFolder = try DataFolder.prepare(settings.dataFolder)
        if settings.foreground {
            let lock = try DataFolderLock.acquire(dataFolder: settings.dataFolder, mountpoint: mountpoint, command: "mount")
            defer { lock.release() }
            try await PortInUse.check(host: settings.listen, peerPort: settings.port, dhtPort: settings.dht?.port)
            try await MountDaemon(settings: settings, mountpoint: mountpoint).run()
        } else {
            try DataFolderLock.checkFree(dataFolder: settings.dataFolder)
            try await PortInUse.check(host: settings.listen, peerPort: settings.port, dhtPort: settings.dht?.port)
            try Background.start(mountpoint: mountpoint, dataFolder: settings.dataFolder)
        }
    }
}

/// A `--cache-size` as given: a number of bytes, or no limit.
enum CacheLimit: Equatable {
    case bytes(Int64)
    case unlimited
}

struct MountSettings {
    var dataFolder: String
    var port: Int
    var listen: String
    var trackers: [String]
    var foreground: Bool
    var readTimeout: Double?
    var dhtEnabled = true
    var dhtBootstrap: [String] = []
    var dhtPort: Int?
    var lsd: Bool?
    var nonempty = false
    /// 0: info; 1 (-v): debug; 2 (-vv): trace.
    var verbosity = 0
    var fuseOptions: [String] = []
    var webRTC = WebRTCSettings()
    /// nil: the default, worked out from the free space at mount.
    var cacheSize: CacheLimit?

    /// The limit the session gets: the one given, or a tenth of the space free on the data
    /// folder's file system now (see ``CacheSize/defaultLimit(availableBytes:)``).
    func cacheLimit() -> Int64? {
        switch cacheSize {
        case .bytes(let bytes)?: return bytes
        case .unlimited?: return nil
        case nil:
            let available = (try? FilePath(dataFolder).availableBytes()) ?? 0
            return CacheSize.defaultLimit(availableBytes: available)
        }
    }

    var dht: DHTSettings? { DiscoveryOptions.dht(enabled: dhtEnabled, bootstrap: dhtBootstrap, port: dhtPort) }

    /// What a recording's magnet gives others to find this memofs, said once at mount:
    /// with no tracker and no `--listen` address, only the DHT and the LAN can.
    var howOthersFindRecordings: String {
        var ways: [String] = []
        if !trackers.isEmpty { ways.append("the tracker\(trackers.count == 1 ? "" : "s") in their magnets") }
        if listen != "0.0.0.0" && listen != "::" { ways.append("x.pe=\(listen) in their magnets") }
        if dht != nil { ways.append("the DHT") }
        if DiscoveryOptions.localPeerDiscovery(lsd) { ways.append("local peer discovery (same network only)") }
        guard !ways.isEmpty else {
            return "recordings can be found by no one: no --tracker, no --listen address, the DHT and local peer discovery are off"
        }
        var line = "others find recordings through " + ways.joined(separator: ", ")
        if trackers.isEmpty && (listen == "0.0.0.0" || listen == "::") {
            line += " (their magnets name no tracker and no address: --tracker URL and --listen ADDR add them)"
        }
        return line
    }
}

enum TrackerCheck {
    static func problem(_ url: String) -> String? {
        guard ["http://", "https://", "udp://", "ws://", "wss://"].contains(where: url.hasPrefix) else {
            return "not an http://, https://, udp://, ws:// or wss:// URL"
        }
        return nil
    }
}

/// The mounted file system and the engine under it, until unmounted or signalled: the
/// session, the status writer and the mount as services of one group, which handles
/// SIGINT and SIGTERM and shuts them down in reverse: unmount, stop the tree (its last
/// report marked stopped), then the session (state saved).
struct MountDaemon {
    let settings: MountSettings
    let mountpoint: String

    func run() async throws {
        Verbosity.bootstrap(level: Verbosity.level(settings.verbosity, quiet: .info))
        let logger = Logger(label: "memofs")
        let session = try await Session.start(configuration: SessionConfiguration(
            dataFolder: settings.dataFolder, listenHost: settings.listen, listenPort: settings.port,
            extraTrackers: settings.trackers, dht: settings.dht,
            localPeerDiscovery: DiscoveryOptions.localPeerDiscovery(settings.lsd),
            webRTC: settings.webRTC.configuration(listen: settings.listen), webSocketTrackerOptions: settings.webRTC.trackerOptions,
            cacheLimit: settings.cacheLimit()))
        let readTimeout = settings.readTimeout.map { Duration.milliseconds(Int($0 * 1000)) }
        let tree = MemoTree(session: session, configuration: MemoFSConfiguration(
            localFolder: settings.dataFolder + "/local", statusFile: settings.dataFolder + "/status.json",
            trackers: settings.trackers, advertisedAddress: settings.listen == "0.0.0.0" || settings.listen == "::" ? nil : settings.listen,
            readTimeout: readTimeout))
        do {
            try await tree.start()
        } catch {
            await tree.stop()
            await session.shutdown()
            throw error
        }
        await tree.setMountpoint(mountpoint)
        let mount = FUSEMount(fileSystem: MemoFileSystem(tree: tree, readTimeout: readTimeout), mountpoint: mountpoint)
        mount.onNegotiated { passthrough in
            logger.info("complete files are read \(passthrough ? "straight from disk (FUSE passthrough)" : "through memofs (the kernel offers no FUSE passthrough)")")
            Task { await tree.setPassthrough(passthrough) }
        }
        let announcement = ["mounted \(mountpoint) (data in \(settings.dataFolder), peers on \(settings.listen):\(session.listenPort))",
                            settings.howOthersFindRecordings,
                            session.cacheUsage.limit.map { "shares may use \(CacheSize.describe($0)) of disk (--cache-size)" }
                                ?? "shares may use any amount of disk (--cache-size unlimited)"]
        let group = ServiceGroup(configuration: .stoppedBySignals([
            .init(service: SessionService(session: session)),
            .init(service: StatusWriterService(tree: tree)),
            // Unmounted by the user (`umount`) or refused by the kernel: everything stops.
            .endingTheGroup(MountService(mount: mount, options: settings.fuseOptions, source: settings.dataFolder,
                                         announcement: announcement, logger: logger)),
        ]))
        try await group.run()
    }
}

/// Starting the daemon in the background: the same program again with `--foreground`, in
/// its own session, its output in `<data>/memofs.log`; this returns once the mount is up.
enum Background {
    static func start(mountpoint: String, dataFolder: String) throws {
        let logPath = dataFolder + "/memofs.log"
        var arguments = CommandLine.arguments
        arguments.append("--foreground")
        var fileActions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&fileActions)
        defer { posix_spawn_file_actions_destroy(&fileActions) }
        posix_spawn_file_actions_addopen(&fileActions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&fileActions, 1, logPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&fileActions, 1, 2)
        // Nothing else of ours goes along: a pipe left open in the daemon would keep
        // whoever started us (a shell's $(…), a test) waiting for its end forever.
        for descriptor in openDescriptors() where descriptor > 2 {
            posix_spawn_file_actions_addclose(&fileActions, descriptor)
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, 0x80)  // POSIX_SPAWN_SETSID (glibc ≥ 2.26), not imported by Swift
        var pid: pid_t = 0
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        let cArguments = arguments.map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        let logStart = (try? FileManager.default.attributesOfItem(atPath: logPath)[.size] as? Int) ?? 0
        let spawned = posix_spawn(&pid, executable, &fileActions, &attributes, cArguments, environ)
        guard spawned == 0 else {
            throw MemofsError("could not start memofs in the background (log \(logPath)): \(String(cString: strerror(spawned)))")
        }
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if isMounted(mountpoint) {
                print("memofs \(MemofsVersion.current) mounted \(mountpoint) (pid \(pid), log \(logPath))")
                return
            }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                throw stoppedBeforeMounting(logPath: logPath, from: logStart)
            }
            usleep(50_000)
        }
        throw MemofsError("memofs did not mount \(mountpoint) within 30 seconds (see \(logPath))")
    }

    /// The daemon's own refusal when it gave one (a race the checks before starting it
    /// could not see, such as another memofs taking the data folder meanwhile), else the
    /// end of what it logged.
    static func stoppedBeforeMounting(logPath: String, from offset: Int) -> MemofsError {
        let log = (try? Data(contentsOf: URL(fileURLWithPath: logPath))).map { String(decoding: $0.dropFirst(offset), as: UTF8.self) } ?? ""
        let lines = log.split(separator: "\n")
        if let refusal = lines.last(where: { $0.hasPrefix(Memofs.errorPrefix) }) {
            return MemofsError(String(refusal.dropFirst(Memofs.errorPrefix.count)))
        }
        return MemofsError("memofs stopped before mounting; the end of its log (\(logPath)):\n"
                           + lines.suffix(5).joined(separator: "\n"))
    }

    static func openDescriptors() -> [Int32] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []).compactMap { Int32($0) }
            .filter { fcntl($0, F_GETFD) >= 0 }
    }

    static func isMounted(_ mountpoint: String) -> Bool {
        MountTable.current().entry(at: mountpoint)?.fsType.hasPrefix("fuse") ?? false
    }
}
