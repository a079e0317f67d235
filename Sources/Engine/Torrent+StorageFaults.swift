import TorrentModel

/// A torrent whose pieces cannot be written: downloading stops with one log line, every
/// waiting read fails at once, and it resumes by itself (see ``StorageHealth``).
extension Torrent {
    /// A piece's write failed (its picker state is already undone).
    func storageFailed(_ piece: Int, reason: String, diskFull: Bool) {
        let available = availableSpace()
        let failure = storageHealth.writeFailed(reason, diskFull: diskFull, availableBytes: available, now: context.now)
        lastError = "could not write piece \(piece): \(reason)"
        let error = TorrentError.storage(reason)
        blockWaiters[piece] = nil
        guard failure != .alreadyStopped else {
            // A write under way when downloading stopped: only its own readers were waiting on it.
            pieceWaiters.resume(key: piece, throwing: error)
            return
        }
        // Downloads stop short of the reserve: if the disk is fuller than that, something
        // else filled it, and the database needs the reserve's room now.
        if diskFull, let available, available < context.spaceReserve.size / 2 {
            context.spaceReserve.release(because: "\(name): \(reason)")
        }
        if failure == .stopped {
            let space = available.map { ", \($0 >> 10) KiB available" } ?? ""
            let resumes = diskFull ? "it resumes when space is freed" : "it is tried again in \(StorageHealth.firstRetry)"
            logger.error("\(name): downloading stopped: could not write piece \(piece): \(reason)\(space); \(resumes)")
        }
        // Nothing more is written until it resumes: no read waits for that.
        blockWaiters = [:]
        pieceWaiters.resumeAll(throwing: error)
    }

    /// A piece was written: a fault, if there was one, is over.
    func storageRecovered() {
        guard storageHealth.written() else { return }
        logger.info("\(name): pieces are written again; downloading resumed")
        lastError = nil
    }

    /// On each tick while downloading is stopped: tries again when space is back, or when
    /// the backoff is over. Room for two pieces beyond the space reserve is asked for, so a
    /// disk with a few bytes free is not tried again and again.
    func checkStorage() {
        guard storageHealth.holdsDownloads else { return }
        let needed = 2 * Int64(info?.pieceLength ?? 0) + context.spaceReserve.size
        guard storageHealth.shouldRetry(now: context.now, availableBytes: availableSpace(), needed: needed) else { return }
        context.spaceReserve.restoreIfRoom()
        logger.info("\(name): trying to write again")
        updateInterestAndRequests()
    }

    /// A read may not wait for a piece that cannot be stored now.
    func refuseReadWhileStorageFails() throws {
        if storageHealth.holdsDownloads, let fault = storageHealth.fault { throw TorrentError.storage(fault.reason) }
    }

    /// Bytes available on the file system the torrent's files are written to.
    func availableSpace() -> Int64? { SpaceReserve.availableBytes(under: root) }
}
