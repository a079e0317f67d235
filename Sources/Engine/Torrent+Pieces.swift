import PeerProtocol
import TorrentModel

/// Verification and storage of downloaded pieces.
extension Torrent {
    /// Hashes a complete piece off the actor and writes it; keeps it only if it matches.
    func verify(_ piece: Int) {
        guard let verification = pipeline?.startVerifying(piece, readerWaiting: pieceWaiters.isWaiting(for: piece)) else { return }
        forgetBlocks(of: piece)
        // A reader's piece hashed as its blocks arrived: readers get it now, not after a
        // trip to the thread pool and the wait for its pending-write record.
        if verification.hashedHere == true { verifiedInMemory(piece, verification.bytes) }
        let context = self.context, hash = infoHash
        Task {
            let outcome: PieceCheck
            do {
                if verification.hashedHere == false {
                    outcome = .failed
                } else {
                    // Nothing is written before the database says the file may change.
                    if let mark = verification.pendingMark { try await mark.value } else { try await context.store.markPending([piece], for: hash) }
                    if verification.hashedHere == true {
                        outcome = try await context.blocking(verification.write)
                    } else if !verification.readerWaits {
                        outcome = try await context.blocking(verification.checkAndWrite)
                    } else if try await context.blocking(verification.matches) {
                        // Verified: readers waiting for it take it from memory while it is written.
                        self.verifiedInMemory(piece, verification.bytes)
                        outcome = try await context.blocking(verification.write)
                    } else {
                        outcome = .failed
                    }
                }
            } catch {
                outcome = .storageFailed(error)
            }
            await self.checked(piece, outcome, files: verification.files)
        }
    }

    /// A piece passed its hash check and is being written: until it is on disk, reads
    /// take its bytes from the pipeline.
    private func verifiedInMemory(_ piece: Int, _ buffer: [UInt8]) {
        guard !isStopped else { return }
        pipeline?.holdVerified(piece, buffer)
        forgetHashes(of: piece)
        blockWaiters[piece] = nil
        pieceWaiters.resume(key: piece, returning: ())
    }

    /// Queues a verified piece for the database (see ``PiecePipeline/recordVerified(_:startRecorder:)``).
    /// A piece not recorded when the process dies is only checked or fetched again.
    /// (Gathering 50 ms first would batch more (encoding the file stamps was 1 % of a
    /// download's profile), but a kill then lost pieces the status had already reported as
    /// verified: ResumeTests.)
    private func recordVerified(_ piece: Int) {
        pipeline?.recordVerified(piece) { Task { await self.drainVerifiedRecords() } }
    }

    private func drainVerifiedRecords() async {
        while let batch = pipeline?.takeVerifiedToRecord() {
            do {
                try await context.store.markVerified(batch, for: infoHash, fileStamps: pipeline?.fileStamps ?? [])
            } catch {
                lastError = "could not record \(batch.count) verified piece(s): \(error)"
            }
            pipeline?.recorded(batch)
        }
    }

    /// Records that `piece` is about to be written, in the background, batched with the
    /// pieces started meanwhile (see ``PiecePipeline/markPendingSoon(_:startBatch:)``). A
    /// piece's write still waits for its own batch.
    func markPendingSoon(_ piece: Int) {
        let store = context.store, hash = infoHash
        pipeline?.markPendingSoon(piece) { previous in
            Task {
                // One transaction at a time; an earlier one that failed fails only its own pieces.
                _ = try? await previous?.value
                let pieces = self.pipeline?.takePiecesToMarkPending() ?? []
                try await store.markPending(pieces, for: hash)
            }
        }
    }

    /// What a piece's check and write came to (internal, not private: tests hand it outcomes).
    func checked(_ piece: Int, _ outcome: PieceCheck, files: [Int]) async {
        guard !isStopped, picker != nil else { return }
        pipeline?.finished(piece, outcome, files: files)
        switch outcome {
        case .written:
            storageRecovered()
            picker!.pieceVerified(piece)
            for key in peers.keys where peers[key]?.bitfield?[piece] != true { send(.have(piece: UInt32(piece)), to: key) }
            forgetHashes(of: piece)
            blockWaiters[piece] = nil
            pieceWaiters.resume(key: piece, returning: ())
            if picker!.isComplete { completed() }
            updateInterestAndRequests()
            recordVerified(piece)
            cacheVerified([piece])
        case .failed:
            statistics.hashFailed(pieceLength: info!.length(ofPiece: piece))
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
            _ = picker!.pieceFailed(piece)
            storageFailed(piece, reason: reason, diskFull: full)
        }
    }

    private func completed() {
        logger.info("download complete: \(name)")
        // Empty files hold no piece, so no write made them; a few opens, done in place.
        do { try pipeline?.store.createEmptyFiles() } catch { lastError = "could not create empty files: \(error)" }
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
        statistics.rechecked(rechecked)
        guard var picker else { return }
        for piece in pieces where piece >= 0 && piece < picker.pieceCount { picker.markHave(piece) }
        self.picker = picker
        pipeline?.adopt(stamps: stamps)
        cacheVerified(pieces)
    }
}
