import TorrentModel

/// Reads for the filesystem: the pieces under a read are fetched first and the
/// read returns only verified bytes.
extension Torrent {
    /// Bytes `[offset, offset + length)` of file `fileIndex`, clipped to the file's end.
    /// `readahead` (a range of the file) is fetched at high priority after the bytes read,
    /// never before them: the read's pieces get their deadline first. A `reader` (see
    /// ``openReader(file:fetchEdges:)``) moves there: what it wanted before and no longer
    /// wants is not fetched any more.
    public nonisolated func read(file fileIndex: Int, offset: Int64, length: Int, readahead: Range<Int64> = 0..<0,
                                 reader: ReaderID? = nil) async throws -> [UInt8] {
        try await assemble(await locateVerified(file: fileIndex, offset: offset, length: length, readahead: readahead, reader: reader))
    }

    /// Where a read's bytes are, the store they are in, and the token that holds their pieces
    /// on disk until they are read (see ``ReadsInFlight``).
    typealias Located = ([ReadSegment], (any PieceStore)?, Int?)

    private func locateVerified(file fileIndex: Int, offset: Int64, length: Int, readahead: Range<Int64>,
                                reader: ReaderID?) async throws -> Located {
        let info = try await waitForMetadata()
        guard fileIndex >= 0 && fileIndex < info.files.count else {
            throw TorrentError.outOfRange("file \(fileIndex) of \(info.files.count)")
        }
        let file = info.files[fileIndex]
        guard offset >= 0 else { throw TorrentError.outOfRange("negative offset \(offset)") }
        guard offset < file.length, length > 0 else { return ([], nil, nil) }
        let clipped = Int(min(Int64(length), file.length - offset))
        let ahead = min(readahead.lowerBound, file.length)..<min(readahead.upperBound, file.length)
        return try await locateVerified(at: file.offset + offset, length: clipped,
                                        readahead: (file.offset + ahead.lowerBound)..<(file.offset + ahead.upperBound), reader: reader)
    }

    /// Where file `fileIndex` lies on disk, if every piece under it is verified: its bytes
    /// are then final, and a reader may be handed the file itself (FUSE passthrough).
    /// Zero-length files have no pieces and count as verified.
    public func verifiedFilePath(_ fileIndex: Int) -> String? {
        guard let info = torrentInfo, let picker, let store = pipeline?.store,
              fileIndex >= 0 && fileIndex < info.files.count else { return nil }
        let file = info.files[fileIndex]
        if file.length > 0 {
            let first = Int(file.offset / Int64(info.pieceLength))
            let last = Int((file.offset + file.length - 1) / Int64(info.pieceLength))
            guard (first...last).allSatisfy({ picker.have[$0] }) else { return nil }
        }
        return store.filePath(of: file)
    }

    /// Bytes of the torrent's byte stream (all files one after another).
    ///
    /// The actor only finds where verified bytes are; bytes on disk are read on the thread
    /// pool (a read that misses the page cache must not hold one of Swift's few threads for
    /// async work), from here, without going back to the actor's loop afterwards: a
    /// verified piece on disk is final.
    public nonisolated func read(at offset: Int64, length: Int, readahead: Range<Int64> = 0..<0,
                                 reader: ReaderID? = nil) async throws -> [UInt8] {
        try await assemble(await locateVerified(at: offset, length: length, readahead: readahead, reader: reader))
    }

    /// The bytes of located segments; on the thread pool if any of them is on disk. Their
    /// pieces were held on disk from the read's start (`token`) until now.
    private nonisolated func assemble(_ located: Located) async throws -> [UInt8] {
        let (segments, store, token) = located
        defer { if let token { readsInFlight.withLockedValue { $0.end(token) } } }
        guard let store, !segments.isEmpty else { return [] }
        if segments.count == 1, case .memory(let bytes) = segments[0] { return Array(bytes) }
        let gather: @Sendable () throws -> [UInt8] = {
            var output = [UInt8]()
            output.reserveCapacity(segments.reduce(0) { $0 + $1.count })
            for segment in segments {
                switch segment {
                case .memory(let bytes): output += bytes
                case .disk(let from, let count): output += try store.read(at: from, length: count)
                }
            }
            return output
        }
        return segments.allSatisfy(\.isInMemory) ? try gather() : try await context.blocking(gather)
    }

    /// Part of a read: bytes of a piece still being written (a slice of its buffer, copied
    /// once, into the read's bytes), or a span of verified pieces on disk.
    enum ReadSegment: Sendable {
        case memory(ArraySlice<UInt8>)
        case disk(offset: Int64, length: Int)

