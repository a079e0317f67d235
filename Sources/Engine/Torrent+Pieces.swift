import PeerProtocol
import TorrentModel

/// Verification and storage of downloaded pieces.
extension Torrent {
    /// Hashes a complete piece off the actor; keeps it only if it matches.
    func verify(_ piece: Int) {
        guard let buffer = pieceBuffers.removeValue(forKey: piece), let info, let storage else { return }
        forgetBlocks(of: piece)
        let expected = info.pieceHashes[piece]
        let context = self.context
        let files = storage.files(ofPiece: piece)
        let hash = infoHash
        let mark = pendingMarks.removeValue(forKey: piece)
        let progress = hashProgress.removeValue(forKey: piece)
        let readerWaits = pieceWaiters.isWaiting(for: piece) || progress != nil
        // A reader's piece was hashed as its blocks arrived: what is left (usually nothing)
        // is hashed here, and readers get the piece now, not after a trip to the thread pool
        // and the wait for its pending-write record.
        var verifiedHere: Bool?
        if let progress, buffer.count - progress.hashedUpTo <= Self.inlineHashLimit {
            verifiedHere = progress.finish(buffer) == expected
            if verifiedHere == true { verifiedInMemory(piece, buffer) }
        }
        let write: @Sendable () throws -> PieceCheck = {
            try storage.writePiece(piece, buffer)
            return .written(storage.fileStamps(of: files))
        }
        Task {
            let outcome: PieceCheck
            do {
                if verifiedHere == false {
                    outcome = .failed
                } else {
                    // Nothing is written before the database says the file may change.
                    if let mark { try await mark.value } else { try await context.store.markPending([piece], for: hash) }
                    if verifiedHere == true {
                        outcome = try await context.blocking(write)
                    } else if !readerWaits {
                        // Nobody waits for it: hash and write in one trip to the thread pool,
                        // not two (a fast download verifies a thousand pieces a second).
                        outcome = try await context.blocking { SHA1.hash(buffer) == expected ? try write() : .failed }
                    } else if try await context.blocking({ (progress?.finish(buffer) ?? SHA1.hash(buffer)) == expected }) {
                        // Verified: readers waiting for it take it from memory while it is written.
                        self.verifiedInMemory(piece, buffer)
                        outcome = try await context.blocking(write)
                    } else {
                        outcome = .failed
                    }
                }
            } catch {
                outcome = .storageFailed("\(error)", diskFull: (error as? StorageError)?.isDiskFull ?? false)
            }
            await self.checked(piece, outcome, files: files)
        }
    }

    /// At most this much of a reader's piece is left to hash on the actor (64 KiB: about
    /// 30 µs); more goes to the thread pool.
    static let inlineHashLimit = 64 * 1024

    /// A piece passed its hash check and is being written: until it is on disk, reads
    /// take its bytes from `verifiedPieces`.
    private func verifiedInMemory(_ piece: Int, _ buffer: [UInt8]) {
        guard !isStopped else { return }
        verifiedPieces[piece] = buffer
        forgetHashes(of: piece)
        blockWaiters[piece] = nil
        pieceWaiters.resume(key: piece, returning: ())
    }

    /// Queues a verified piece for the database. One transaction at a time records every
    /// piece queued meanwhile: a fast download is not one transaction per piece. A piece
    /// not recorded when the process dies is only checked or fetched again. (Gathering
    /// 50 ms first would batch more (encoding the file stamps was 1 % of a download's
    /// profile), but a kill then lost
    /// pieces the status had already reported as verified: ResumeTests.)
    private func recordVerified(_ piece: Int) {
        verifiedToRecord.append(piece)
        guard verifiedRecorder == nil else { return }
        verifiedRecorder = Task { await self.drainVerifiedRecords() }
    }

    private func drainVerifiedRecords() async {
        while !verifiedToRecord.isEmpty {
            let batch = verifiedToRecord
            verifiedToRecord = []
            do {
                try await context.store.markVerified(batch, for: infoHash, fileStamps: fileStamps)
            } catch {
                lastError = "could not record \(batch.count) verified piece(s): \(error)"
            }
        }
        verifiedRecorder = nil
    }

