import Foundation
import PeerHarness
import TestSupport
import Testing

/// A magnet whose metadata is refused (a file named "../escape"), through a real mount:
/// failed in `memofs status` with the reason, a file in `shared/` whose xattrs say so and
/// that cannot be read, and `rm` removes it.
@Suite(.serialized) struct FailedShareTests {
    func attribute(_ name: String, of path: String) async throws -> String {
        try await run(["/usr/bin/getfattr", "--only-values", "-n", name, path], timeout: 10).text
    }

    @Test func aShareWithRefusedMetadataIsFailedVisiblyAndGoesWithRm() async throws {
        let folder = try TemporaryFolder()
        let hostile = try ChildProcess("/usr/bin/python3", [supportFolder + "/hostile_peer.py", "--mode", "unsafe-metadata",
                                                           "--listen", "127.0.0.9:0"], label: "hostile unsafe-metadata")
        defer { hostile.stop() }
        let ready = try await hostile.waitForEvent("ready", timeout: 30)
        let hex = try #require(ready["infohash"] as? String)
        let port = try #require(ready["port"] as? Int)

        let mount = try await MountedMemofs(mountpoint: folder.path + "/mnt", dataFolder: folder.path + "/data")
        defer { mount.stop() }
        let magnet = "magnet:?xt=urn:btih:\(hex)&dn=escape&x.pe=127.0.0.9:\(port)\n"
        #expect(try await run(["/usr/bin/tee", mount.shared + "/.add"], timeout: 10, input: Data(magnet.utf8)).status == 0)

        var status = ""
        try await eventually("the share failed in memofs status") {
            status = try await run([memofsExecutable, "status", "--data", mount.dataFolder], timeout: 10).text
            return status.contains("escape (0 KiB) failed")
        }
        #expect(status.contains("error: metadata refused") && status.contains("unsafe file name"), "\(status)")
        #expect(status.contains("remove it with rm"), "\(status)")

        let share = mount.shared + "/escape"
        #expect(try await run(["/bin/ls", mount.shared], timeout: 10).text.split(separator: "\n").contains("escape"))
        #expect(try await attribute("user.memofs.state", of: share) == "failed")
        #expect(try await attribute("user.memofs.error", of: share).contains("unsafe file name"))
        #expect(try await attribute("user.memofs.infohash", of: share) == hex)
        let read = try await run(["/bin/cat", share], timeout: 10)
        #expect(read.status != 0 && read.errors.contains("Input/output error"), "\(read.errors)")

        #expect(try await run(["/bin/rm", share], timeout: 10).status == 0)
        #expect(!(try await run(["/bin/ls", mount.shared], timeout: 10).text.contains("escape")))
        try await eventually("the share gone from memofs status") {
            !(try await run([memofsExecutable, "status", "--data", mount.dataFolder, "--json"], timeout: 10).text.contains(hex))
        }
    }
}