        var count: Int {
            switch self {
            case .memory(let bytes): bytes.count
            case .disk(_, let length): length
            }
        }

        var isInMemory: Bool {
            if case .memory = self { true } else { false }
        }
    }

    /// Waits until every piece under the read is verified and says where its bytes are.
    private func locateVerified(at offset: Int64, length: Int, readahead: Range<Int64>,
                                reader: ReaderID? = nil) async throws -> Located {
        let info = try await waitForMetadata()
        guard offset >= 0, length >= 0, offset + Int64(length) <= info.totalLength else {
            throw TorrentError.outOfRange("\(offset)+\(length) of \(info.totalLength) bytes")
        }
        guard length > 0 else { return ([], pipeline!.store, nil) }
        let range = offset..<(offset + Int64(length))
        // The read's pieces stay on disk from now until they are read (`assemble`): a piece
        // that came while the read waited for the next one is not evicted meanwhile.
        let pieces = pieces(under: range)
        let token = readsInFlight.withLockedValue { $0.begin(pieces) }
        do {
            while true {
                try await waitForRange(range, readahead: readahead, reader: reader)
                if let segments = verifiedSegments(at: offset, length: length, info: info) {
                    cacheRead(pieces)
                    return (segments, pipeline!.store, token)
                }
            }
        } catch {
            readsInFlight.withLockedValue { $0.end(token) }
            throw error
        }
    }

    /// Where the bytes are, piece by piece (adjacent pieces on disk in one span); nil if a
    /// piece is neither in memory nor on disk any more (its write failed: it is fetched again).
    private func verifiedSegments(at offset: Int64, length: Int, info: TorrentInfo) -> [ReadSegment]? {
        let end = offset + Int64(length)
        let first = Int(offset / Int64(info.pieceLength)), last = Int((end - 1) / Int64(info.pieceLength))
        var segments: [ReadSegment] = []
        for piece in first...last {
            let pieceStart = Int64(piece) * Int64(info.pieceLength)
            let from = max(offset, pieceStart), to = min(end, pieceStart + Int64(info.length(ofPiece: piece)))
            let bytes = Int(from - pieceStart)..<Int(to - pieceStart)
            if let buffer = pipeline?.verifiedBytes(of: piece) {
                segments.append(.memory(buffer[bytes]))
            } else if let buffer = pipeline?.partialBytes(of: piece), blocksVerified(of: piece, bytes: bytes) {
                // Copied now: the buffer still takes blocks, and a slice would make the next
                // one copy the whole piece.
                segments.append(.memory(ArraySlice(Array(buffer[bytes]))))
            } else if picker?.have[piece] == true {
                if case .disk(let spanStart, let spanLength)? = segments.last, spanStart + Int64(spanLength) == from {
                    segments[segments.count - 1] = .disk(offset: spanStart, length: spanLength + Int(to - from))
                } else {
                    segments.append(.disk(offset: from, length: Int(to - from)))
                }
            } else {
                return nil
            }
        }
        return segments
    }

