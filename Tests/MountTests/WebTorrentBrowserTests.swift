import Engine
import Foundation
import PeerHarness
import TestSupport
import Testing
import TorrentModel

/// memofs against the real WebTorrent 3.0.21 browser build in headless Chromium (wt_peer.py),
/// all in one network namespace with only loopback: a browser seeds and memofs reads through
/// the mount, memofs seeds and a browser downloads. Each test prints what it measured.
@Suite(.serialized, .enabled(if: WebTorrentPeer.unavailableReason == nil, "\(WebTorrentPeer.unavailableReason ?? "")"))
struct WebTorrentBrowserTests {
    /// A 5 s WebM/Opus recording and 20 MB of pseudo-random bytes in `folder`.
    func recordings(_ folder: TemporaryFolder) async throws -> (webm: String, big: String) {
        try await makeWebM(at: folder.path + "/rec.webm", seconds: 5)
        _ = try folder.write("big.bin", count: 20_000_000, seed: 15)
        return (folder.path + "/rec.webm", folder.path + "/big.bin")
    }

    func rate(_ bytes: Int, _ seconds: Double) -> String {
        String(format: "%.2f MB/s (%d bytes in %.2f s)", Double(bytes) / seconds / 1e6, bytes, seconds)
    }

    /// The WebM's duration as ffprobe reads it, nil if it cannot.
    func duration(_ path: String) async throws -> Double? {
        let probe = try await run(["/usr/bin/ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", path],
                                  timeout: 60)
        return probe.status == 0 ? Double(probe.text.trimmingCharacters(in: .whitespacesAndNewlines)) : nil
    }

    @Test
    func recordingsABrowserSeedsAreReadThroughTheMount() async throws {
        let folder = try TemporaryFolder()
        let namespace = try LoopbackNamespace()
        defer { namespace.remove() }
        let (webm, big) = try await recordings(folder)
        let (tracker, url) = try await WebTorrentPeer.tracker(in: namespace, logs: folder.path + "/logs")
        defer { tracker.stop() }
        let (webmSeeder, webmMagnet) = try await WebTorrentPeer.seed(webm, announce: url, in: namespace, logs: folder.path + "/logs")
        defer { webmSeeder.stop() }
        let (bigSeeder, bigMagnet) = try await WebTorrentPeer.seed(big, announce: url, in: namespace, logs: folder.path + "/logs")
        defer { bigSeeder.stop() }
        let memofs = try await MountedMemofs(mountpoint: folder.path + "/mnt", dataFolder: folder.path + "/data",
                                             extra: ["-vv"], launcher: namespace.command([]))
        defer { memofs.stop() }

        let added = Date()
        for magnet in [webmMagnet, bigMagnet] {
            #expect(try await run(["/bin/sh", "-c", "echo '\(magnet)' > '\(memofs.shared)/.add'"], timeout: 10).status == 0)
        }
        let mounted = memofs.shared + "/rec.webm"
        try await eventually("rec.webm in shared/", timeout: 60) { FileManager.default.fileExists(atPath: mounted) }
        let first = try await run(["/usr/bin/head", "-c", "1", mounted], timeout: 60)
        let firstByte = Date().timeIntervalSince(added)
        #expect(first.output.count == 1, "\(first.errors)\n\(memofs.daemonLog.suffix(3000))")
        let seconds = try await duration(mounted)
        let probed = Date().timeIntervalSince(added)
        #expect(seconds.map { abs($0 - 5) < 0.2 } == true, "ffprobe through the mount: \(String(describing: seconds))")
        print("browser → memofs: .add to first byte \(String(format: "%.2f", firstByte)) s, to ffprobe done "
              + String(format: "%.2f", probed) + " s")
        #expect(try await run(["/usr/bin/cmp", webm, mounted], timeout: 60).status == 0)

        let bigMounted = memofs.shared + "/big.bin"
        try await eventually("big.bin in shared/", timeout: 60) { FileManager.default.fileExists(atPath: bigMounted) }
        let source = try Data(contentsOf: URL(fileURLWithPath: big))
        var random = SeededGenerator(seed: 15)
        for _ in 0..<4 {
            let block = Int.random(in: 0..<(source.count / 65_536), using: &random)
            let read = try await run(["/bin/dd", "if=" + bigMounted, "bs=65536", "skip=\(block)", "count=1", "status=none"], timeout: 60)
            #expect(read.output == source[(block * 65_536)..<min(source.count, (block + 1) * 65_536)], "block \(block)")
        }
        let whole = try await run(["/usr/bin/cmp", big, bigMounted], timeout: 180)
        #expect(whole.status == 0, "\(whole.text) \(whole.errors)\n\(memofs.daemonLog.suffix(3000))")
        print("browser → memofs: 20 MB read through the mount (cmp) at \(rate(source.count, whole.seconds))")
    }

