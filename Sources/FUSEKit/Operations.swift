import CFuse
import Foundation

/// The libfuse operation table. Built in a function (not at top level) so the closures are
/// not inferred to run on the main actor: they are called on FUSE's own threads.
func makeOperations() -> fuse_lowlevel_ops {
    var ops = fuse_lowlevel_ops()
    ops.lookup = { req, parent, name in
        let name = String(cString: name!)
        FUSEMount.respond(req) { fs in try await fs.lookup(parent: parent, name: name) } reply: { req, entry in
            var param = entry.parameter
            return fuse_reply_entry(req, &param)
        }
    }
    ops.forget = { req, inode, lookups in
        FUSEMount.from(req).fileSystem.forget(inode: inode, lookups: lookups)
        fuse_reply_none(req)
    }
    ops.forget_multi = { req, count, forgets in
        let fs = FUSEMount.from(req).fileSystem
        for index in 0..<count {
            let item = forgets![index]
            fs.forget(inode: item.ino, lookups: item.nlookup)
        }
        fuse_reply_none(req)
    }
    ops.getattr = { req, inode, _ in
        FUSEMount.respond(req) { fs in try await fs.attributes(of: inode) } reply: { req, attributes in
            var stat = attributes.stat
            return fuse_reply_attr(req, &stat, 1)
        }
    }
    ops.setattr = { req, inode, attr, toSet, fileInfo in
        var changes = AttributeChanges()
        let stat = attr!.pointee
        if toSet & FUSE_SET_ATTR_SIZE != 0 { changes.size = UInt64(stat.st_size) }
        if toSet & FUSE_SET_ATTR_MODE != 0 { changes.permissions = stat.st_mode & 0o7777 }
        if toSet & FUSE_SET_ATTR_MTIME != 0 { changes.modified = stat.st_mtim }
        if let fileInfo { changes.handle = fileInfo.pointee.fh }
        let requested = changes
        FUSEMount.respond(req) { fs in try await fs.setAttributes(of: inode, requested) } reply: { req, attributes in
            var stat = attributes.stat
            return fuse_reply_attr(req, &stat, 1)
        }
    }
    ops.opendir = { req, inode, fileInfo in
        let info = fileInfo!.pointee
        FUSEMount.respond(req) { fs in try await fs.listDirectory(inode) } reply: { req, entries in
            var opened = info
            opened.fh = FUSEMount.from(req).directories.store(entries)
            return fuse_reply_open(req, &opened)
        }
    }
    ops.readdir = { req, inode, size, offset, fileInfo in
        replyListing(req, inode: inode, size: size, offset: offset, fileInfo: fileInfo) { item, buffer, room, next in
            var stat = stat()
            stat.st_ino = UInt(item.inode)
            stat.st_mode = item.kind == .directory ? S_IFDIR : S_IFREG
            return fuse_add_direntry(req, buffer, room, item.name, &stat, next)
        }
    }
    ops.readdirplus = { req, inode, size, offset, fileInfo in
        // An entry without attributes goes with inode 0 in its entry parameter, which tells
        // the kernel to look it up when needed.
        replyListing(req, inode: inode, size: size, offset: offset, fileInfo: fileInfo) { item, buffer, room, next in
            var param = item.entry?.parameter ?? fuse_entry_param()
            if item.entry == nil {
                param.attr.st_ino = UInt(item.inode)
                param.attr.st_mode = item.kind == .directory ? S_IFDIR : S_IFREG
            }
            return fuse_add_direntry_plus(req, buffer, room, item.name, &param, next)
        }
    }
    ops.`init` = { (_: UnsafeMutableRawPointer?, connection: UnsafeMutablePointer<fuse_conn_info>?) in
        // Every listing with its attributes, not only the first page (the kernel's "auto"
        // mode): `ls -l` of a folder of thousands then costs no lookup per name.
        guard let connection else { return }
        connection.pointee.want &= ~UInt32(FUSE_CAP_READDIRPLUS_AUTO)
        connection.pointee.max_write = 1 << 20
        connection.pointee.max_readahead = 1 << 20
    }
    ops.releasedir = { req, _, fileInfo in
        FUSEMount.from(req).directories.drop(fileInfo!.pointee.fh)
        fuse_reply_err(req, 0)
    }
    ops.open = { req, inode, fileInfo in
        let info = fileInfo!.pointee
        FUSEMount.respond(req) { fs in try await fs.open(inode, flags: info.flags) } reply: { req, opened in
            FUSEMount.from(req).replyOpen(req, inode: inode, info, opened)
        }
    }
    ops.read = { req, inode, size, offset, fileInfo in
        let handle = fileInfo!.pointee.fh
        FUSEMount.respond(req) { fs in try await fs.read(inode, handle: handle, offset: Int64(offset), size: size) } reply: { req, bytes in
            bytes.withUnsafeBytes { fuse_reply_buf(req, $0.baseAddress?.assumingMemoryBound(to: CChar.self), $0.count) }
        }
    }
    ops.write = { req, inode, buffer, size, offset, fileInfo in
        let handle = fileInfo!.pointee.fh
        let data = Array(UnsafeRawBufferPointer(start: buffer, count: size))
        FUSEMount.respond(req) { fs in try await fs.write(inode, handle: handle, offset: Int64(offset), data: data) } reply: { req, written in
            fuse_reply_write(req, written)
        }
    }
    ops.flush = { req, inode, fileInfo in
        let handle = fileInfo!.pointee.fh
        FUSEMount.respond(req, duringShutdown: true) { fs in try await fs.flush(inode, handle: handle) } reply: { req, _ in fuse_reply_err(req, 0) }
    }
    ops.release = { req, inode, fileInfo in
        let handle = fileInfo!.pointee.fh
        FUSEMount.from(req).passthrough.released(inode: inode, handle: handle)
        FUSEMount.respond(req, duringShutdown: true) { fs in await fs.release(inode, handle: handle) } reply: { req, _ in fuse_reply_err(req, 0) }
    }
    ops.fsync = { req, inode, _, fileInfo in
        let handle = fileInfo!.pointee.fh
        FUSEMount.respond(req) { fs in try await fs.fsync(inode, handle: handle) } reply: { req, _ in fuse_reply_err(req, 0) }
    }
    ops.create = { req, parent, name, mode, fileInfo in
        let name = String(cString: name!)
        let info = fileInfo!.pointee
        FUSEMount.respond(req) { fs in
            try await fs.create(parent: parent, name: name, permissions: mode & 0o7777, flags: info.flags)
        } reply: { req, created in
            let mount = FUSEMount.from(req)
            var param = created.0.parameter
            var reply = info
            reply.fh = created.1.handle
            reply.direct_io = created.1.directIO ? 1 : 0
            let inode = created.0.attributes.inode
            // A new file is written through this process, never passed through.
            if mount.passthrough.decide(inode: inode, handle: reply.fh, directIO: created.1.directIO,
                                        backingFile: created.1.backingFile) == .busy {
                mount.abandonOpen(inode: inode, handle: reply.fh)
                return fuse_reply_err(req, EBUSY)
            }
            let result = fuse_reply_create(req, &param, &reply)
            if result != 0 { mount.abandonOpen(inode: inode, handle: reply.fh) }
            return result
        }
    }
    ops.mkdir = { req, parent, name, mode in
        let name = String(cString: name!)
        FUSEMount.respond(req) { fs in try await fs.makeDirectory(parent: parent, name: name, permissions: mode & 0o7777) } reply: { req, entry in
            var param = entry.parameter
            return fuse_reply_entry(req, &param)
        }
    }
    ops.unlink = { req, parent, name in
        let name = String(cString: name!)
        FUSEMount.respond(req) { fs in try await fs.unlink(parent: parent, name: name) } reply: { req, _ in fuse_reply_err(req, 0) }
    }
    ops.rmdir = { req, parent, name in
        let name = String(cString: name!)
        FUSEMount.respond(req) { fs in try await fs.removeDirectory(parent: parent, name: name) } reply: { req, _ in fuse_reply_err(req, 0) }
    }
    ops.rename = { req, parent, name, newParent, newName, flags in
        let name = String(cString: name!), newName = String(cString: newName!)
        FUSEMount.respond(req) { fs in
            try await fs.rename(parent: parent, name: name, newParent: newParent, newName: newName, flags: flags)
        } reply: { req, _ in fuse_reply_err(req, 0) }
    }
    ops.getxattr = { req, inode, name, size in
        let name = String(cString: name!)
        // Only user.* attributes exist here: no ACLs, no security labels. Say so at once on
        // this thread (EOPNOTSUPP, not ENODATA): `ls -l` then stops asking every file for
        // security.selinux and system.posix_acl_access, as it does on any file system
        // without them.
        guard name.hasPrefix("user.") else {
            fuse_reply_err(req, EOPNOTSUPP)
            return
        }
        FUSEMount.respond(req) { fs in try await fs.extendedAttribute(of: inode, name: name) } reply: { req, value in
            if size == 0 { return fuse_reply_xattr(req, value.count) }
            guard value.count <= size else { return fuse_reply_err(req, ERANGE) }
            return value.withUnsafeBytes { fuse_reply_buf(req, $0.baseAddress?.assumingMemoryBound(to: CChar.self), $0.count) }
        }
    }
    ops.listxattr = { req, inode, size in
        FUSEMount.respond(req) { fs in try await fs.extendedAttributeNames(of: inode) } reply: { req, names in
            let bytes: [UInt8] = names.flatMap { name -> [UInt8] in Array(name.utf8) + [0] }
            if size == 0 { return fuse_reply_xattr(req, bytes.count) }
            guard bytes.count <= size else { return fuse_reply_err(req, ERANGE) }
            return bytes.withUnsafeBytes { fuse_reply_buf(req, $0.baseAddress?.assumingMemoryBound(to: CChar.self), $0.count) }
        }
    }
    ops.setxattr = { req, inode, name, value, size, flags in
        let name = String(cString: name!)
        let bytes = Array(UnsafeRawBufferPointer(start: value, count: size))
        FUSEMount.respond(req) { fs in
            try await fs.setExtendedAttribute(of: inode, name: name, value: bytes, flags: flags)
        } reply: { req, _ in fuse_reply_err(req, 0) }
    }
    ops.removexattr = { req, inode, name in
        let name = String(cString: name!)
        FUSEMount.respond(req) { fs in try await fs.removeExtendedAttribute(of: inode, name: name) } reply: { req, _ in fuse_reply_err(req, 0) }
    }
    ops.statfs = { req, _ in
        FUSEMount.respond(req) { fs in try await fs.statistics() } reply: { req, stats in
            var stats = stats
            return fuse_reply_statfs(req, &stats)
        }
    }
    return ops
}

