#if canImport(Glibc)
import Glibc
#endif
import CFuse

/// What `stat` shows of a file or folder.
public struct FileAttributes: Sendable, Equatable {
    public enum Kind: Sendable { case file, directory }

    public var inode: UInt64
    public var kind: Kind
    /// Permission bits only (0o644, 0o755, …); the kind supplies the type bits.
    public var permissions: UInt32
    public var size: UInt64
    /// 512-byte blocks actually present, so `du` and `ls -s` tell how much is there.
    public var blocks: UInt64
    public var linkCount: UInt32
    public var modified: timespec
    public var changed: timespec
    public var accessed: timespec
    public var uid: UInt32
    public var gid: UInt32

    public init(inode: UInt64, kind: Kind, permissions: UInt32, size: UInt64 = 0, blocks: UInt64? = nil,
                linkCount: UInt32? = nil, modified: timespec = timespec(), uid: UInt32 = getuid(), gid: UInt32 = getgid()) {
        self.inode = inode
        self.kind = kind
        self.permissions = permissions
        self.size = size
        self.blocks = blocks ?? (size + 511) / 512
        self.linkCount = linkCount ?? (kind == .directory ? 2 : 1)
        self.modified = modified
        self.changed = modified
        self.accessed = modified
        self.uid = uid
        self.gid = gid
    }

    var stat: stat {
        var result = Glibc.stat()
        result.st_ino = UInt(inode)
        result.st_mode = (kind == .directory ? S_IFDIR : S_IFREG) | permissions
        result.st_nlink = UInt(linkCount)
        result.st_size = Int(size)
        result.st_blocks = Int(blocks)
        result.st_blksize = 128 * 1024
        result.st_uid = uid
        result.st_gid = gid
        result.st_mtim = modified
        result.st_ctim = changed
        result.st_atim = accessed
        return result
    }

    public static func == (lhs: FileAttributes, rhs: FileAttributes) -> Bool {
        lhs.inode == rhs.inode && lhs.kind == rhs.kind && lhs.permissions == rhs.permissions && lhs.size == rhs.size
            && lhs.blocks == rhs.blocks && lhs.modified.tv_sec == rhs.modified.tv_sec
            && lhs.modified.tv_nsec == rhs.modified.tv_nsec
    }
}

/// A lookup's answer: the attributes and how long the kernel may cache them.
public struct Entry: Sendable {
    public var attributes: FileAttributes
    /// Seconds the kernel may cache the name → inode mapping and the attributes.
    public var timeout: Double

    public init(attributes: FileAttributes, timeout: Double = 1) {
        self.attributes = attributes
        self.timeout = timeout
    }
}

public struct DirectoryEntry: Sendable, Equatable {
    public var name: String
    public var inode: UInt64
    public var kind: FileAttributes.Kind
    /// The entry's attributes when the listing knows them: the kernel then gets them with
    /// the listing (readdirplus) and `ls -l` needs no lookup per name.
    public var entry: Entry?

    public init(name: String, inode: UInt64, kind: FileAttributes.Kind, entry: Entry? = nil) {
        self.name = name
        self.inode = inode
        self.kind = kind
        self.entry = entry
    }

    public static func == (lhs: DirectoryEntry, rhs: DirectoryEntry) -> Bool {
        lhs.name == rhs.name && lhs.inode == rhs.inode && lhs.kind == rhs.kind
    }
}

/// What `open` and `create` answer.
public struct OpenedFile: Sendable {
    /// The file system's own handle, passed back with every read, write and release.
    public var handle: UInt64
    /// Bypass the page cache (for files whose content may change, like status files).
    public var directIO: Bool
    /// Keep cached pages across opens (content that never changes once verified).
    public var keepCache: Bool

    /// A descriptor of a file on disk holding exactly this file's bytes, for FUSE passthrough:
    /// reads (and writes, if it is open for writing) then go straight to it in the kernel, and
    /// `read`/`write` are not called for this handle. The adapter closes it.
    public var backingFile: Int32?

    public init(handle: UInt64, directIO: Bool = false, keepCache: Bool = false, backingFile: Int32? = nil) {
        self.handle = handle
        self.directIO = directIO
        self.keepCache = keepCache
        self.backingFile = backingFile
    }
}

/// `setattr`'s changes; nil fields are left alone.
public struct AttributeChanges: Sendable {
    public var size: UInt64?
    public var permissions: UInt32?
    public var modified: timespec?
    public var handle: UInt64?
}