    /// Records that `piece` is about to be written, in the background (see `pendingMarks`).
    /// Like the verified records, one transaction at a time records every piece queued
    /// meanwhile: a fast download starts a piece every millisecond, and one transaction
    /// each cost a few percent of the CPU. A piece's write still waits for its own batch.
    func markPendingSoon(_ piece: Int) {
        guard pendingMarks[piece] == nil else { return }
        // Pieces are waiting exactly while the newest batch has not started: join it.
        if !piecesToMarkPending.isEmpty, let open = lastPendingBatch {
            piecesToMarkPending.append(piece)
            pendingMarks[piece] = open
            return
        }
        piecesToMarkPending = [piece]
        let store = context.store, hash = infoHash, previous = lastPendingBatch
        let batch = Task {
            // One transaction at a time; an earlier one that failed fails only its own pieces.
            _ = try? await previous?.value
            let pieces = self.takePiecesToMarkPending()
            try await store.markPending(pieces, for: hash)
        }
        lastPendingBatch = batch
        pendingMarks[piece] = batch
    }

    /// The pieces of the batch that starts now; later pieces go into the next one.
    private func takePiecesToMarkPending() -> [Int] {
        defer { piecesToMarkPending = [] }
        return piecesToMarkPending
    }

    enum PieceCheck: Sendable {
        case written([FileStamp?])
        case failed
        case storageFailed(String, diskFull: Bool)
    }

    /// What a piece's check and write came to (internal, not private: tests hand it outcomes).
    func checked(_ piece: Int, _ outcome: PieceCheck, files: [Int]) async {
        guard !isStopped, picker != nil else { return }
        verifiedPieces[piece] = nil
        switch outcome {
        case .written(let stamps):
            diskFull = false
            // Checks finish out of order: keep the newest stamp of each file.
            for (file, stamp) in zip(files, stamps) {
                if let stamp, stamp.modifiedNanoseconds >= fileStamps[file]?.modifiedNanoseconds ?? .min {
                    fileStamps[file] = stamp
                }
            }
            picker!.pieceVerified(piece)
            for key in peers.keys where peers[key]?.bitfield?[piece] != true { send(.have(piece: UInt32(piece)), to: key) }
            forgetHashes(of: piece)
            blockWaiters[piece] = nil
            pieceWaiters.resume(key: piece, returning: ())
            if picker!.isComplete { completed() }
            updateInterestAndRequests()
            recordVerified(piece)
        case .failed:
            hashFailures += 1
            wastedBytes += Int64(info!.length(ofPiece: piece))
            let senders = picker!.pieceFailed(piece)
            logger.warning("piece \(piece) failed its hash check (sent by \(senders.count) peer(s))")
            for key in senders {
                guard peers[key] != nil else { continue }
                peers[key]!.hashFailures += 1
                // Alone responsible, or at fault twice: not to be trusted again.
                if senders.count == 1 && peers[key]!.hashFailures >= 2 || peers[key]!.hashFailures >= 3 {
                    ban(key, reason: "sent data that failed the hash check \(peers[key]!.hashFailures) times")
                }
            }
            updateInterestAndRequests()
        case .storageFailed(let reason, let full):
            diskFull = full
            lastError = "could not write piece \(piece): \(reason)"
            logger.error("could not write piece \(piece): \(reason)")
            _ = picker!.pieceFailed(piece)
            // Only this piece's readers: other pieces are still written (or served from memory).
            pieceWaiters.resume(key: piece, throwing: TorrentError.storage(reason))
            blockWaiters[piece] = nil
        }
    }

    private func completed() {
        logger.info("download complete: \(name)")
        // Empty files hold no piece, so no write made them; a few opens, done in place.
        do { try storage?.createEmptyFiles() } catch { lastError = "could not create empty files: \(error)" }
        completionWaiters.resumeAll(returning: ())
        announceCompleted()
        // Seeds have nothing to ask of other seeds.
        for key in Array(peers.keys) { setInterested(false, in: key) }
    }

    public func waitUntilComplete() async throws {
        _ = try await waitForMetadata()
        if picker?.isComplete == true { return }
        if isStopped { throw TorrentError.removed("the torrent was removed") }
        wake()
        let id = completionWaiters.nextID()
        try await suspend { completionWaiters.add($0, for: OneEvent(), id: id) } onCancel: {
            Task { await self.cancelCompletionWaiter(id) }
        }
    }

    func cancelCompletionWaiter(_ id: Int) {
        completionWaiters.cancel(id)
    }

    /// Marks pieces as verified without downloading (a local recording, or state from the database).
    func adoptVerified(_ pieces: [Int], stamps: [FileStamp?], rechecked: Int = 0) {
        recheckedPieces += rechecked
        guard var picker else { return }
        for piece in pieces where piece >= 0 && piece < picker.pieceCount { picker.markHave(piece) }
        self.picker = picker
        if stamps.count == fileStamps.count { fileStamps = stamps }
    }
}
