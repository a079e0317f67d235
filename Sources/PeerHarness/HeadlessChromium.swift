import Foundation

/// Debian's Chromium, headless, inside a `RootVethNamespace`, opening one page: a real browser's
/// RTCPeerConnection for interop tests. Kept off every network but the namespace's veth: no
/// background networking, component updates, sync or pings, and a resolver that maps every
/// name to NOTFOUND except the page server's address (and `*.local`, the mDNS names WebRTC
/// gives host candidates by default). `stop()` ends it by PID; the namespace's `remove()` then
/// kills any helper process left inside.
public final class HeadlessChromium: @unchecked Sendable {
    public static let executable = "/usr/lib/chromium/chromium"

    /// Whether this machine can run it: the binary is there and we are root (network namespaces).
    public static var isAvailable: Bool {
        FileManager.default.isExecutableFile(atPath: executable) && getuid() == 0
    }

    /// How Chromium writes its ICE host candidates.
    public enum HostCandidates: String, Sendable, CaseIterable {
        /// Its default: each host address hidden behind a random `UUID.local` mDNS name.
        case mdns
        /// `--disable-features=WebRtcHideLocalIpsWithMdns`: plain IP addresses.
        case raw
    }

    public let process: ChildProcess
    private let profile: URL

    /// Starts Chromium in `namespace` on `url`. `MEMOFS_CHROMIUM_LOG=1` adds `--enable-logging=stderr --v=1`
    /// (its output is in `process.errorOutput`).
    public init(in namespace: RootVethNamespace, url: String, hostCandidates: HostCandidates) throws {
        profile = FileManager.default.temporaryDirectory.appendingPathComponent("memofs-chromium-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: profile, withIntermediateDirectories: true)
        var disabled = ["MediaRouter", "OptimizationHints", "Translate", "DialMediaRouteProvider",
                        "InterestFeedContentSuggestions", "CertificateTransparencyComponentUpdater",
                        "AutofillServerCommunication"]
        if hostCandidates == .raw { disabled.append("WebRtcHideLocalIpsWithMdns") }
        var flags = [
            "--headless=new", "--no-sandbox", "--disable-gpu", "--user-data-dir=\(profile.path)",
            "--no-first-run", "--no-default-browser-check", "--disable-default-apps",
            "--disable-extensions", "--disable-component-update", "--disable-sync",
            "--disable-background-networking", "--disable-domain-reliability",
            "--disable-client-side-phishing-detection", "--disable-breakpad",
            "--metrics-recording-only", "--no-pings", "--password-store=basic",
            "--use-mock-keychain", "--disable-dev-shm-usage",
            "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
            "--disable-backgrounding-occluded-windows",
            "--disable-features=" + disabled.joined(separator: ","),
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE \(namespace.rootAddress), EXCLUDE *.local",
        ]
        if ProcessInfo.processInfo.environment["MEMOFS_CHROMIUM_LOG"] == "1" {
            flags += ["--enable-logging=stderr", "--v=1"]
        }
        do {
            process = try ChildProcess(command: namespace.command([Self.executable] + flags + [url]), label: "chromium")
        } catch {
            try? FileManager.default.removeItem(at: profile)
            throw error
        }
    }

    /// Ends the browser (stdin closed, SIGTERM, SIGKILL, to its PID) and removes its profile.
    public func stop() {
        process.stop()
        try? FileManager.default.removeItem(at: profile)
    }

    deinit { stop() }
}
