import FUSEKit
import Glibc
import SystemPackage
import Testing

/// What a thrown error answers the kernel with.
@Suite struct FUSEErrorTests {
    struct SomethingElse: Error {}

    @Test func aSystemErrorIsRepliedAsItsErrnoAndAnythingUnknownAsEIO() {
        #expect(FUSEError(replyingTo: Errno.noSpace).code == ENOSPC)
        #expect(FUSEError(replyingTo: Errno.isDirectory).code == EISDIR)
        #expect(FUSEError(replyingTo: FUSEError.notFound).code == ENOENT)
        #expect(FUSEError(replyingTo: CancellationError()).code == EINTR)
        #expect(FUSEError(replyingTo: SomethingElse()).code == EIO)
        #expect(FUSEError(Errno.noSuchFileOrDirectory) == .notFound)
        #expect(FUSEError(Errno.noSpace).description == "No space left on device")
    }
}
