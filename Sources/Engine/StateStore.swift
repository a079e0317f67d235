import Foundation
import GRDB
import TorrentModel

/// What the state database remembers of one torrent.
public struct TorrentRecord: Sendable, Equatable {
    public var infoHash: InfoHash
    /// How it was added: a magnet link (trackers, peers, name) for torrents from others,
    /// or the magnet memofs made for a local recording.
    public var magnet: String
    /// The `.torrent` bytes once the metadata is known.
    public var metainfo: [UInt8]?
    /// The folder the torrent's files are laid out in.
    public var root: String
    /// Download every piece (true), or only what readers ask for (false).
    public var downloadWhole: Bool
    public var addedAt: Int64
    /// Size and mtime of each file when a verified piece was last recorded.
    public var fileStamps: [FileStamp?]

    public init(infoHash: InfoHash, magnet: String, metainfo: [UInt8]?, root: String, downloadWhole: Bool,
                addedAt: Int64, fileStamps: [FileStamp?] = []) {
        self.infoHash = infoHash
        self.magnet = magnet
        self.metainfo = metainfo
        self.root = root
        self.downloadWhole = downloadWhole
        self.addedAt = addedAt
        self.fileStamps = fileStamps
    }
}

/// Torrents and their verified pieces in SQLite (WAL), so a restart or a crash resumes
/// without downloading or hashing again. A piece is recorded only after its bytes were
/// written, in the same transaction as the files' new size and mtime.
public final class StateStore: Sendable {
    let database: DatabasePool

    public init(path: String) throws {
        var configuration = Configuration()
        // Another connection may hold the lock for a moment (the previous session's last
        // writes, a checkpoint): wait for it rather than fail at once.
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        database = try DatabasePool(path: path, configuration: configuration)
        try Self.migrator.migrate(database)
    }

