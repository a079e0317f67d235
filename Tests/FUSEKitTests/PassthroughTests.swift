@testable import FUSEKit
import Glibc
import NIOConcurrencyHelpers
import Testing

/// The passthrough bookkeeping and the bytes it puts into replies, with the ioctls replaced
/// by a counter and the replies written into a pipe.
@Suite struct PassthroughTests {
    /// Backing ids handed out and dropped.
    final class FakeKernel: @unchecked Sendable {
        let lock = NIOLock()
        var nextID: Int32 = 1
        var live: Set<Int32> = []
        var refuse = false

        var backingFiles: Passthrough.BackingFiles {
            Passthrough.BackingFiles(
                register: { _, _ in
                    self.lock.withLock {
                        if self.refuse { return -EPERM }
                        defer { self.nextID += 1 }
                        self.live.insert(self.nextID)
                        return self.nextID
                    }
                },
                unregister: { _, id in self.lock.withLock { _ = self.live.remove(id) } })
        }
    }

    /// An INIT request as the kernel sends it: header, then major, minor, readahead, flags, flags2.
    func initRequest(unique: UInt64, flags: UInt32, flags2: UInt32) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 40 + 64)
        bytes.withUnsafeMutableBytes {
            $0.storeBytes(of: UInt32(40 + 64), toByteOffset: 0, as: UInt32.self)
            $0.storeBytes(of: 26, toByteOffset: 4, as: UInt32.self)
            $0.storeBytes(of: unique, toByteOffset: 8, as: UInt64.self)
            $0.storeBytes(of: 7, toByteOffset: 40, as: UInt32.self)
            $0.storeBytes(of: 40, toByteOffset: 44, as: UInt32.self)
            $0.storeBytes(of: flags, toByteOffset: 52, as: UInt32.self)
            $0.storeBytes(of: flags2, toByteOffset: 56, as: UInt32.self)
        }
        return bytes
    }

    /// Writes a reply (header + payload) through `write` into a pipe and returns what came out.
    func reply(_ passthrough: Passthrough, unique: UInt64, payload: [UInt8]) -> [UInt8] {
        var fds: [Int32] = [0, 0]
        precondition(pipe(&fds) == 0)
        defer { close(fds[0]) }
        var header = [UInt8](repeating: 0, count: 16)
        header.withUnsafeMutableBytes {
            $0.storeBytes(of: UInt32(16 + payload.count), toByteOffset: 0, as: UInt32.self)
            $0.storeBytes(of: unique, toByteOffset: 8, as: UInt64.self)
        }
        var body = payload
        let written = header.withUnsafeMutableBytes { head in
            body.withUnsafeMutableBytes { body in
                var parts = [iovec(iov_base: head.baseAddress, iov_len: head.count),
                             iovec(iov_base: body.baseAddress, iov_len: body.count)]
                return passthrough.write(fds[1], &parts, 2)
            }
        }
        close(fds[1])
        precondition(written == 16 + payload.count)
        var output = [UInt8](repeating: 0, count: 256)
        let count = read(fds[0], &output, output.count)
        return Array(output[16..<count])
    }

    func initReply(flags: UInt32) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 64)
        bytes.withUnsafeMutableBytes { $0.storeBytes(of: flags, toByteOffset: 12, as: UInt32.self) }
        return bytes
    }

    func load<T>(_ bytes: [UInt8], _ offset: Int, as type: T.Type) -> T {
        bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: type) }
    }

    /// Negotiates as the kernel would when it offers passthrough.
    func negotiated(_ kernel: FakeKernel, wanted: Bool = true) -> (Passthrough, [UInt8]) {
        let passthrough = Passthrough(wanted: wanted, backingFiles: kernel.backingFiles)
        let request = initRequest(unique: 2, flags: 1 << 30, flags2: 1 << 5)
        request.withUnsafeBytes { passthrough.received($0.baseAddress!, count: $0.count) }
        return (passthrough, reply(passthrough, unique: 2, payload: initReply(flags: 1 << 30)))
    }

    @Test func theInitReplyAcceptsPassthroughOnlyWhenOffered() {
        let (accepted, amended) = negotiated(FakeKernel())
        #expect(accepted.isEnabled)
        #expect(load(amended, 32, as: UInt32.self) & (1 << 5) != 0)
        #expect(load(amended, 36, as: UInt32.self) == 1)

        // Not offered (an older kernel): the reply goes out as libfuse wrote it.
        let plain = Passthrough(wanted: true, backingFiles: FakeKernel().backingFiles)
        initRequest(unique: 2, flags: 1 << 30, flags2: 0).withUnsafeBytes { plain.received($0.baseAddress!, count: $0.count) }
        #expect(reply(plain, unique: 2, payload: initReply(flags: 1 << 30)) == initReply(flags: 1 << 30))
        #expect(!plain.isEnabled)

        // Turned off by the caller, or with the writeback cache on (the kernel forbids both).
        #expect(!negotiated(FakeKernel(), wanted: false).0.isEnabled)
        let writeback = Passthrough(wanted: true, backingFiles: FakeKernel().backingFiles)
        initRequest(unique: 2, flags: 1 << 30, flags2: 1 << 5).withUnsafeBytes { writeback.received($0.baseAddress!, count: $0.count) }
        let kept = reply(writeback, unique: 2, payload: initReply(flags: (1 << 30) | (1 << 16)))
        #expect(load(kept, 32, as: UInt32.self) == 0)
        #expect(!writeback.isEnabled)
    }

    @Test func anOpenReplyCarriesTheBackingIDAndOnlyAllowedFlags() {
        let (passthrough, _) = negotiated(FakeKernel())
        var open = [UInt8](repeating: 0, count: 16)
        open.withUnsafeMutableBytes {
            $0.storeBytes(of: UInt64(77), toByteOffset: 0, as: UInt64.self)
            $0.storeBytes(of: UInt32(0b10) | (1 << 5), toByteOffset: 8, as: UInt32.self)  // keep cache + noflush
        }
        let amended = passthrough.withPendingReply(handle: 77, backingID: 9) { reply(passthrough, unique: 40, payload: open) }
        #expect(load(amended, 8, as: UInt32.self) == (1 << 7) | (1 << 5))
        #expect(load(amended, 12, as: Int32.self) == 9)
        // Another handle's reply, or one written outside `withPendingReply`, is left alone.
        #expect(passthrough.withPendingReply(handle: 78, backingID: 9) { reply(passthrough, unique: 41, payload: open) } == open)
        #expect(reply(passthrough, unique: 42, payload: open) == open)
    }

    @Test func oneBackingFilePerInodeAndTheKernelsModeRules() {
        let kernel = FakeKernel()
        let (passthrough, _) = negotiated(kernel)
        // Two passthrough opens of one inode share one backing id, dropped with the last.
        let first = passthrough.decide(inode: 5, handle: 1, directIO: false, backingFile: dup(0))
        let second = passthrough.decide(inode: 5, handle: 2, directIO: false, backingFile: dup(0))
        #expect(first == .passthrough(backingID: 1))
        #expect(second == first)
        // An open without a backing file cannot join an inode in passthrough.
        #expect(passthrough.decide(inode: 5, handle: 3, directIO: true, backingFile: nil) == .busy)
        passthrough.released(inode: 5, handle: 1)
        #expect(kernel.live == [1])
        passthrough.released(inode: 5, handle: 2)
        #expect(kernel.live.isEmpty)

        // While an inode is open page-cached, it is not passed through; afterwards it is.
        #expect(passthrough.decide(inode: 6, handle: 4, directIO: false, backingFile: nil) == .cached)
        #expect(passthrough.decide(inode: 6, handle: 5, directIO: false, backingFile: dup(0)) == .cached)
        #expect(passthrough.decide(inode: 6, handle: 6, directIO: true, backingFile: nil) == .uncached)
        passthrough.released(inode: 6, handle: 4)
        passthrough.released(inode: 6, handle: 5)
        #expect(passthrough.decide(inode: 6, handle: 7, directIO: false, backingFile: dup(0)) == .passthrough(backingID: 2))

        // The kernel refusing the backing file (no CAP_SYS_ADMIN): served as before.
        kernel.refuse = true
        #expect(passthrough.decide(inode: 8, handle: 8, directIO: false, backingFile: dup(0)) == .cached)
    }

    @Test func withoutNegotiationNothingIsPassedThrough() {
        let passthrough = Passthrough(wanted: true, backingFiles: FakeKernel().backingFiles)
        #expect(passthrough.decide(inode: 5, handle: 1, directIO: false, backingFile: dup(0)) == .cached)
        #expect(passthrough.decide(inode: 5, handle: 2, directIO: true, backingFile: dup(0)) == .uncached)
    }
}
