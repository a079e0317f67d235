import Foundation
import PeerHarness
import Testing
import TestSupport

/// mount-scripts/install as a new user meets it: a clean HOME, then the README's commands in
/// a new login shell, `mount -t fuse.memofs`'s helper with mount(8)'s bare PATH, the systemd
/// unit, the manual page and completions. The debug memofs stands in for the release build.
@Suite(.serialized) struct InstallTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    /// The PATH mount(8) gives its helpers, and what `env -i` leaves of a login's environment.
    static let barePath = "/usr/sbin:/usr/bin:/sbin:/bin"

    /// One install into `folder`: HOME, the prefix and the helper's folder all under it.
    struct Installed {
        let home: String
        let prefix: String
        let sbin: String
        let output: String

        var memofs: String { prefix + "/bin/memofs" }
        var helper: String { sbin + "/mount.fuse.memofs" }
        var unit: String { prefix + "/lib/systemd/user/memofs.service" }
        var manual: String { prefix + "/share/man/man1/memofs.1" }
        var bashCompletion: String { prefix + "/share/bash-completion/completions/memofs" }
    }

    /// Runs mount-scripts/install with only HOME and the default PATH, as a fresh login would.
    func install(into folder: TemporaryFolder) async throws -> Installed {
        let home = folder.path + "/home"
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        let installed = Installed(home: home, prefix: folder.path + "/prefix", sbin: folder.path + "/sbin", output: "")
        let result = try await run(["/usr/bin/env", "-i", "HOME=\(home)", "PATH=/usr/local/bin:" + Self.barePath,
                                    "/bin/bash", Self.repository + "/mount-scripts/install", "--binary", memofsExecutable,
                                    "--prefix", installed.prefix, "--sbin", installed.sbin], timeout: 60)
        #expect(result.status == 0, "\(result.text)\(result.errors)")
        return Installed(home: home, prefix: installed.prefix, sbin: installed.sbin, output: result.text + result.errors)
    }

    /// A command in a new login shell of that HOME: `bash -l` reads /etc/profile (which sets
    /// PATH afresh) and the HOME's own profile, and nothing else of the test's environment.
    func loginShell(_ installed: Installed, _ command: String, timeout: TimeInterval = 30) async throws -> CommandResult {
        try await run(["/usr/bin/env", "-i", "HOME=\(installed.home)", "USER=\(NSUserName())", "LOGNAME=\(NSUserName())",
                       "TERM=dumb", "MEMOFS_NO_PUBLIC_NETWORK=1", "/bin/bash", "-l", "-c", command], timeout: timeout)
    }

    /// Removes a mount a test left behind (its daemon then ends): `fusermount3 -u`, then `-uz`.
    static func unmount(_ mountpoint: String) {
        for arguments in [["/usr/bin/fusermount3", "-u", mountpoint], ["/usr/bin/fusermount3", "-uz", mountpoint]]
        where MountedMemofs.isMounted(mountpoint) {
            _ = try? runBlocking(arguments, timeout: 10)
        }
    }

    @Test func everyPartGoesWhereTheOutputSaysAndASecondRunChangesNothingElse() async throws {
        let folder = try TemporaryFolder()
        let first = try await install(into: folder)
        let second = try await install(into: folder)
        for (path, what) in [(first.memofs, "program"), (first.helper, "mount helper"), (first.unit, "systemd unit"),
                             (first.manual, "manual page"), (first.bashCompletion, "completions")] {
            #expect(FileManager.default.fileExists(atPath: path), "\(what) missing at \(path)")
            #expect(first.output.contains(what + " ") && first.output.contains(path), "the output does not say where the \(what) went: \(first.output)")
        }
        #expect(FileManager.default.isExecutableFile(atPath: first.memofs))
        #expect(FileManager.default.isExecutableFile(atPath: first.helper))
        #expect(FileManager.default.fileExists(atPath: first.prefix + "/share/zsh/site-functions/_memofs"))
        #expect(FileManager.default.fileExists(atPath: first.prefix + "/share/fish/vendor_completions.d/memofs.fish"))

        // The PATH line: added once, said so, and not added again.
        let profile = try String(contentsOfFile: first.home + "/.profile", encoding: .utf8)
        #expect(first.output.contains("added \(first.prefix)/bin to PATH in \(first.home)/.profile"), "\(first.output)")
        #expect(profile.components(separatedBy: "PATH=\"\(first.prefix)/bin:").count == 2, "\(profile)")
        #expect(second.output.contains("\(first.prefix)/bin is on a new login shell's PATH"), "\(second.output)")

        // The helper runs memofs by its absolute path, which mount(8)'s PATH does not reach.
        let helper = try String(contentsOfFile: first.helper, encoding: .utf8)
        #expect(helper.contains("installed_memofs=\"\(first.memofs)\""), "\(helper)")

        // The completion script parses.
        let parsed = try await run(["/bin/bash", "-n", first.bashCompletion], timeout: 10)
        #expect(parsed.status == 0, "\(parsed.errors)")
        #expect(try String(contentsOfFile: first.bashCompletion, encoding: .utf8).contains("mount"))

        // --uninstall takes it all away again, the PATH line too.
        let removed = try await run(["/usr/bin/env", "-i", "HOME=\(first.home)", "PATH=" + Self.barePath, "/bin/bash",
                                     Self.repository + "/mount-scripts/install", "--prefix", first.prefix, "--sbin", first.sbin,
                                     "--uninstall"], timeout: 30)
        #expect(removed.status == 0, "\(removed.errors)")
        for path in [first.memofs, first.helper, first.unit, first.manual, first.bashCompletion] {
            #expect(!FileManager.default.fileExists(atPath: path), "\(path) is still there")
        }
        #expect(!(try String(contentsOfFile: first.home + "/.profile", encoding: .utf8)).contains(first.prefix))
    }

    /// The README's commands after installing, in a new login shell of a HOME that had no
    /// ~/.profile: `memofs --version`, `memofs mount ~/Memos`, `memofs status`, `man memofs`, `umount`.
    @Test func theReadmeCommandsWorkInANewLoginShell() async throws {
        let folder = try TemporaryFolder()
        let installed = try await install(into: folder)
        let mountpoint = installed.home + "/Memos"
        defer { Self.unmount(mountpoint) }

        let version = try await loginShell(installed, "memofs --version")
        #expect(version.status == 0, "\(version.errors)")
        #expect(version.text.trimmingCharacters(in: .whitespacesAndNewlines) == "0.1.0")
        #expect(try await loginShell(installed, "command -v memofs").text.trimmingCharacters(in: .whitespacesAndNewlines)
                == installed.memofs)

        let mounted = try await loginShell(installed, "mkdir -p ~/Memos && memofs mount ~/Memos --port 0 --listen 127.0.0.1")
        #expect(mounted.status == 0, "\(mounted.errors)")
        #expect(MountedMemofs.isMounted(mountpoint))
        var status = ""
        try await eventually("memofs status answering") {
            let result = try await loginShell(installed, "memofs status")
            status = result.text
            return result.status == 0
        }
        #expect(status.contains("memofs is running") && status.contains("mounted on \(mountpoint)"), "\(status)")
        #expect(FileManager.default.fileExists(atPath: installed.home + "/.local/share/memofs/memofs.log"))

        let manual = try await loginShell(installed, "man -w memofs")
        #expect(manual.text.trimmingCharacters(in: .whitespacesAndNewlines) == installed.manual, "\(manual.text)\(manual.errors)")
        let page = try await loginShell(installed, "MANWIDTH=80 man memofs | head -5")
        #expect(page.text.contains("recordings synced between devices"), "\(page.text)\(page.errors)")

        let unmounted = try await loginShell(installed, "umount ~/Memos")
        #expect(unmounted.status == 0, "\(unmounted.errors)")
        try await eventually("the mount gone", timeout: 10) { !MountedMemofs.isMounted(mountpoint) }
    }

    /// Without root and without --prefix: everything under ~/.local and ~/.config, no mount(8)
    /// helper, and a new login shell of a HOME with no ~/.profile finds `memofs` and its manual.
    /// Run as `nobody` when the tests run as root.
    @Test func aUserInstallGoesUnderHomeAndANewLoginShellFindsIt() async throws {
        let folder = try TemporaryFolder()
        let home = folder.path + "/home"
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        let asUser: [String]
        if getuid() == 0 {
            try FileManager.default.setAttributes([.ownerAccountID: 65534, .groupOwnerAccountID: 65534], ofItemAtPath: home)
            asUser = ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        } else {
            asUser = []
        }
        let environment = ["/usr/bin/env", "-i", "HOME=\(home)", "USER=nobody", "LOGNAME=nobody", "TERM=dumb"]
        let installed = try await run(asUser + environment + ["PATH=/usr/local/bin:/usr/bin:/bin", "/bin/bash",
                                      Self.repository + "/mount-scripts/install", "--binary", memofsExecutable], timeout: 60)
        let output = installed.text + installed.errors
        #expect(installed.status == 0, "\(output)")
        #expect(output.contains("program       \(home)/.local/bin/memofs"), "\(output)")
        #expect(output.contains("systemd unit  \(home)/.config/systemd/user/memofs.service"), "\(output)")
        #expect(output.contains("manual page   \(home)/.local/share/man/man1/memofs.1"), "\(output)")
        #expect(output.contains("mount helper  not installed"), "\(output)")
        #expect(output.contains("added \(home)/.local/bin to PATH in \(home)/.profile"), "\(output)")
        #expect(FileManager.default.fileExists(atPath: home + "/.local/share/bash-completion/completions/memofs"))

        let shell = try await run(asUser + environment + ["/bin/bash", "-l", "-c", "command -v memofs && memofs --version && man -w memofs"],
                                  timeout: 30)
        #expect(shell.status == 0, "\(shell.errors)")
        #expect(shell.text == "\(home)/.local/bin/memofs\n0.1.0\n\(home)/.local/share/man/man1/memofs.1\n", "\(shell.text)")
    }

    /// The helper as installed, with mount(8)'s PATH and nothing else: it mounts in the
    /// background with options from `-o`, `umount` ends it, and unknown options are refused by name.
    @Test func theMountHelperMountsWithMountsOwnPath() async throws {
        let folder = try TemporaryFolder()
        let installed = try await install(into: folder)
        let mountpoint = folder.path + "/mnt"
        try FileManager.default.createDirectory(atPath: mountpoint, withIntermediateDirectories: true)
        defer { Self.unmount(mountpoint) }
        let bare = ["/usr/bin/env", "-i", "PATH=" + Self.barePath, "MEMOFS_NO_PUBLIC_NETWORK=1"]

        let refused = try await run(bare + [installed.helper, folder.path + "/data", mountpoint, "-o", "rw,bogus=1"], timeout: 20)
        #expect(refused.status != 0)
        #expect(refused.errors.contains("unknown mount option 'bogus'"), "\(refused.errors)")
        #expect(!MountedMemofs.isMounted(mountpoint))

        let mounted = try await run(bare + [installed.helper, folder.path + "/data", mountpoint, "-v",
                                            "-o", "rw,nosuid,nodev,port=0,listen=127.0.0.1"], timeout: 40)
        #expect(mounted.status == 0, "\(mounted.errors)")
        #expect(MountedMemofs.isMounted(mountpoint))
        #expect(try await run(["/bin/ls", mountpoint], timeout: 10).text.contains("shared"))
        let log = try String(contentsOfFile: folder.path + "/data/memofs.log", encoding: .utf8)
        #expect(log.contains("mounted \(mountpoint)"))
        #expect(log.contains("peers on 127.0.0.1:"), "\(log)")
        #expect(try await run(["/bin/umount", mountpoint], timeout: 10).status == 0)
        try await eventually("the mount gone", timeout: 10) { !MountedMemofs.isMounted(mountpoint) }
        // The background daemon ended once unmounted.
        try await eventually("the daemon gone", timeout: 10) {
            try await run(["/usr/bin/pgrep", "-f", "memofs mount \(mountpoint) "], timeout: 10).status != 0
        }

        // Not installed and memofs not on PATH: the way out is named.
        let uninstalled = try await run(bare + [Self.repository + "/mount-scripts/mount.memofs", folder.path + "/data", mountpoint],
                                        timeout: 10)
        #expect(uninstalled.status != 0)
        #expect(uninstalled.errors.contains("mount-scripts/install"), "\(uninstalled.errors)")
    }

    /// ExecStart names the installed memofs by an absolute path, which exists and runs.
    @Test func theUnitStartsTheInstalledMemofs() async throws {
        let folder = try TemporaryFolder()
        let installed = try await install(into: folder)
        let unit = try String(contentsOfFile: installed.unit, encoding: .utf8)
        let execStart = unit.split(separator: "\n").first { $0.hasPrefix("ExecStart=") }
            .map { String($0.dropFirst("ExecStart=".count)) } ?? ""
        let program = String(execStart.split(separator: " ").first ?? "")
        #expect(program == installed.memofs, "\(execStart)")
        #expect(program.hasPrefix("/") && FileManager.default.isExecutableFile(atPath: program))
        #expect(execStart.hasSuffix(" mount %h/Memos --foreground"), "\(execStart)")
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-analyze"),
                   "systemd-analyze is not installed, so the unit is checked only by theUnitStartsTheInstalledMemofs"))
    func systemdAnalyzeVerifiesTheInstalledUnit() async throws {
        let folder = try TemporaryFolder()
        let installed = try await install(into: folder)
        // With memofs on PATH, as for its user; verify also runs `man memofs(1)` (Documentation=).
        let verified = try await run(["/usr/bin/env", "-i", "HOME=\(installed.home)", "PATH=\(installed.prefix)/bin:" + Self.barePath,
                                      "/usr/bin/systemd-analyze", "verify", installed.unit], timeout: 30)
        #expect(verified.status == 0, "\(verified.text)\(verified.errors)")
        #expect(!verified.errors.contains("memofs.service"), "\(verified.errors)")
    }

    /// docs/memofs.1 renders without warnings and names every command of `memofs --help`, every
    /// option of `memofs mount --help` and every `-o` key memofs accepts, so it stays in step.
    @Test func theManualNamesEveryCommandAndMountOption() async throws {
        let source = Self.repository + "/docs/memofs.1"
        let rendered = try await run(["/usr/bin/env", "MANWIDTH=80", "/usr/bin/man", "--warnings", "-l", source], timeout: 30)
        #expect(rendered.status == 0)
        #expect(rendered.errors.isEmpty, "man --warnings: \(rendered.errors)")
        let groff = try await run(["/usr/bin/groff", "-man", "-ww", "-z", source], timeout: 30)
        #expect(groff.status == 0 && groff.errors.isEmpty, "groff: \(groff.errors)")
        // Justified lines have runs of spaces, and wrap anywhere: one space stands for any.
        let page = rendered.text.split(whereSeparator: { $0 == " " || $0 == "\n" }).joined(separator: " ")

        let help = try await run([memofsExecutable, "--help"], timeout: 10).text
        let commands = Self.section("SUBCOMMANDS:", of: help).compactMap { line -> String? in
            guard line.hasPrefix("  "), !line.hasPrefix("   "), let word = line.split(separator: " ").first else { return nil }
            return word.first?.isLetter == true ? String(word) : nil
        }
        #expect(commands.count >= 7, "\(help)")
        for command in commands {
            let named = page.contains("memofs \(command) ")
            #expect(named, "the manual lacks the command \(command)")
        }

        let mountHelp = try await run([memofsExecutable, "mount", "--help"], timeout: 10).text
        let options = Self.section("OPTIONS:", of: mountHelp).flatMap { line -> [String] in
            guard line.hasPrefix("  "), !line.hasPrefix("   ") else { return [] }
            let first = line.trimmingCharacters(in: .whitespaces).split(separator: " ").first.map(String.init) ?? ""
            // "-h, --help", "--lsd/--no-lsd", "--data <data>"
            return (first + " " + line).split(whereSeparator: { $0 == " " || $0 == "," || $0 == "/" })
                .map(String.init).filter { $0.hasPrefix("-") }
        }
        #expect(options.contains("--data") && options.contains("-o") && options.contains("--no-lsd"), "\(options)")
        for option in Set(options) {
            let named = page.range(of: "(^|[ ,(/])\(NSRegularExpression.escapedPattern(for: option))([ ,)/=]|$)",
                                   options: .regularExpression) != nil
            #expect(named, "the manual lacks the option \(option)")
        }

        // The -o keys, as memofs itself lists them when it refuses one.
        let refusal = try await run([memofsExecutable, "mount", "/", "-o", "no_such_key"], timeout: 10).errors
        let known = refusal.components(separatedBy: "(known: ").dropFirst().first?.components(separatedBy: ")").first ?? ""
        let keys = known.components(separatedBy: ", ")
        #expect(keys.count >= 10, "\(refusal)")
        for key in keys {
            let named = page.contains("-o \(key)")
            #expect(named, "the manual lacks -o \(key)")
        }
    }

    /// The lines of a help text's section, from its heading to the next blank line.
    static func section(_ heading: String, of text: String) -> [String] {
        let lines = text.components(separatedBy: "\n")
        guard let start = lines.firstIndex(where: { $0.hasPrefix(heading) }) else { return [] }
        return Array(lines[(start + 1)...].prefix { !$0.trimmingCharacters(in: .whitespaces).isEmpty })
    }
}
