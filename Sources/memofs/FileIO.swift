import SystemPackage
import TorrentModel

/// The whole file; an error names the file (`path: No such file or directory`).
func readFile(_ path: String) throws -> [UInt8] {
    try MemofsError.naming(path) {
        let file = try FileDescriptor.open(path, .readOnly, options: .closeOnExec)
        return try file.closeAfter {
            var bytes: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let count = try chunk.withUnsafeMutableBytes { try file.read(into: $0) }
                if count == 0 { return bytes }
                bytes += chunk[0..<count]
            }
        }
    }
}

/// Creates or replaces the file (mode 0666 less the umask, as `fopen` makes it).
func writeFile(_ path: String, _ bytes: [UInt8]) throws {
    try MemofsError.naming(path) {
        let file = try FileDescriptor.open(path, .writeOnly, options: [.create, .truncate, .closeOnExec],
                                           permissions: [.ownerReadWrite, .groupReadWrite, .otherReadWrite])
        try file.closeAfter { _ = try file.writeAll(bytes) }
    }
}

/// A `.torrent` file read and parsed; a parse error names the file.
func readTorrent(_ path: String) throws -> Metainfo {
    let bytes = try readFile(path)
    do {
        return try Metainfo(bytes: bytes)
    } catch {
        throw MemofsError("\(path): \(MemofsError.describe(error))")
    }
}
