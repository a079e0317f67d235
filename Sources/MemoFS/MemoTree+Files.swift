import CXattr
import Engine
import Foundation
import FUSEKit
import SystemCalls
import SystemPackage
import TorrentModel

/// Opening, reading and writing files.
extension MemoTree {
    func open(_ inode: UInt64, flags: Int32) async throws -> OpenedFile {
        guard let node = inodes.node(inode) else { throw FUSEError.notFound }
        let wantsWrite = flags & O_ACCMODE != O_RDONLY
        switch node {
        case .recording(let name):
            let descriptor = try FileDescriptor.open(localPath(name), FileDescriptor.AccessMode(rawValue: flags & O_ACCMODE),
                                                     options: Self.openOptions(flags & ~(O_CREAT | O_EXCL)))
            // The kernel may serve this open from the file itself (passthrough): reads at disk
            // speed. Its writes then never pass through here, so a writer counts as having written.
            // Without one (the file is not writable, say) the kernel sends every read here.
            let backing = try? FileDescriptor.open(localPath(name), .readWrite, options: .closeOnExec)
            let wrote = flags & O_TRUNC != 0 || (wantsWrite && backing != nil)
            if wantsWrite {
                recordings[name, default: Recording()].writers += 1
                if wrote { recordings[name]!.dirty = true }
            }
            // Recordings change only through the mount, so the kernel's cached pages stay right
            // across opens: reading a recording again costs what a cached disk read costs.
            return OpenedFile(handle: allocateHandle(.local(descriptor: descriptor, name: name, writable: wantsWrite,
                                                            wrote: wrote)),
                              keepCache: true, backingFile: backing?.rawValue)
        case .sidecar(let name):
            guard !wantsWrite else { throw FUSEError.accessDenied }
            return OpenedFile(handle: allocateHandle(.text(Array(try await sidecarText(name).utf8))), directIO: true)
        case .addFile:
            guard flags & O_ACCMODE == O_WRONLY else { throw FUSEError.accessDenied }
            return OpenedFile(handle: allocateHandle(.add(AddInput())), directIO: true)
        case .torrentFile(let hash, let index):
            guard !wantsWrite else { throw FUSEError.accessDenied }
            guard let torrent = await session.torrent(hash), let info = await torrent.torrentInfo else { throw FUSEError.notFound }
            let file = info.files[index]
            // While pieces are missing, reads bypass the page cache: the kernel's cached reads
            // wait uninterruptibly, and Ctrl-C must end a read that waits for the network.
            // A complete file never changes, so the kernel may cache it across opens.
            let complete = await torrent.isComplete
            // Players read a media file's start and end first (headers, cues, moov): its reader
            // wants both from the start.
            let reader = await torrent.openReader(file: index, fetchEdges: MediaFile.looksLikeMedia(file.path.last ?? ""))
            return OpenedFile(handle: allocateHandle(.torrentFile(torrent, fileIndex: index, fileLength: file.length, head: ReadHead(),
                                                                  reader: reader)),
                              directIO: !complete, keepCache: complete,
                              backingFile: Self.verifiedBacking(await torrent.verifiedFilePath(index), length: file.length))
        case .droppedTorrent:
            throw FUSEError.busy
        case .failedShare(let hash):
            // Nothing to read, ever: the reason is in `user.memofs.error` and `memofs status`.
            let failure = await session.torrent(hash)?.metadataFailure
            logger.info("open of a failed share: \(failure ?? "removed")")
            throw FUSEError.io
        case .root, .local, .shared, .torrentFolder:
            throw FUSEError.isDirectory
        }
    }

    /// The downloaded file, opened read-only for passthrough, if it is all there: a file
    /// shortened or removed behind our back is read through the engine, which reports it.
    static func verifiedBacking(_ path: String?, length: Int64) -> Int32? {
        guard let path, let descriptor = try? FileDescriptor.open(path, .readOnly, options: .closeOnExec) else { return nil }
        guard let status = try? descriptor.stat(), status.size == length else {
            try? descriptor.close()
            return nil
        }
        return descriptor.rawValue
    }

    /// The options of an open(2) `flags` (all but the access mode), close-on-exec added.
    static func openOptions(_ flags: Int32) -> FileDescriptor.OpenOptions {
        FileDescriptor.OpenOptions(rawValue: flags & ~O_ACCMODE).union(.closeOnExec)
    }