    private static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE torrent (
                    info_hash TEXT PRIMARY KEY NOT NULL,
                    magnet TEXT NOT NULL,
                    metainfo BLOB,
                    root TEXT NOT NULL,
                    download_whole INTEGER NOT NULL,
                    added_at INTEGER NOT NULL,
                    file_stamps TEXT NOT NULL DEFAULT '[]'
                );
                CREATE TABLE verified_piece (
                    info_hash TEXT NOT NULL REFERENCES torrent(info_hash) ON DELETE CASCADE,
                    piece INTEGER NOT NULL,
                    PRIMARY KEY (info_hash, piece)
                ) WITHOUT ROWID;
                """)
        }
        migrator.registerMigration("v2-pending") { db in
            // A piece about to be written: if the process dies before it is recorded as
            // verified, the file's changed mtime is explained by this write, not by an edit.
            try db.execute(sql: """
                CREATE TABLE pending_piece (
                    info_hash TEXT NOT NULL REFERENCES torrent(info_hash) ON DELETE CASCADE,
                    piece INTEGER NOT NULL,
                    PRIMARY KEY (info_hash, piece)
                ) WITHOUT ROWID;
                """)
        }
        migrator.registerMigration("v3-dht") { db in
            // The DHT node's id and the nodes it knew, so a restart rejoins where it left off.
            try db.execute(sql: """
                CREATE TABLE dht_node (
                    address TEXT PRIMARY KEY NOT NULL,
                    id BLOB NOT NULL
                ) WITHOUT ROWID;
                CREATE TABLE setting (
                    key TEXT PRIMARY KEY NOT NULL,
                    value BLOB NOT NULL
                ) WITHOUT ROWID;
                """)
        }
        return migrator
    }

    /// Records that a piece is about to be written (see the `pending_piece` table).
    public func markPending(_ pieces: [Int], for infoHash: InfoHash) async throws {
        try await database.write { db in
            let insert = try db.cachedStatement(sql: "INSERT OR IGNORE INTO pending_piece (info_hash, piece) VALUES (?, ?)")
            for piece in pieces { try insert.execute(arguments: [infoHash.hex, piece]) }
        }
    }

    public func pendingPieces(of infoHash: InfoHash) async throws -> [Int] {
        try await database.read { db in
            try Int.fetchAll(db, sql: "SELECT piece FROM pending_piece WHERE info_hash = ? ORDER BY piece",
                             arguments: [infoHash.hex])
        }
    }

    public func clearPending(of infoHash: InfoHash) async throws {
        try await database.write { db in
            try db.execute(sql: "DELETE FROM pending_piece WHERE info_hash = ?", arguments: [infoHash.hex])
        }
    }

    public func save(_ record: TorrentRecord) async throws {
        let stamps = try Self.encode(record.fileStamps)
        try await database.write { db in
            try db.execute(sql: """
                INSERT INTO torrent (info_hash, magnet, metainfo, root, download_whole, added_at, file_stamps)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(info_hash) DO UPDATE SET magnet = excluded.magnet, metainfo = excluded.metainfo,
                    root = excluded.root, download_whole = excluded.download_whole, file_stamps = excluded.file_stamps
                """, arguments: [record.infoHash.hex, record.magnet, record.metainfo.map { Data($0) }, record.root,
                                 record.downloadWhole, record.addedAt, stamps])
        }
    }

    /// After a clean stop, when every write has finished: the files' stamps as they are now,
    /// and no pending piece, so that an edit made before the next start is noticed.
    public func settle(_ infoHash: InfoHash, fileStamps: [FileStamp?]) async throws {
        let stamps = try Self.encode(fileStamps)
        try await database.write { db in
            try db.execute(sql: "UPDATE torrent SET file_stamps = ? WHERE info_hash = ?", arguments: [stamps, infoHash.hex])
            try db.execute(sql: "DELETE FROM pending_piece WHERE info_hash = ?", arguments: [infoHash.hex])
        }
    }

    /// Whether the torrent is downloaded whole (pinned) or only as read.
    public func setDownloadWhole(_ whole: Bool, for infoHash: InfoHash) async throws {
        try await database.write { db in
            try db.execute(sql: "UPDATE torrent SET download_whole = ? WHERE info_hash = ?", arguments: [whole, infoHash.hex])
        }
    }

    public func setMetainfo(_ metainfo: [UInt8], for infoHash: InfoHash) async throws {
        try await database.write { db in
            try db.execute(sql: "UPDATE torrent SET metainfo = ? WHERE info_hash = ?",
                           arguments: [Data(metainfo), infoHash.hex])
        }
    }

    /// Records verified pieces and the files' stamps after writing them.
    public func markVerified(_ pieces: [Int], for infoHash: InfoHash, fileStamps: [FileStamp?]) async throws {
        let stamps = try Self.encode(fileStamps)
        try await database.write { db in
            // Pending rows stay until the next start: they say which files this run wrote to.
            // File times are not a reliable order between writes (the kernel may hand a later
            // write an older, coarse time), so a recorded stamp can trail the file's real one;
            // such a file is explained by our writes, not by an edit behind our back.
            let insert = try db.cachedStatement(sql: "INSERT OR IGNORE INTO verified_piece (info_hash, piece) VALUES (?, ?)")
            for piece in pieces { try insert.execute(arguments: [infoHash.hex, piece]) }
            try db.execute(sql: "UPDATE torrent SET file_stamps = ? WHERE info_hash = ?", arguments: [stamps, infoHash.hex])
        }
    }

    /// Forgets verified pieces (their files changed and a re-check found them bad).
    public func forgetPieces(_ pieces: [Int], for infoHash: InfoHash, fileStamps: [FileStamp?]) async throws {
        let stamps = try Self.encode(fileStamps)
        try await database.write { db in
            for piece in pieces {
                try db.execute(sql: "DELETE FROM verified_piece WHERE info_hash = ? AND piece = ?",
                               arguments: [infoHash.hex, piece])
            }
            try db.execute(sql: "UPDATE torrent SET file_stamps = ? WHERE info_hash = ?", arguments: [stamps, infoHash.hex])
        }
    }

    /// Pieces evicted from the cache: no longer verified, and marked pending in the same
    /// transaction, so the next start takes the mtime their punched holes gave the files for
    /// our own change (as a write cut short by a crash), not for an edit behind our back.
    public func evict(_ pieces: [Int], for infoHash: InfoHash) async throws {
        try await database.write { db in
            let forget = try db.cachedStatement(sql: "DELETE FROM verified_piece WHERE info_hash = ? AND piece = ?")
            let pending = try db.cachedStatement(sql: "INSERT OR IGNORE INTO pending_piece (info_hash, piece) VALUES (?, ?)")
            for piece in pieces {
                try forget.execute(arguments: [infoHash.hex, piece])
                try pending.execute(arguments: [infoHash.hex, piece])
            }
        }
    }

    public func remove(_ infoHash: InfoHash) async throws {
        try await database.write { db in
            try db.execute(sql: "DELETE FROM verified_piece WHERE info_hash = ?", arguments: [infoHash.hex])
            try db.execute(sql: "DELETE FROM pending_piece WHERE info_hash = ?", arguments: [infoHash.hex])
            try db.execute(sql: "DELETE FROM torrent WHERE info_hash = ?", arguments: [infoHash.hex])
        }
    }

    public func torrents() async throws -> [TorrentRecord] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM torrent ORDER BY added_at, info_hash").compactMap { row in
                guard let hash = SHA1Digest(hex: row["info_hash"] as String).map(InfoHash.init) else { return nil }
                let metainfo: Data? = row["metainfo"]
                return TorrentRecord(infoHash: hash, magnet: row["magnet"], metainfo: metainfo.map { Array($0) },
                                     root: row["root"], downloadWhole: row["download_whole"], addedAt: row["added_at"],
                                     fileStamps: (try? Self.decode(row["file_stamps"])) ?? [])
            }
        }
    }

    public func verifiedPieces(of infoHash: InfoHash) async throws -> [Int] {
        try await database.read { db in
            try Int.fetchAll(db, sql: "SELECT piece FROM verified_piece WHERE info_hash = ? ORDER BY piece",
                             arguments: [infoHash.hex])
        }
    }

    private static func encode(_ stamps: [FileStamp?]) throws -> String {
        String(decoding: try JSONEncoder().encode(stamps), as: UTF8.self)
    }

    private static func decode(_ text: String) throws -> [FileStamp?] {
        try JSONDecoder().decode([FileStamp?].self, from: Data(text.utf8))
    }
}
