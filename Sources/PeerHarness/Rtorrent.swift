import Foundation

/// Debian's rtorrent (0.9.8, libtorrent of rakshasa: no fast extension, a 30 s choking
/// round) seeding one torrent, headless, on its own loopback address: DHT, PEX and UDP
/// trackers off. rtorrent loads only torrents that name a tracker; give it one that
/// nobody answers on loopback. Ready once its hash check of `folder` is done. End it with
/// `kill9()`: it reads no stdin and ignores the SIGTERM the test runner's children block.
public func startRtorrent(torrent: String, folder: String, work: String, host: String = "127.0.0.3") async throws -> (ChildProcess, Int) {
    let port = try freePort(host: host)
    let session = work + "/rtorrent-session"
    let ready = work + "/rtorrent-ready"
    try FileManager.default.createDirectory(atPath: session, withIntermediateDirectories: true)
    try? FileManager.default.removeItem(atPath: ready)
    let configuration = """
        directory.default.set = \(folder)
        session.path.set = \(session)
        network.bind_address.set = \(host)
        network.port_range.set = \(port)-\(port)
        network.port_random.set = no
        dht.mode.set = disable
        protocol.pex.set = no
        trackers.use_udp.set = no
        system.daemon.set = true
        method.set_key = event.download.hash_done, memofs_ready, "execute.nothrow=touch,\(ready)"
        load.start_verbose = \(torrent)

        """
    let configurationPath = work + "/rtorrent.rc"
    try configuration.write(toFile: configurationPath, atomically: true, encoding: .utf8)
    let child = try ChildProcess("/usr/bin/rtorrent", ["-n", "-o", "import=\(configurationPath)"], label: "rtorrent")
    let deadline = Date().addingTimeInterval(30)
    while !FileManager.default.fileExists(atPath: ready) {
        guard Date() < deadline, child.process.isRunning else {
            child.kill9()
            throw ChildProcess.Timeout(description: "rtorrent did not check its torrent within 30 s: \(child.errorOutput.suffix(500))")
        }
        try await Task.sleep(for: .milliseconds(50))
    }
    return (child, port)
}

/// A TCP port nobody listens on at `host` right now (bound, read and closed), for peers
/// that take only a fixed port.
public func freePort(host: String) throws -> Int {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard descriptor >= 0 else { throw ChildProcess.Timeout(description: "socket: \(String(cString: strerror(errno)))") }
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    inet_pton(AF_INET, host, &address.sin_addr)
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
            bind(descriptor, generic, length) == 0 && getsockname(descriptor, generic, &length) == 0
        }
    }
    guard bound else { throw ChildProcess.Timeout(description: "no free port on \(host): \(String(cString: strerror(errno)))") }
    return Int(UInt16(bigEndian: address.sin_port))
}