    /// Starts a read; the waiting happens outside the actor (see `MemoFileSystem.read`).
    enum ReadPlan {
        case bytes([UInt8])
        case local(FileDescriptor)
        /// Bytes of a torrent's file, and the range of the file to fetch ahead of them.
        case torrent(Torrent, fileIndex: Int, readahead: Range<Int64>, reader: ReaderID)
    }

    func planRead(handle: UInt64, offset: Int64, size: Int) async throws -> ReadPlan {
        guard let open = handles[handle] else { throw FUSEError.badHandle }
        switch open {
        case .local(let descriptor, _, _, _):
            return .local(descriptor)
        case .text(let bytes):
            guard offset < bytes.count else { return .bytes([]) }
            return .bytes(Array(bytes[Int(offset)..<min(bytes.count, Int(offset) + size)]))
        case .torrentFile(let torrent, let index, let length, var head, let reader):
            // The file's length came with the handle: asking the torrent would cost two
            // thread switches per read (its actor runs on an event loop).
            let ahead = head.advance(offset: offset, length: size, fileLength: length)
            handles[handle] = .torrentFile(torrent, fileIndex: index, fileLength: length, head: head, reader: reader)
            return .torrent(torrent, fileIndex: index, readahead: ahead, reader: reader)
        case .add, .dropped:
            throw FUSEError.badHandle
        }
    }

    func write(handle: UInt64, offset: Int64, data: [UInt8]) async throws -> Int {
        guard let open = handles[handle] else { throw FUSEError.badHandle }
        switch open {
        case .local(let descriptor, let name, let writable, _):
            guard writable else { throw FUSEError.badHandle }
            let written = try data.withUnsafeBytes { try descriptor.write(toAbsoluteOffset: offset, $0) }
            handles[handle] = .local(descriptor: descriptor, name: name, writable: true, wrote: true)
            recordings[name, default: Recording()].dirty = true
            return written
        case .add(var input):
            let lines = input.take(data)
            handles[handle] = .add(input)
            try await addLines(lines)
            return data.count
        case .dropped(let name, var bytes):
            guard offset + Int64(data.count) <= Int64(ExtensionLimits.maxTorrentFile) else { throw FUSEError.noSpace }
            if bytes.count < Int(offset) + data.count { bytes += [UInt8](repeating: 0, count: Int(offset) + data.count - bytes.count) }
            bytes.replaceSubrange(Int(offset)..<(Int(offset) + data.count), with: data)
            handles[handle] = .dropped(name: name, bytes: bytes)
            return data.count
        case .text, .torrentFile:
            throw FUSEError.badHandle
        }
    }

    /// A `.torrent` dropped into `shared/` is added when it is closed; `close` (flush) then
    /// reports a broken torrent as EINVAL.
    func flush(handle: UInt64) async throws {
        if case .add(var input)? = handles[handle] {
            // The last line, if it had no newline: its error fails `close`.
            let lines = input.finish()
            handles[handle] = .add(input)
            try await addLines(lines)
            return
        }
        guard case .dropped(let name, let bytes)? = handles[handle] else { return }
        handles[handle] = .dropped(name: name, bytes: [])
        droppedNames.remove(name)
        guard !bytes.isEmpty else { return }
        do {
            let metainfo = try Metainfo(bytes: bytes)
            try await session.add(metainfo: metainfo)
            logger.info("added \(metainfo.info.name) from \(name)")
        } catch {
            recordAddError("\(name): \(error)")
            throw FUSEError.invalid
        }
    }

    /// Recordings are on disk: fsync reaches the disk (a recorder that syncs expects it).
    func fsync(handle: UInt64) async throws {
        guard case .local(let descriptor, _, _, _)? = handles[handle] else { return }
        try descriptor.sync()
    }

    func release(handle: UInt64) async {
        guard let open = handles.removeValue(forKey: handle) else { return }
        switch open {
        case .local(let descriptor, let name, let writable, let wrote):
            try? descriptor.close()
            // Removed while open: nothing left to share.
            guard writable, recordings[name] != nil else { return }
            recordings[name]!.writers = max(0, recordings[name]!.writers - 1)
            if wrote { recordings[name]!.dirty = true }
            if recordings[name]!.writers == 0 && recordings[name]!.dirty { share(name) }
        case .dropped(let name, _):
            droppedNames.remove(name)
        case .torrentFile(let torrent, _, _, _, let reader):
            await torrent.closeReader(reader)
        case .add(var input):
            // Closed without a flush: the last line is added all the same; its error, if
            // any, can only go to the log and `memofs status`.
            try? await addLines(input.finish())
        default:
            break
        }
    }