extension FUSEMount {
    static func from(_ req: fuse_req_t?) -> FUSEMount {
        Unmanaged<FUSEMount>.fromOpaque(fuse_req_userdata(req)!).takeUnretainedValue()
    }

    /// Starts a task for a request and replies with its result or its error. The
    /// kernel's interrupt for this request cancels the task.
    static func respond<T>(_ req: fuse_req_t?, duringShutdown: Bool = false,
                           _ work: @escaping @Sendable (FileSystem) async throws -> T,
                           reply: @escaping @Sendable (fuse_req_t?, T) -> Int32) {
        let mount = from(req)
        if !duringShutdown && mount.isShuttingDown.withLockedValue({ $0 }) {
            fuse_reply_err(req, EIO)
            return
        }
        let key = UInt(bitPattern: req)
        mount.requests.started()
        let slot = mount.requests.register(key)
        fuse_req_interrupt_func(req, { req, data in
            Unmanaged<FUSEMount>.fromOpaque(data!).takeUnretainedValue().requests.interrupt(UInt(bitPattern: req))
        }, Unmanaged.passUnretained(mount).toOpaque())
        nonisolated(unsafe) let request = req
        let task = Task {
            let outcome: Result<T, Error>
            do {
                outcome = .success(try await work(mount.fileSystem))
            } catch {
                outcome = .failure(error)
            }
            mount.requests.remove(key)
            switch outcome {
            case .success(let value):
                _ = reply(request, value)
            case .failure(let error):
                fuse_reply_err(request, FUSEError(replyingTo: error).code)
            }
            mount.requests.finished()
        }
        mount.requests.attach(task, to: slot)
    }
}

