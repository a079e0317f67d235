#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch
import SystemCalls
import SystemPackage

/// Hashes pieces with OpenSSL SHA-1.
public enum PieceHasher {
    /// How much data is read before its pieces are hashed in parallel.
    static let batchBytes = 32 << 20

    /// The SHA-1 of each `pieceLength` slice of `buffer` (the last may be shorter),
    /// spread over all cores.
    public static func hashPieces(_ buffer: UnsafeRawBufferPointer, pieceLength: Int) -> [SHA1Digest] {
        precondition(pieceLength > 0)
        let count = (buffer.count + pieceLength - 1) / pieceLength
        let results = UnsafeMutableBufferPointer<SHA1Digest?>.allocate(capacity: count)
        results.initialize(repeating: nil)
        defer { results.deallocate() }
        // Each iteration writes only its own slot, and concurrentPerform returns after all have run.
        nonisolated(unsafe) let output = results
        nonisolated(unsafe) let input = buffer
        DispatchQueue.concurrentPerform(iterations: count) { index in
            let start = index * pieceLength
            let end = min(start + pieceLength, input.count)
            output[index] = SHA1.hash(UnsafeRawBufferPointer(rebasing: input[start..<end]))
        }
        return results.map { $0! }
    }

    /// Reads `files` as one stream and hashes it in pieces. Fails if a file is shorter than
    /// listed, which means it changed while being hashed.
    static func hashFiles(_ files: [TorrentCreator.SourceFile], totalLength: Int64, pieceLength: Int) throws -> PieceHashes {
        let batchLength = max(pieceLength, batchBytes / pieceLength * pieceLength)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: batchLength, alignment: 64)
        defer { buffer.deallocate() }

        var digests: [SHA1Digest] = []
        digests.reserveCapacity(Int((totalLength - 1) / Int64(pieceLength) + 1))
        var reader = ConcatenatedReader(files: files)
        defer { reader.close() }
        var remaining = totalLength
        while remaining > 0 {
            let wanted = Int(min(Int64(batchLength), remaining))
            try reader.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<wanted]))
            digests += hashPieces(UnsafeRawBufferPointer(rebasing: buffer[0..<wanted]), pieceLength: pieceLength)
            remaining -= Int64(wanted)
        }
        return PieceHashes(digests)
    }
}

/// Reads several files one after another as if they were one.
private struct ConcatenatedReader {
    let files: [TorrentCreator.SourceFile]
    var fileIndex = 0
    var offsetInFile: Int64 = 0
    var descriptor: FileDescriptor?

    init(files: [TorrentCreator.SourceFile]) { self.files = files }

    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws {
        var filled = 0
        while filled < buffer.count {
            guard fileIndex < files.count else {
                throw MetainfoError.io(path: files.last?.diskPath ?? "", reason: "ran out of data: a file changed while it was hashed")
            }
            let file = files[fileIndex]
            if offsetInFile == file.length {
                closeCurrent()
                fileIndex += 1
                offsetInFile = 0
                continue
            }
            let want = Int(min(Int64(buffer.count - filled), file.length - offsetInFile))
            let got = try MetainfoError.naming(file.diskPath) {
                let opened = try descriptor ?? FileDescriptor.open(file.diskPath, .readOnly, options: .closeOnExec)
                descriptor = opened
                return try opened.read(fromAbsoluteOffset: offsetInFile,
                                       into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled..<(filled + want)]))
            }
            guard got > 0 else {
                throw MetainfoError.io(path: file.diskPath, reason: "the file became shorter while it was hashed")
            }
            filled += got
            offsetInFile += Int64(got)
        }
    }

    private mutating func closeCurrent() {
        try? descriptor?.close()
        descriptor = nil
    }

    mutating func close() { closeCurrent() }
}
