import NIOCore
import PeerProtocol
import TorrentModel

/// Seeding: answering requests, and who we upload to (choking).
extension Torrent {
    static let maxBlockRequest = 128 * 1024
    static let maxQueuedRequests = 2000

    func receivedRequest(_ request: BlockRequest, from key: PeerKey) {
        guard let info, let picker else { return ban(key, reason: "requested a block before we had the metadata") }
        let piece = Int(request.piece), begin = Int(request.begin), length = Int(request.length)
        guard piece < info.pieceCount, length > 0, length <= Self.maxBlockRequest,
              begin + length <= info.length(ofPiece: piece) else {
            return ban(key, reason: "request \(request) outside the torrent")
        }
        let allowed = !peers[key]!.amChoking
        guard allowed, picker.have[piece], peers[key]!.uploadQueue.count < Self.maxQueuedRequests else {
            if peers[key]!.supportsFast { send(.rejectRequest(request), to: key) }
            return
        }
        peers[key]!.uploadQueue.append(request)
        if !peers[key]!.isServing {
            peers[key]!.isServing = true
            Task { await self.serve(key) }
        }
    }

    /// Sends the requested blocks in batches: every request whose piece is in memory is
    /// written in one trip to the event loop with one flush, and whole pieces are read
    /// into a small cache so a peer asking for a piece's blocks in order costs one disk read.
    /// The blocks are slices of the cached piece, never copies.
    private func serve(_ key: PeerKey) async {
        var lastWrite: EventLoopFuture<Void>?
        var unconfirmed = 0
        while let peer = peers[key], !peer.uploadQueue.isEmpty, !peer.amChoking, !isStopped {
            var batch: [(piece: Int, begin: Int, block: ByteBuffer)] = []
            var batchBytes = 0
            while let request = peers[key]?.uploadQueue.first, batchBytes < 4 << 20 {
                let piece = Int(request.piece)
                let cached: ByteBuffer
                if let hit = pipeline?.cachedForUpload(piece) {
                    cached = hit
                } else if batch.isEmpty {
                    do {
                        cached = try await loadPieceForUpload(piece)
                    } catch {
                        lastError = "could not read piece \(piece) to upload: \(error)"
                        // The queue may have changed while we waited (a cancel, a choke).
                        if let index = peers[key]?.uploadQueue.firstIndex(of: request) {
                            peers[key]!.uploadQueue.remove(at: index)
                        }
                        continue
                    }
                    guard peers[key]?.uploadQueue.first == request else { continue }  // cancelled meanwhile
                } else {
                    break  // send what is ready before reading from disk
                }
                peers[key]!.uploadQueue.removeFirst()
                let begin = Int(request.begin), length = Int(request.length)
                batch.append((piece, begin, cached.getSlice(at: cached.readerIndex + begin, length: length)!))
                batchBytes += length
                peers[key]!.session.uploaded(bytes: length)
                statistics.uploaded(length)
            }
            guard let link = peers[key]?.link, !batch.isEmpty else { continue }
            peers[key]!.session.sentSomething(now: context.now)
            lastWrite = link.sendBlocks(batch)
            unconfirmed += batchBytes
            // Keep a bounded amount queued in the socket: wait when too much is unconfirmed. A
            // peer that stops reading for 30 seconds is dropped rather than waited on forever.
            if unconfirmed >= 8 << 20, let pending = lastWrite {
                let drained = await Self.waitForWrite(pending, on: link.eventLoop, timeout: TimeAmount(timeouts.uploadDrain))
                unconfirmed = 0
                if !drained {
                    detach(key, reason: "stopped reading what it asked for")
                    return
                }
            }
        }
        peers[key]?.isServing = false
    }

    /// Whether the write completed within `timeout`.
    private static func waitForWrite(_ write: EventLoopFuture<Void>, on loop: EventLoop, timeout: TimeAmount) async -> Bool {
        // Both callbacks run on the channel's loop, so a plain flag decides which one answers.
        final class Once: @unchecked Sendable { var done = false }
        let once = Once()
        let promise = loop.makePromise(of: Bool.self)
        let timer = loop.scheduleTask(in: timeout) {
            guard !once.done else { return }
            once.done = true
            promise.succeed(false)
        }
        write.whenComplete { _ in
            timer.cancel()
            guard !once.done else { return }
            once.done = true
            promise.succeed(true)
        }
        return (try? await promise.futureResult.get()) ?? false
    }

    /// Reads a piece from the store on the thread pool, into the pipeline's upload cache.
    private func loadPieceForUpload(_ piece: Int) async throws -> ByteBuffer {
        let store = pipeline!.store
        guard picker?.have[piece] == true else { throw TorrentError.outOfRange("piece \(piece) is no longer here (evicted)") }
        // Held on disk while it is read (see Torrent+Cache).
        let token = readsInFlight.withLockedValue { $0.begin(piece..<(piece + 1)) }
        defer { readsInFlight.withLockedValue { $0.end(token) } }
        let bytes = try await context.blocking { ByteBuffer(bytes: try store.readPiece(piece)) }
        // Another serve may have read it meanwhile.
        if let hit = pipeline?.cachedForUpload(piece) { return hit }
        pipeline?.keepForUpload(piece, bytes)
        return bytes
    }

    // MARK: choking

    var unchokedCount: Int { peers.values.count { !$0.amChoking } }

    func unchokeIfSlotFree(_ key: PeerKey) {
        guard let peer = peers[key], peer.amChoking, peer.peerInterested,
              choker.unchokesAtOnce(unchokedCount: unchokedCount) else { return }
        unchoke(key)
    }

    func unchoke(_ key: PeerKey) {
        guard peers[key] != nil, peers[key]!.session.setAmChoking(false) else { return }
        send(.unchoke, to: key)
    }

    func choke(_ key: PeerKey) {
        guard let peer = peers[key], peers[key]!.session.setAmChoking(true) else { return }
        send(.choke, to: key)
        if peer.supportsFast {
            for request in peer.uploadQueue { send(.rejectRequest(request), to: key) }
        }
        peers[key]!.uploadQueue = []
    }

    /// Every 10 seconds: the ``Choker`` decides who keeps, gets and loses a slot from the
    /// peers' interest and rates; this sends the chokes and unchokes.
    func chokeRound(now: ContinuousClock.Instant, rng: inout some RandomNumberGenerator) {
        let candidates = peers.values.map {
            ChokeCandidate(key: $0.key, isInterested: $0.peerInterested, downloadRate: $0.downloadRate,
                           uploadRate: $0.uploadRate, isChoked: $0.amChoking)
        }
        let decision = choker.round(candidates, now: now, seeding: picker?.isComplete ?? false, rng: &rng)
        for key in decision.choke.sorted() { choke(key) }
        for key in decision.unchoke.sorted() { unchoke(key) }
    }
}