    @Test
    func aBrowserDownloadsRecordingsMemofsSeeds() async throws {
        let folder = try TemporaryFolder()
        let namespace = try LoopbackNamespace()
        defer { namespace.remove() }
        let (webm, big) = try await recordings(folder)
        let (tracker, url) = try await WebTorrentPeer.tracker(in: namespace, logs: folder.path + "/logs")
        defer { tracker.stop() }
        let memofs = try await MountedMemofs(mountpoint: folder.path + "/mnt", dataFolder: folder.path + "/data",
                                             extra: ["--tracker", url, "-vv"], launcher: namespace.command([]))
        defer { memofs.stop() }
        for file in [webm, big] {
            #expect(try await run(["/bin/cp", file, memofs.local + "/"], timeout: 60).status == 0)
        }

        var rates: [String] = []
        for file in [webm, big] {
            let name = (file as NSString).lastPathComponent
            var magnet = ""
            try await eventually("\(name).magnet", timeout: 60) {
                magnet = try await run(["/bin/cat", memofs.local + "/\(name).magnet"], timeout: 10).text
                    .trimmingCharacters(in: .whitespacesAndNewlines)
                return magnet.hasPrefix("magnet:?")
            }
            let result = try await WebTorrentPeer.download(magnet, into: folder.path + "/out-\(name)", timeout: 120,
                                                           in: namespace, logs: folder.path + "/logs")
            let files = result["files"] as? [[String: Any]] ?? []
            let length = try FileManager.default.attributesOfItem(atPath: file)[.size] as? Int
            #expect(result["ok"] as? Bool == true, "\(result)\n\(memofs.daemonLog.suffix(3000))")
            #expect(files.first?["sha1"] as? String == (try sha1(ofFile: file)))
            #expect(files.first?["length"] as? Int == length)
            if let metadata = result["metadata_s"] as? Double, let done = result["done_s"] as? Double, let length {
                rates.append("\(name): metadata \(metadata) s after launch, \(rate(length, done - metadata))")
            }
        }
        print("memofs → browser: " + rates.joined(separator: "; "))

        // The same 20 MB from one browser to another, for comparison.
        let (seeder, magnet) = try await WebTorrentPeer.seed(big, announce: url, in: namespace, logs: folder.path + "/logs")
        defer { seeder.stop() }
        let result = try await WebTorrentPeer.download(magnet, into: folder.path + "/out-b2b", timeout: 120, in: namespace,
                                                       logs: folder.path + "/logs")
        #expect(result["ok"] as? Bool == true, "\(result)")
        if let metadata = result["metadata_s"] as? Double, let done = result["done_s"] as? Double {
            print("browser → browser: big.bin \(rate(20_000_000, done - metadata))")
        }
    }

