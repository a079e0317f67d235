#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Bencode
import Dispatch
import SystemCalls
import SystemPackage

/// Makes a v1 torrent from a file or a folder on disk.
///
/// Files are read in batches and each batch's pieces are hashed in parallel on
/// Dispatch's worker threads, never on the caller's thread: creating a torrent
/// for a recording must not stall the event loop or a FUSE reply.
public enum TorrentCreator {
    public struct Options: Sendable {
        /// Nil picks the length libtorrent would (``PieceLength/automatic(forTotalLength:)``).
        public var pieceLength: Int?
        /// Nil takes the file's or folder's own name.
        public var name: String?
        public var comment: String?
        public var createdBy: String?
        /// Seconds since 1970; nil means now.
        public var creationDate: Int64?
        /// Tracker tiers (BEP 12).
        public var trackers: [[String]]
        public var webSeeds: [String]
        public var isPrivate: Bool

        public init(pieceLength: Int? = nil, name: String? = nil, comment: String? = nil,
                    createdBy: String? = "memofs", creationDate: Int64? = nil,
                    trackers: [[String]] = [], webSeeds: [String] = [], isPrivate: Bool = false) {
            self.pieceLength = pieceLength
            self.name = name
            self.comment = comment
            self.createdBy = createdBy
            self.creationDate = creationDate
            self.trackers = trackers
            self.webSeeds = webSeeds
            self.isPrivate = isPrivate
        }
    }

    /// One file to put in the torrent: where it is on disk and its path inside the torrent.
    struct SourceFile: Sendable {
        let diskPath: String
        let components: [String]
        let length: Int64
    }

    public static func create(from path: String, options: Options = Options()) async throws -> Metainfo {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async {
                continuation.resume(with: Result { try createBlocking(from: path, options: options) })
            }
        }
    }

    /// The same as ``create(from:options:)`` on the calling thread, for callers that already run off it.
    public static func createBlocking(from path: String, options: Options = Options()) throws -> Metainfo {
        let trimmed = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
        let status = try FileStatus(trimmed)
        let name = options.name ?? trimmed.split(separator: "/").last.map(String.init) ?? trimmed
        if let problem = SafePath.problem(with: name) {
            throw MetainfoError.unsafePath(file: SafePath.show([name]), reason: problem)
        }

        let sources: [SourceFile]
        let isSingleFile: Bool
        if status.isDirectory {
            sources = try listFiles(in: trimmed, under: [])
            isSingleFile = false
            guard !sources.isEmpty else { throw MetainfoError.io(path: path, reason: "the folder holds no files") }
        } else if status.isRegularFile {
            sources = [SourceFile(diskPath: trimmed, components: [name], length: status.size)]
            isSingleFile = true
        } else {
            throw MetainfoError.io(path: path, reason: "not a regular file or a folder")
        }

        let totalLength = sources.reduce(Int64(0)) { $0 + $1.length }
        guard totalLength > 0 else { throw MetainfoError.io(path: path, reason: "there is no data to share (0 bytes)") }
        let pieceLength = options.pieceLength ?? PieceLength.automatic(forTotalLength: totalLength)
        guard PieceLength.isValidForCreation(pieceLength) else {
            throw MetainfoError.invalidValue(field: "piece length",
                                             reason: "\(pieceLength) is not a power of two from 16 KiB to 16 MiB")
        }
        let pieces = try PieceHasher.hashFiles(sources, totalLength: totalLength, pieceLength: pieceLength)

        var info: [[UInt8]: BencodeValue] = [
            Array("name".utf8): .string(name),
            Array("piece length".utf8): .integer(Int64(pieceLength)),
            Array("pieces".utf8): .bytes(pieces.bytes),
        ]
        if isSingleFile {
            info[Array("length".utf8)] = .integer(totalLength)
        } else {
            info[Array("files".utf8)] = .list(sources.map { source in
                .dict(["length": .integer(source.length), "path": .list(source.components.map(BencodeValue.string))])
            })
        }
        if options.isPrivate { info[Array("private".utf8)] = .integer(1) }

        let torrentInfo = try TorrentInfo(bytes: BencodeEncoder.encode(.dictionary(info)))
        let tiers = options.trackers.map { $0.filter { !$0.isEmpty } }.filter { !$0.isEmpty }
        let trackerCount = tiers.reduce(0) { $0 + $1.count }
        return Metainfo(info: torrentInfo,
                        announce: tiers.first?.first,
                        announceList: trackerCount > 1 ? tiers : [],
                        urlList: options.webSeeds,
                        comment: options.comment,
                        createdBy: options.createdBy,
                        creationDate: options.creationDate ?? Int64(time(nil)))
    }

    /// Every regular file below `folder`, sorted by path so that the same folder always
    /// makes the same torrent. Symbolic links and special files are left out.
    static func listFiles(in folder: String, under prefix: [String]) throws -> [SourceFile] {
        var names = try MetainfoError.naming(folder) { try FilePath(folder).directoryEntries() }
        names.sort { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }

        var files: [SourceFile] = []
        for name in names {
            let diskPath = folder + "/" + name
            let status = try FileStatus(diskPath)
            if status.isDirectory {
                files += try listFiles(in: diskPath, under: prefix + [name])
            } else if status.isRegularFile {
                files.append(SourceFile(diskPath: diskPath, components: prefix + [name], length: status.size))
            }
        }
        return files
    }
}

/// The parts of `lstat` that torrent creation needs.
struct FileStatus {
    let isDirectory: Bool
    let isRegularFile: Bool
    let size: Int64

    init(_ path: String) throws {
        let status = try MetainfoError.naming(path) { try FilePath(path).stat(followTargetSymlink: false) }
        isDirectory = status.type == .directory
        isRegularFile = status.type == .regular
        size = status.size
    }
}
