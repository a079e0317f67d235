import Foundation
import PeerHarness
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// What a user meets in the first hour: refusals that name the cause and the way out, on
/// the terminal, with exit status 1 and no usage line; usage errors with 64; the mount
/// table naming the data folder; `-v` showing peer connections.
@Suite(.serialized) struct RefusalTests {
    /// `memofs mount` in its background form (the refusals happen before it forks), with
    /// any mount it made removed afterwards, also when a refusal did not happen.
    func mount(_ mountpoint: String, data: String, _ extra: [String] = []) async throws -> CommandResult {
        let result = try await run([memofsExecutable, "mount", mountpoint, "--data", data, "--listen", "127.0.0.1",
                                    "--port", "0"] + extra, timeout: 40)
        if result.status == 0 { try await unmountBackground(mountpoint, result) }
        return result
    }

    /// Unmounts a background mount and waits (bounded) for its daemon, named in the
    /// command's output, to end; kills it by its pid if it does not.
    func unmountBackground(_ mountpoint: String, _ started: CommandResult) async throws {
        for arguments in [["/usr/bin/fusermount3", "-u", mountpoint], ["/usr/bin/fusermount3", "-uz", mountpoint]]
        where MountedMemofs.isMounted(mountpoint) {
            _ = try await run(arguments, timeout: 10)
        }
        guard let range = started.text.range(of: "(pid "),
              let pid = Int32(started.text[range.upperBound...].prefix { $0.isNumber }) else { return }
        let deadline = Date().addingTimeInterval(15)
        while kill(pid, 0) == 0 && Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        if kill(pid, 0) == 0 { kill(pid, SIGKILL) }
    }

    func expectRefusal(_ result: CommandResult, _ phrases: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(result.status == 1, "status \(result.status): \(result.errors)", sourceLocation: sourceLocation)
        #expect(result.errors.hasPrefix("memofs: "), "\(result.errors)", sourceLocation: sourceLocation)
        #expect(!result.errors.contains("Usage:"), "\(result.errors)", sourceLocation: sourceLocation)
        for phrase in phrases {
            #expect(result.errors.contains(phrase), "'\(phrase)' not in: \(result.errors)", sourceLocation: sourceLocation)
        }
    }

    @Test func aMountpointThatIsNotEmptyIsRefusedUnlessNonemptyIsAsked() async throws {
        let folder = try TemporaryFolder()
        let mountpoint = folder.path + "/mnt"
        try folder.write("mnt/keep.txt", count: 10)
        let refused = try await mount(mountpoint, data: folder.path + "/data")
        expectRefusal(refused, ["the mountpoint \(mountpoint) is not empty (keep.txt)", "--nonempty"])
        #expect(!MountedMemofs.isMounted(mountpoint))

        let mounted = try await MountedMemofs(mountpoint: mountpoint, dataFolder: folder.path + "/data", extra: ["-o", "nonempty"])
        #expect(try await run(["/bin/ls", mountpoint], timeout: 10).text.contains("shared"))
        mounted.stop()
        #expect(FileManager.default.fileExists(atPath: mountpoint + "/keep.txt"))
    }

