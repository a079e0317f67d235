#if canImport(Glibc)
import Glibc
#endif
import TorrentModel

func readFile(_ path: String) throws -> [UInt8] {
    guard let file = fopen(path, "rb") else { throw MemofsError.system(path) }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let count = fread(&chunk, 1, chunk.count, file)
        if count > 0 { bytes += chunk[0..<count] }
        if count < chunk.count {
            if ferror(file) != 0 { throw MemofsError.system(path) }
            return bytes
        }
    }
}

func writeFile(_ path: String, _ bytes: [UInt8]) throws {
    guard let file = fopen(path, "wb") else { throw MemofsError.system(path) }
    defer { fclose(file) }
    guard fwrite(bytes, 1, bytes.count, file) == bytes.count else {
        throw MemofsError.system(path)
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