    func create(parent: UInt64, name: String, permissions: UInt32, flags: Int32) async throws -> (Entry, OpenedFile) {
        guard let parentNode = inodes.node(parent) else { throw FUSEError.notFound }
        switch parentNode {
        case .local:
            guard !name.hasSuffix(".magnet") else { throw FUSEError.accessDenied }
            guard name.utf8.count <= 255 else { throw FUSEError.nameTooLong }
            let descriptor = try FileDescriptor.open(localPath(name), FileDescriptor.AccessMode(rawValue: flags & O_ACCMODE),
                                                     options: Self.openOptions(flags | O_CREAT),
                                                     permissions: [.ownerReadWrite, .groupRead, .otherRead])
            recordings[name, default: Recording()].writers += 1
            recordings[name]!.dirty = true
            let handle = allocateHandle(.local(descriptor: descriptor, name: name, writable: true, wrote: true))
            let inode = inodes.inode(for: .recording(name))
            return (Entry(attributes: try await attributes(of: inode)), OpenedFile(handle: handle))
        case .shared:
            guard name.hasSuffix(".torrent") else { throw FUSEError.accessDenied }
            droppedNames.insert(name)
            let handle = allocateHandle(.dropped(name: name, bytes: []))
            let inode = inodes.inode(for: .droppedTorrent(name))
            return (Entry(attributes: try await attributes(of: inode), timeout: 0), OpenedFile(handle: handle, directIO: true))
        default:
            throw FUSEError.accessDenied
        }
    }

    func setAttributes(of inode: UInt64, _ changes: AttributeChanges) async throws -> FileAttributes {
        guard let node = inodes.node(inode) else { throw FUSEError.notFound }
        switch node {
        case .recording(let name):
            if let size = changes.size {
                // Through the open file when there is one: the name may already be another file's.
                if let handle = changes.handle, case .local(let descriptor, _, true, _)? = handles[handle] {
                    try descriptor.resize(to: Int64(size))
                } else {
                    try FilePath(localPath(name)).resize(to: Int64(size))
                }
                recordings[name, default: Recording()].dirty = true
                if recordings[name]!.writers == 0 { share(name) }
            }
            // A failure answers the setattr with its errno (EPERM on a file of another user's, say).
            if let permissions = changes.permissions {
                try FilePath(localPath(name)).setPermissions(FilePermissions(rawValue: mode_t(permissions)))
            }
            if let modified = changes.modified { try FilePath(localPath(name)).setModificationTime(modified) }
            return try await attributes(of: inode)
        case .addFile, .droppedTorrent:
            // `echo … > .add` truncates first: nothing to do.
            return try await attributes(of: inode)
        default:
            if changes.size != nil { throw FUSEError.accessDenied }
            return try await attributes(of: inode)
        }
    }

    // MARK: .add

    /// Adds the magnets of every good line; any bad line makes the write fail with EINVAL
    /// (a magnet the session could not add, with EIO), and each problem, named by its line,
    /// goes to the log and to `memofs status`.
    func addLines(_ lines: [AddLine]) async throws {
        let request = AddRequest(lines: lines)
        var failedToAdd = false
        for (line, magnet) in request.magnets {
            do {
                try await session.add(magnet: magnet)
                logger.info("added \(magnet.displayName ?? magnet.infoHash.hex)")
            } catch {
                recordAddError("line \(line): \(magnet.infoHash): \(error)")
                failedToAdd = true
            }
        }
        for problem in request.problems { recordAddError(problem) }
        if !request.problems.isEmpty { throw FUSEError.invalid }
        if failedToAdd { throw FUSEError.io }
    }

    /// Keeps the error for `memofs status` (the last few, with their time) and logs it.
    func recordAddError(_ text: String) {
        logger.warning("shared/.add: \(text)")
        addErrors = Array((addErrors + [StatusReport.AddError(time: Date().timeIntervalSince1970, text: text)])
            .suffix(StatusReport.AddError.kept))
    }
}

enum ExtensionLimits {
    /// The largest `.torrent` accepted through `shared/`.
    static let maxTorrentFile = 32 << 20
}

enum MediaFile {
    static let extensions: Set<String> = ["webm", "mkv", "mka", "ogg", "oga", "opus", "m4a", "mp4", "m4v", "mov",
                                           "mp3", "wav", "flac", "aac", "avi"]

    static func looksLikeMedia(_ name: String) -> Bool {
        guard let dot = name.lastIndex(of: ".") else { return false }
        return extensions.contains(name[name.index(after: dot)...].lowercased())
    }
}
