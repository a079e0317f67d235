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

    /// Sends the requested blocks one after another, reading whole pieces into a small
    /// cache so a peer asking for a piece's blocks in order costs one disk read.
    private func serve(_ key: PeerKey) async {
        var inFlight: [EventLoopFuture<Void>] = []
        while let peer = peers[key], !peer.uploadQueue.isEmpty, !isStopped {
            let request = peers[key]!.uploadQueue.removeFirst()
            let piece = Int(request.piece)
            let bytes: [UInt8]
            do {
                bytes = try await pieceForUpload(piece)
            } catch {
                lastError = "could not read piece \(piece) to upload: \(error)"
                break
            }
            guard let current = peers[key], !current.amChoking else { continue }
            let begin = Int(request.begin)
            inFlight.append(current.link.sendBlock(piece: piece, begin: begin, block: bytes[begin..<(begin + Int(request.length))]))
            peers[key]!.uploadedThisTick += Int(request.length)
            peers[key]!.uploadedTotal += Int64(request.length)
            peers[key]!.lastSentAt = .now
            uploadedBytes += Int64(request.length)
            // Keep a bounded number of blocks queued in the socket.
            if inFlight.count >= 64 {
                let oldest = inFlight.removeFirst()
                _ = try? await oldest.get()
            }
        }
        peers[key]?.isServing = false
    }

    private func pieceForUpload(_ piece: Int) async throws -> [UInt8] {
        if let index = uploadCache.firstIndex(where: { $0.piece == piece }) {
            let entry = uploadCache.remove(at: index)
            uploadCache.append(entry)
            return entry.bytes
        }
        let storage = self.storage!
        let bytes = try await context.blocking { try storage.readPiece(piece) }
        uploadCache.append((piece, bytes))
        var total = uploadCache.reduce(0) { $0 + $1.bytes.count }
        while total > Self.uploadCacheBytes && uploadCache.count > 1 {
            total -= uploadCache.removeFirst().bytes.count
        }
        return bytes
    }

    // MARK: choking

    var unchokedCount: Int { peers.values.count { !$0.amChoking } }

    func unchokeIfSlotFree(_ key: PeerKey) {
        guard let peer = peers[key], peer.amChoking, peer.peerInterested,
              unchokedCount < context.configuration.unchokeSlots else { return }
        unchoke(key)
    }

    func unchoke(_ key: PeerKey) {
        guard peers[key]?.amChoking == true else { return }
        peers[key]!.amChoking = false
        send(.unchoke, to: key)
    }

    func choke(_ key: PeerKey) {
        guard let peer = peers[key], !peer.amChoking else { return }
        peers[key]!.amChoking = true
        send(.choke, to: key)
        if peer.supportsFast {
            for request in peer.uploadQueue { send(.rejectRequest(request), to: key) }
        }
        peers[key]!.uploadQueue = []
    }

    /// Every 10 seconds: the interested peers that gave us (or, when seeding, took from us)
    /// the most keep their slots; one more slot rotates every 30 seconds to a random peer,
    /// so newcomers get a chance to prove themselves (BEP 3's optimistic unchoke).
    func chokeRound(now: ContinuousClock.Instant) {
        let slots = context.configuration.unchokeSlots
        let seeding = picker?.isComplete ?? false
        let interested = peers.values.filter(\.peerInterested)
        let ranked = interested.sorted {
            seeding ? $0.uploadRate > $1.uploadRate : $0.downloadRate > $1.downloadRate
        }
        var keep = Set(ranked.prefix(max(0, slots - 1)).map(\.key))
        if now - lastOptimistic >= .seconds(30) || optimisticPeer.flatMap({ peers[$0] }) == nil {
            lastOptimistic = now
            optimisticPeer = interested.filter { !keep.contains($0.key) }.randomElement()?.key
        }
        if let optimisticPeer { keep.insert(optimisticPeer) }
        for key in peers.keys {
            if keep.contains(key) { unchoke(key) } else { choke(key) }
        }
    }
}