    /// Two browsers seed the same file; one is killed (SIGKILL, no goodbye on its data channel)
    /// a second into a read through the mount, which still completes from the other.
    @Test
    func aReadOutlivesABrowserSeederKilledMidway() async throws {
        let folder = try TemporaryFolder()
        let namespace = try LoopbackNamespace()
        defer { namespace.remove() }
        let source = folder.path + "/big.bin"
        _ = try folder.write("big.bin", count: 20_000_000, seed: 17)
        let (tracker, url) = try await WebTorrentPeer.tracker(in: namespace, logs: folder.path + "/logs")
        defer { tracker.stop() }
        let (first, magnet) = try await WebTorrentPeer.seed(source, announce: url, in: namespace, logs: folder.path + "/a")
        defer { first.stop() }
        let (second, sameMagnet) = try await WebTorrentPeer.seed(source, announce: url, in: namespace, logs: folder.path + "/b")
        defer { second.stop() }
        #expect(magnet == sameMagnet, "both browsers made the same torrent")
        let memofs = try await MountedMemofs(mountpoint: folder.path + "/mnt", dataFolder: folder.path + "/data",
                                             extra: ["-vv"], launcher: namespace.command([]))
        defer { memofs.stop() }
        #expect(try await run(["/bin/sh", "-c", "echo '\(magnet)' > '\(memofs.shared)/.add'"], timeout: 10).status == 0)
        let mounted = memofs.shared + "/big.bin"
        try await eventually("both browsers as memofs's peers", timeout: 60) {
            let peers = try await run([memofsExecutable, "status", "--data", memofs.dataFolder, "--peers"], timeout: 10).text
            return peers.components(separatedBy: "over webrtc").count == 3
        }
        async let read = run(["/usr/bin/cmp", source, mounted], timeout: 120)
        try await Task.sleep(for: .seconds(1))
        first.stop()
        let whole = try await read
        #expect(whole.status == 0, "\(whole.text) \(whole.errors)\n\(memofs.daemonLog.suffix(3000))")
        print("browser seeder killed 1 s into a 20 MB read: the read completed in \(String(format: "%.2f", whole.seconds)) s")
    }

    /// One swarm, both kinds of peer: libtorrent seeds over TCP only a torrent that also names
    /// the WebSocket tracker; memofs reads it from libtorrent, and a browser, which cannot reach
    /// libtorrent, downloads it from memofs over WebRTC.
    @Test
    func aBrowserGetsFromMemofsWhatOnlyATCPPeerSeeds() async throws {
        try await hybridSwarm(relaying: false)
    }

    /// The same with the browser there while memofs is still getting the file (libtorrent held to
    /// 1 MB/s): it gets each piece as memofs announces it with `have`.
    @Test
    func aBrowserGetsPiecesFromMemofsAsMemofsGetsThem() async throws {
        try await hybridSwarm(relaying: true)
    }

