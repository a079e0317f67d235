@testable import Engine
import Foundation
import Glibc
import PeerHarness
import TestSupport
import Testing

@Suite struct OpenFilesTests {
    /// A descriptor closed while a read uses it (the torrent stopped, or its file was first
    /// written and reopened) stays open until that read is done: closed at once, its number
    /// could go to another file before the read runs.
    @Test func aDescriptorInUseIsClosedOnlyWhenItsUserIsDone() throws {
        let folder = try TemporaryFolder()
        try folder.write("a.bin", count: 1000)
        let files = OpenFiles()
        var used: Int32 = -1
        try files.withDescriptor(for: folder.path + "/a.bin", writable: false) { descriptor in
            used = descriptor.rawValue
            // The first write opens the file writable and retires the read-only descriptor.
            try files.withDescriptor(for: folder.path + "/a.bin", writable: true) { writable in
                #expect(writable != descriptor)
            }
            files.closeAll()
            #expect(fcntl(descriptor.rawValue, F_GETFD) != -1, "closed under its reader")
            var byte: UInt8 = 0
            #expect(pread(descriptor.rawValue, &byte, 1, 0) == 1)
        }
        // Closed now (its number may already serve another test's file, never this one).
        var file = stat(), now = stat()
        #expect(stat(folder.path + "/a.bin", &file) == 0)
        #expect(fstat(used, &now) != 0 || now.st_ino != file.st_ino, "still open after its reader was done")
        #expect(throws: StorageError.self) { try files.withDescriptor(for: folder.path + "/a.bin", writable: false) { _ in } }
    }
}