extension FUSEMount {
    /// Answers an open: in passthrough when the file system gave a backing file and the
    /// kernel's rules allow it, else as the file system asked.
    func replyOpen(_ req: fuse_req_t?, inode: UInt64, _ info: fuse_file_info, _ opened: OpenedFile) -> Int32 {
        var reply = info
        reply.fh = opened.handle
        let decision = passthrough.decide(inode: inode, handle: opened.handle, directIO: opened.directIO,
                                          backingFile: opened.backingFile)
        let result: Int32
        switch decision {
        case .busy:
            abandonOpen(inode: inode, handle: opened.handle)
            return fuse_reply_err(req, EBUSY)
        case .passthrough(let backingID):
            reply.direct_io = 0
            reply.keep_cache = 0
            // Closing it then needs no flush request: this process has no part in its I/O.
            reply.noflush = 1
            result = passthrough.withPendingReply(handle: opened.handle, backingID: backingID) { fuse_reply_open(req, &reply) }
        case .cached, .uncached:
            reply.direct_io = opened.directIO ? 1 : 0
            reply.keep_cache = opened.keepCache ? 1 : 0
            result = fuse_reply_open(req, &reply)
        }
        // The opener is gone (interrupted): no release will come for this handle.
        if result != 0 { abandonOpen(inode: inode, handle: opened.handle) }
        return result
    }