    @Test func mountingTwiceOnOneFolderIsRefused() async throws {
        let folder = try TemporaryFolder()
        let first = try await MountedMemofs(mountpoint: folder.path + "/mnt", dataFolder: folder.path + "/data")
        defer { first.stop() }
        let again = try await mount(first.mountpoint, data: folder.path + "/other")
        expectRefusal(again, ["\(first.mountpoint) is already mounted", "memofs (data folder \(first.dataFolder))",
                              "umount \(first.mountpoint)"])
        let table = try String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)
        #expect(table.split(separator: "\n").filter { $0.split(separator: " ")[4] == first.mountpoint }.count == 1)
    }

    @Test func aSecondMemofsOnOneDataFolderIsRefusedNamingTheFirst() async throws {
        let folder = try TemporaryFolder()
        let first = try await MountedMemofs(mountpoint: folder.path + "/mnt", dataFolder: folder.path + "/data")
        defer { first.stop() }
        let pid = try #require(first.daemon?.process.processIdentifier)
        try FileManager.default.createDirectory(atPath: folder.path + "/mnt2", withIntermediateDirectories: true)
        let expected = ["the data folder \(first.dataFolder) is in use", "pid \(pid)", "mounted on \(first.mountpoint)",
                        "--data DIR"]
        expectRefusal(try await mount(folder.path + "/mnt2", data: first.dataFolder), expected)
        // The daemon itself refuses too (it takes the lock), when started in the foreground.
        expectRefusal(try await mount(folder.path + "/mnt2", data: first.dataFolder, ["--foreground"]), expected)
        #expect(!MountedMemofs.isMounted(folder.path + "/mnt2"))
        // The engine commands share the state database: they respect the lock as well.
        let download = try await run([memofsExecutable, "download", "--data", first.dataFolder, "--port", "0", "--no-dht",
                                      "magnet:?xt=urn:btih:" + String(repeating: "ab", count: 20)], timeout: 20)
        expectRefusal(download, expected)
        let seed = try await run([memofsExecutable, "seed", "--data", first.dataFolder, "--port", "0", "--no-dht",
                                  folder.path + "/mnt2"], timeout: 20)
        expectRefusal(seed, expected)
    }

    @Test func aLockLeftByACrashIsTakenOver() async throws {
        let folder = try TemporaryFolder()
        let first = try await MountedMemofs(mountpoint: folder.path + "/mnt", dataFolder: folder.path + "/data")
        let firstPID = try #require(first.daemon?.process.processIdentifier)
        first.crash()
        let lockFile = folder.path + "/data/memofs.lock"
        #expect(try String(contentsOfFile: lockFile, encoding: .utf8).contains("pid=\(firstPID)\n"))

        let second = try await MountedMemofs(mountpoint: folder.path + "/mnt", dataFolder: folder.path + "/data")
        defer { second.stop() }
        let secondPID = try #require(second.daemon?.process.processIdentifier)
        let record = try String(contentsOfFile: lockFile, encoding: .utf8)
        #expect(record.contains("pid=\(secondPID)\n") && record.contains("mountpoint=\(second.mountpoint)\n"), "\(record)")
    }

    @Test func aTakenPortIsNamedWithTheWayOut() async throws {
        let folder = try TemporaryFolder()
        try FileManager.default.createDirectory(atPath: folder.path + "/mnt", withIntermediateDirectories: true)
        let tcp = try HeldPort(type: SOCK_STREAM)
        let peer = try await run([memofsExecutable, "mount", folder.path + "/mnt", "--data", folder.path + "/data",
                                  "--listen", "127.0.0.1", "--port", "\(tcp.port)"], timeout: 20)
        if peer.status == 0 { try await unmountBackground(folder.path + "/mnt", peer) }
        expectRefusal(peer, ["the peer port \(tcp.port) (TCP on 127.0.0.1) is taken", "--port 0"])
        #expect(!peer.errors.contains("errno"))

        let udp = try HeldPort(type: SOCK_DGRAM)
        let dht = try await mount(folder.path + "/mnt", data: folder.path + "/data", ["--dht-port", "\(udp.port)"])
        expectRefusal(dht, ["the DHT port \(udp.port) (UDP on 127.0.0.1) is taken", "--dht-port 0"])
        #expect(!MountedMemofs.isMounted(folder.path + "/mnt"))
    }

    @Test func aDataFolderThatIsAFileIsRefused() async throws {
        let folder = try TemporaryFolder()
        try FileManager.default.createDirectory(atPath: folder.path + "/mnt", withIntermediateDirectories: true)
        try folder.write("data", count: 10)
        let result = try await mount(folder.path + "/mnt", data: folder.path + "/data")
        expectRefusal(result, ["the data folder \(folder.path)/data is a file", "give --data a folder"])
        #expect(!result.errors.contains("NSCocoaErrorDomain"))
        let download = try await run([memofsExecutable, "download", "--data", folder.path + "/data/x", "--port", "0",
                                      "--no-dht", "magnet:?xt=urn:btih:" + String(repeating: "ab", count: 20)], timeout: 20)
        expectRefusal(download, ["cannot create the data folder \(folder.path)/data/x", "a part of its path is a file"])
    }

    /// Root reads and writes anything, so this runs memofs as `nobody`: the refusal comes
    /// before mounting, so no FUSE permission is needed.
    @Test(.enabled(if: geteuid() == 0, "needs root to switch to an unprivileged user"))
    func aDataFolderThatCannotBeReadOrWrittenIsRefused() async throws {
        let folder = try TemporaryFolder()
        chmod(folder.path, 0o755)
        try FileManager.default.createDirectory(atPath: folder.path + "/mnt", withIntermediateDirectories: true)
        chmod(folder.path + "/mnt", 0o777)
        for (name, mode) in [("private", mode_t(0o700)), ("readonly", mode_t(0o555))] {
            let data = folder.path + "/" + name
            try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
            chmod(data, mode)
            let result = try await run(["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                        memofsExecutable, "mount", folder.path + "/mnt", "--data", data,
                                        "--listen", "127.0.0.1", "--port", "0"], timeout: 20)
            expectRefusal(result, ["cannot use the data folder \(data)", "not readable and writable for you (uid 65534)",
                                   "give --data another folder"])
            #expect(!result.errors.contains("could not start memofs in the background"))
        }
        #expect(!MountedMemofs.isMounted(folder.path + "/mnt"))
    }

    @Test func usageErrorsExitWith64AndAUsageLine() async throws {
        let folder = try TemporaryFolder()
        try FileManager.default.createDirectory(atPath: folder.path + "/mnt", withIntermediateDirectories: true)
        for arguments in [["mount", folder.path + "/mnt", "-o", "bogus=1"], ["mount"], ["info"], ["seed", ".", "--port", "x"]] {
            let result = try await run([memofsExecutable] + arguments, timeout: 10)
            #expect(result.status == 64, "\(arguments): \(result.status) \(result.errors)")
            #expect(result.errors.contains("Usage:"), "\(arguments): \(result.errors)")
        }
        #expect(!MountedMemofs.isMounted(folder.path + "/mnt"))
    }

    @Test func runtimeErrorsExitWith1AndNoUsageLine() async throws {
        let folder = try TemporaryFolder()
        let missing = folder.path + "/missing.torrent"
        let cases: [([String], String)] = [
            (["info", missing], "\(missing): No such file or directory"),
            (["create", folder.path + "/nothing"], "nothing"),
            (["create", supportFolder + "/lt_helper.py", "-o", folder.path + "/no/such/out.torrent"],
             "\(folder.path)/no/such/out.torrent: No such file or directory"),
            (["magnet", "magnet:?dn=x"], "magnet"),
            (["status", "--data", folder.path], "no status at \(folder.path)/status.json"),
            (["download", "--data", folder.path + "/data", "--port", "0", "--no-dht", missing],
             "\(missing): No such file or directory"),
            (["mount", folder.path + "/nowhere", "--data", folder.path + "/data"], "mkdir -p \(folder.path)/nowhere"),
        ]
        for (arguments, phrase) in cases {
            let result = try await run([memofsExecutable] + arguments, timeout: 20)
            expectRefusal(result, [phrase])
            #expect(!result.errors.contains("NSCocoaErrorDomain") && !result.errors.contains("Error Domain"), "\(result.errors)")
        }
    }

    @Test func theMountTableNamesTheDataFolder() async throws {
        let folder = try TemporaryFolder()
        // A comma would end the option for libfuse unless it is escaped.
        let mount = try await MountedMemofs(mountpoint: folder.path + "/mnt", dataFolder: folder.path + "/my,data")
        defer { mount.stop() }
        let result = try await run(["/usr/bin/findmnt", "-n", "-o", "SOURCE,FSTYPE", mount.mountpoint], timeout: 10)
        #expect(result.text.split(whereSeparator: \.isWhitespace).map(String.init) == [mount.dataFolder, "fuse.memofs"],
                "\(result.text)")
    }

    /// Peer connections are logged at debug level: with `-v` they reach the log of a
    /// background daemon (which gets the flag through its arguments); without, they do not.
    @Test func verboseLogsPeerConnections() async throws {
        let folder = try TemporaryFolder()
        let (_, _, seeder, magnet) = try await seedWithLibtorrent(folder, name: "talk.bin", count: 300_000, seed: 3,
                                                                  pieceLength: 16384)
        defer { seeder.stop() }

        let quiet = try await MountedMemofs(mountpoint: folder.path + "/quiet", dataFolder: folder.path + "/quiet-data")
        defer { quiet.stop() }
        try await add(magnet.uri, to: quiet.shared)
        try await eventually("the file listed") { try await run(["/bin/ls", quiet.shared], timeout: 10).text.contains("talk.bin") }
        #expect(!quiet.daemonLog.contains("connected to"), "\(quiet.daemonLog.suffix(2000))")
        quiet.stop()

        let mountpoint = folder.path + "/verbose", data = folder.path + "/verbose-data"
        try FileManager.default.createDirectory(atPath: mountpoint, withIntermediateDirectories: true)
        let started = try await run([memofsExecutable, "mount", mountpoint, "--data", data, "--listen", "127.0.0.1",
                                     "--port", "0", "-v"], timeout: 40)
        defer { _ = try? runBlocking(["/usr/bin/fusermount3", "-uz", mountpoint], timeout: 10) }
        #expect(started.status == 0, "\(started.errors)")
        try await add(magnet.uri, to: mountpoint + "/shared")
        try await eventually("a peer connection in the log") {
            (try? String(contentsOfFile: data + "/memofs.log", encoding: .utf8))?.contains("connected to 127.0.0.2") == true
        }
        try await unmountBackground(mountpoint, started)
    }

    func add(_ magnet: String, to shared: String) async throws {
        let result = try await run(["/bin/sh", "-c", "cat > '\(shared)/.add'"], timeout: 10, input: Data((magnet + "\n").utf8))
        #expect(result.status == 0, "\(result.errors)")
    }
}

/// A port on 127.0.0.1 held by the test, so memofs finds it taken.
final class HeldPort {
    let descriptor: Int32
    let port: Int

    init(type: __socket_type) throws {
        let descriptor = socket(AF_INET, Int32(type.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bind(descriptor, socketAddress, length) == 0
                    && (type != SOCK_STREAM || listen(descriptor, 1) == 0)
                    && getsockname(descriptor, socketAddress, &length) == 0
            }
        }
        guard descriptor >= 0, bound else {
            close(descriptor)
            throw ChildProcess.Timeout(description: "could not hold a port: \(String(cString: strerror(errno)))")
        }
        self.descriptor = descriptor
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(descriptor) }
}