    /// Raises the priority of the pieces under `range`, gives them a deadline, and waits
    /// until every one is verified. Cancelling the caller ends the wait at once. With a
    /// `reader`, the readahead is the reader's new window and its old one is let go.
    public func waitForRange(_ range: Range<Int64>, readahead: Range<Int64> = 0..<0, reader: ReaderID? = nil) async throws {
        let info = try await waitForMetadata()
        guard !range.isEmpty else { return }
        let first = Int(range.lowerBound / Int64(info.pieceLength))
        let last = Int((range.upperBound - 1) / Int64(info.pieceLength))
        lastReaderActivity = context.now
        deadlineOrder += 1
        // Reads of pieces already here (most of a sequential read's, and any read again)
        // change nothing, and skip the pass over every peer.
        var wantsMore = false
        var neededBlocks: [Int: Range<Int>] = [:]
        for piece in first...last where !(picker!.have[piece]) {
            let pieceStart = Int64(piece) * Int64(info.pieceLength)
            let pieceEnd = pieceStart + Int64(info.length(ofPiece: piece))
            let bytes = Int(max(range.lowerBound, pieceStart) - pieceStart)..<Int(min(range.upperBound, pieceEnd) - pieceStart)
            // A random read (no readahead) of a hybrid torrent waits only for its own blocks.
            let blocks = readahead.isEmpty ? blocksToVerify(in: piece, bytes: bytes) : nil
            neededBlocks[piece] = blocks
            picker!.setDeadline(deadlineOrder, for: piece, needing: blocks)
            wantsMore = true
        }
        if let reader {
            if moveReader(reader, read: range, ahead: readahead) { wantsMore = true }
        } else if !readahead.isEmpty, readahead.upperBound <= info.totalLength {
            let aheadFirst = Int(readahead.lowerBound / Int64(info.pieceLength))
            let aheadLast = Int((readahead.upperBound - 1) / Int64(info.pieceLength))
            for piece in aheadFirst...aheadLast where !picker!.have[piece] && picker!.priority(of: piece) < PiecePicker.high {
                picker!.raisePriority(PiecePicker.high, of: piece)
                wantsMore = true
            }
        }
        // A random read (no readahead) of blocks checked one by one must not queue behind
        // requests nobody waits for.
        if wantsMore && !neededBlocks.isEmpty { cancelRequestsNobodyWaitsFor() }
        wantPieceLayer(under: first)
        // Hashes first: they come back before the blocks a seeder reads from disk.
        requestWantedHashes()
        if wantsMore { updateInterestAndRequests() }
        let order = deadlineOrder
        do {
            for piece in first...last {
                try await waitForPiece(piece, blocks: neededBlocks[piece], order: order)
            }
        } catch {
            // The read is over: its other pieces' own blocks are no longer urgent.
            for piece in neededBlocks.keys where !pieceWaiters.isWaiting(for: piece) { picker?.dropNeededBlocks(of: piece) }
            throw error
        }
    }

    public func hasPiece(_ piece: Int) -> Bool { picker?.have[piece] ?? false }

    /// Waits until `piece` is verified, or only its `blocks` when they can be checked one by one.
    private func waitForPiece(_ piece: Int, blocks: Range<Int>?, order: UInt64) async throws {
        if picker?.have[piece] == true || pipeline?.stage(of: piece) == .inMemory { return }
        // Another reader, served from its blocks meanwhile, may have parked the piece or
        // cleared its deadline: this reader still needs it.
        if picker?.isParked(piece) == true || picker?.hasDeadline(piece) == false {
            picker?.setDeadline(order, for: piece, needing: blocks)
            updateInterestAndRequests()
        }
        if let blocks, pipeline?.stage(of: piece) == .partial {
            verifyReceivedBlocks(of: piece)
            if let verified = merkle.verified[piece], blocks.allSatisfy(verified.contains) {
                if !pieceWaiters.isWaiting(for: piece) { servedFromBlocks(piece) }
                return
            }
        }
        if isStopped { throw TorrentError.removed("the torrent was removed") }
        try refuseReadWhileStorageFails()
        wake()
        let id = pieceWaiters.nextID()
        try await suspend {
            pieceWaiters.add($0, for: piece, id: id)
            if let blocks { blockWaiters[piece, default: [:]][id] = blocks }
        } onCancel: {
            Task { await self.cancelPieceWaiter(piece: piece, id: id) }
        }
    }

    private func cancelPieceWaiter(piece: Int, id: Int) {
        blockWaiters[piece]?[id] = nil
        if blockWaiters[piece]?.isEmpty == true { blockWaiters[piece] = nil }
        guard pieceWaiters.cancel(id) else { return }
        if !pieceWaiters.isWaiting(for: piece) { picker?.clearDeadline(for: piece) }
    }
}

extension Torrent {
    /// Bytes of a file that are in verified pieces: what `st_blocks` reports.
    public func verifiedBytes(inFile index: Int) -> Int64 {
        guard let info, let picker, index < info.files.count else { return 0 }
        let file = info.files[index]
        guard file.length > 0 else { return 0 }
        if picker.isComplete { return file.length }
        let pieceLength = Int64(info.pieceLength)
        let first = Int(file.offset / pieceLength), last = Int((file.offset + file.length - 1) / pieceLength)
        var total: Int64 = 0
        for piece in first...last where picker.have[piece] {
            let start = max(file.offset, Int64(piece) * pieceLength)
            let end = min(file.offset + file.length, Int64(piece) * pieceLength + Int64(info.length(ofPiece: piece)))
            total += end - start
        }
        return total
    }

    /// The torrent's creation date (seconds since 1970), when it names one.
    public var creationDate: Int64? { metainfo?.creationDate }
}

extension Torrent {
    /// The pieces reads are waiting for now, each once.
    var piecesReadsWaitFor: [Int] { pieceWaiters.keys.sorted() }
}