    /// Releases a handle the kernel never received.
    func abandonOpen(inode: UInt64, handle: UInt64) {
        passthrough.released(inode: inode, handle: handle)
        let fileSystem = self.fileSystem
        Task { await fileSystem.release(inode, handle: handle) }
    }
}

extension Entry {
    var parameter: fuse_entry_param {
        var param = fuse_entry_param()
        param.ino = attributes.inode
        param.generation = 1
        param.attr = attributes.stat
        param.attr_timeout = timeout
        param.entry_timeout = timeout
        return param
    }
}

/// One page of an open directory's snapshot for readdir and readdirplus: `.` and `..`,
/// then the entries, from `offset` on, as many as fit in `size` bytes. Offsets: 1 is
/// after ".", 2 after "..", 2 + n after the n-th entry. `add` writes one entry at a
/// buffer position with the room left and returns the bytes it needs (more than the room
/// when it did not fit, as libfuse's fuse_add_direntry functions do).
private func replyListing(_ req: fuse_req_t?, inode: fuse_ino_t, size: Int, offset: off_t,
                          fileInfo: UnsafeMutablePointer<fuse_file_info>?,
                          add: (DirectoryEntry, UnsafeMutablePointer<CChar>, Int, off_t) -> Int) {
    guard let entries = FUSEMount.from(req).directories.entries(fileInfo!.pointee.fh) else {
        fuse_reply_err(req, EBADF)
        return
    }
    let all = [DirectoryEntry(name: ".", inode: inode, kind: .directory), DirectoryEntry(name: "..", inode: 1, kind: .directory)]
        + entries
    var buffer = [CChar](repeating: 0, count: size)
    var used = 0
    var index = Int(offset)
    while index < all.count {
        let needed = buffer.withUnsafeMutableBufferPointer { pointer in
            add(all[index], pointer.baseAddress! + used, size - used, off_t(index + 1))
        }
        if used + needed > size { break }
        used += needed
        index += 1
    }
    buffer.withUnsafeBufferPointer { _ = fuse_reply_buf(req, $0.baseAddress, used) }
}