    /// The other way round: a browser seeds, memofs reads it through the mount (over WebRTC),
    /// and libtorrent, which knows only memofs's TCP address and speaks no WebRTC, gets every
    /// piece from memofs.
    @Test
    func aTCPPeerGetsFromMemofsWhatOnlyABrowserSeeds() async throws {
        let folder = try TemporaryFolder()
        let namespace = try LoopbackNamespace()
        defer { namespace.remove() }
        let bytes = try folder.write("browser.bin", count: 8_000_000, seed: 17)
        let (tracker, url) = try await WebTorrentPeer.tracker(in: namespace, logs: folder.path + "/logs")
        defer { tracker.stop() }
        let (seeder, magnet) = try await WebTorrentPeer.seed(folder.path + "/browser.bin", announce: url, in: namespace,
                                                             logs: folder.path + "/logs")
        defer { seeder.stop() }
        let memofs = try await MountedMemofs(mountpoint: folder.path + "/mnt", dataFolder: folder.path + "/data",
                                             extra: ["-vv"], launcher: namespace.command([]))
        defer { memofs.stop() }
        #expect(try await run(["/bin/sh", "-c", "echo '\(magnet)' > '\(memofs.shared)/.add'"], timeout: 10).status == 0)
        let mounted = memofs.shared + "/browser.bin"
        try await eventually("browser.bin in shared/", timeout: 60) { FileManager.default.fileExists(atPath: mounted) }
        let read = try await run(["/usr/bin/cmp", folder.path + "/browser.bin", mounted], timeout: 120)
        #expect(read.status == 0, "\(read.text) \(read.errors)\n\(memofs.daemonLog.suffix(3000))")

        let status = try await run([memofsExecutable, "status", "--data", memofs.dataFolder], timeout: 10).text
        let port = try #require(status.components(separatedBy: "peers on port ").dropFirst().first?
            .prefix { $0.isNumber }).flatMap { Int($0) }
        var tcpOnly = MagnetLink(infoHash: try MagnetLink(parsing: magnet).infoHash)
        tcpOnly.peers = [PeerAddress("127.0.0.1:\(port!)")!]
        let started = Date()
        let leecher = try ChildProcess(command: namespace.command(["/usr/bin/python3", supportFolder + "/lt_peer.py", "download",
                                                                    "--magnet", tcpOnly.uri, "--dir", folder.path + "/lt",
                                                                    "--listen", "127.0.0.2:0", "--lifetime", "240"]),
                                       label: "libtorrent download")
        defer { leecher.stop() }
        _ = try await leecher.waitForEvent("done", timeout: 60)
        let copied = try Data(contentsOf: URL(fileURLWithPath: folder.path + "/lt/browser.bin"))
        #expect(copied == Data(bytes), "libtorrent's copy")
        print("browser (WebRTC) → memofs → libtorrent (TCP): 8 MB in \(String(format: "%.2f", Date().timeIntervalSince(started))) s")
    }

    func hybridSwarm(relaying: Bool) async throws {
        let folder = try TemporaryFolder()
        let namespace = try LoopbackNamespace()
        defer { namespace.remove() }
        let (tracker, url) = try await WebTorrentPeer.tracker(in: namespace, logs: folder.path + "/logs")
        defer { tracker.stop() }
        let bytes = try folder.write("seed/hybrid.bin", count: 8_000_000, seed: 16)
        let metainfo = try TorrentCreator.createBlocking(from: folder.path + "/seed/hybrid.bin",
                                                         options: .init(pieceLength: 65_536, trackers: [[url]]))
        let torrentPath = folder.path + "/hybrid.torrent"
        try Data(metainfo.encoded()).write(to: URL(fileURLWithPath: torrentPath))
        let libtorrent = try ChildProcess(command: namespace.command(["/usr/bin/python3", supportFolder + "/lt_peer.py", "seed",
                                                                       "--torrent", torrentPath, "--dir", folder.path + "/seed",
                                                                       "--listen", "127.0.0.2:0", "--lifetime", "240"]
                                                                      + (relaying ? ["--upload-limit", "1000000"] : [])),
                                          label: "libtorrent seed")
        defer { libtorrent.stop() }
        let port = try await libtorrent.waitForEvent("ready", timeout: 30)["port"] as? Int ?? 0
        let memofs = try await MountedMemofs(mountpoint: folder.path + "/mnt", dataFolder: folder.path + "/data",
                                             extra: ["-vv"], launcher: namespace.command([]))
        defer { memofs.stop() }

        var magnet = MagnetLink(infoHash: metainfo.infoHash, trackers: [url])
        magnet.peers = [PeerAddress("127.0.0.2:\(port)")!]
        #expect(try await run(["/bin/sh", "-c", "echo '\(magnet.uri)' > '\(memofs.shared)/.add'"], timeout: 10).status == 0)
        let mounted = memofs.shared + "/hybrid.bin"
        try await eventually("hybrid.bin in shared/", timeout: 60) { FileManager.default.fileExists(atPath: mounted) }
        let started = Date()
        async let read = run(["/usr/bin/cmp", folder.path + "/seed/hybrid.bin", mounted], timeout: 120)
        try await eventually("libtorrent as memofs's peer over TCP", timeout: 10) {
            let peers = try await run([memofsExecutable, "status", "--data", memofs.dataFolder, "--peers"], timeout: 10).text
            return peers.contains("peer 127.0.0.2:\(port) from")
        }
        if relaying {
            let status = try await run([memofsExecutable, "status", "--data", memofs.dataFolder], timeout: 10).text
            #expect(status.contains("hybrid.bin") && status.contains("downloading"), "memofs still getting it: \(status)")
        } else {
            let whole = try await read
            #expect(whole.status == 0, "\(whole.text) \(whole.errors)\n\(memofs.daemonLog.suffix(3000))")
        }

        // The browser knows only the tracker: libtorrent does not speak WebRTC, so every piece is memofs's.
        let browserStarted = Date().timeIntervalSince(started)
        let result = try await WebTorrentPeer.download(MagnetLink(infoHash: metainfo.infoHash, trackers: [url]).uri,
                                                       into: folder.path + "/out", timeout: 120, in: namespace,
                                                       logs: folder.path + "/logs")
        let browserDone = Date().timeIntervalSince(started)
        let whole = try await read
        #expect(whole.status == 0, "\(whole.text) \(whole.errors)\n\(memofs.daemonLog.suffix(3000))")
        let files = result["files"] as? [[String: Any]] ?? []
        #expect(result["ok"] as? Bool == true, "\(result)\n\(memofs.daemonLog.suffix(3000))")
        #expect(files.first?["sha1"] as? String == SHA1.hash(bytes).hex)
        let wires = (result["summary"] as? [String: Any])?["wires"] as? [[String: Any]] ?? []
        let peers = Set(wires.compactMap { $0["peerId"] as? String })
        let memofsPrefix = PeerID.clientPrefix.map { String(format: "%02x", $0) }.joined()
        #expect(!peers.isEmpty && peers.allSatisfy { $0.hasPrefix(memofsPrefix) }, "browser's peers: \(peers)")
        if relaying {
            print(String(format: "libtorrent (1 MB/s) → memofs → browser: memofs read 8 MB in %.2f s; browser started at %.2f s, "
                         + "done at %.2f s", whole.seconds, browserStarted, browserDone))
        } else if let metadata = result["metadata_s"] as? Double, let done = result["done_s"] as? Double {
            print("libtorrent → memofs (TCP) → browser (WebRTC): 8 MB at \(rate(bytes.count, done - metadata))")
        }
    }

    /// The same over a wss:// tracker with a self-signed certificate memofs is told to trust
    /// (`--tracker-certificate`): a browser seeds a recording memofs reads, and downloads one memofs seeds.
    @Test
    func browsersAndMemofsMeetThroughAWSSTracker() async throws {
        let folder = try TemporaryFolder()
        let namespace = try LoopbackNamespace()
        defer { namespace.remove() }
        try await makeWebM(at: folder.path + "/rec.webm", seconds: 5)
        try await makeWebM(at: folder.path + "/mine/other.webm", seconds: 3)
        let (tracker, url) = try await WebTorrentPeer.tracker(options: ["--wss"], in: namespace, logs: folder.path + "/logs")
        defer { tracker.stop() }
        #expect(url.hasPrefix("wss://"))
        let trusting = ["--ignore-cert-errors"]
        let (seeder, magnet) = try await WebTorrentPeer.seed(folder.path + "/rec.webm", announce: url, options: trusting,
                                                             in: namespace, logs: folder.path + "/seeder")
        defer { seeder.stop() }
        let memofs = try await MountedMemofs(mountpoint: folder.path + "/mnt", dataFolder: folder.path + "/data",
                                             extra: ["--tracker", url, "--tracker-certificate", folder.path + "/logs/tracker.crt", "-vv"],
                                             launcher: namespace.command([]))
        defer { memofs.stop() }

        #expect(try await run(["/bin/sh", "-c", "echo '\(magnet)' > '\(memofs.shared)/.add'"], timeout: 10).status == 0)
        let mounted = memofs.shared + "/rec.webm"
        try await eventually("rec.webm in shared/", timeout: 60) { FileManager.default.fileExists(atPath: mounted) }
        let read = try await run(["/usr/bin/cmp", folder.path + "/rec.webm", mounted], timeout: 60)
        #expect(read.status == 0, "\(read.text) \(read.errors)\n\(memofs.daemonLog.suffix(3000))")
        #expect(try await duration(mounted).map { abs($0 - 5) < 0.2 } == true)

        #expect(try await run(["/bin/cp", folder.path + "/mine/other.webm", memofs.local + "/"], timeout: 60).status == 0)
        var sidecar = ""
        try await eventually("other.webm.magnet", timeout: 60) {
            sidecar = try await run(["/bin/cat", memofs.local + "/other.webm.magnet"], timeout: 10).text
                .trimmingCharacters(in: .whitespacesAndNewlines)
            return sidecar.hasPrefix("magnet:?")
        }
        let result = try await WebTorrentPeer.download(sidecar, into: folder.path + "/out", timeout: 120, options: trusting,
                                                       in: namespace, logs: folder.path + "/downloader")
        let files = result["files"] as? [[String: Any]] ?? []
        #expect(result["ok"] as? Bool == true, "\(result)\n\(memofs.daemonLog.suffix(3000))")
        #expect(files.first?["sha1"] as? String == (try sha1(ofFile: folder.path + "/mine/other.webm")))
    }
}
