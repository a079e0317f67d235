import PeerProtocol
import TorrentModel

/// Seeks in a hybrid torrent: a seek's own blocks go to the front of the seeder's queue,
/// and the rest of the pieces seeks were served from waits until seeks pause.
extension Torrent {
    /// Every reader of `piece` has its blocks: the rest of the piece waits until random
    /// reads pause.
    func servedFromBlocks(_ piece: Int) {
        guard picker != nil, let info else { return }
        picker!.clearDeadline(for: piece)
        if picker!.parkedCount == 0 { merkle.firstParkedAt = context.now }
        picker!.park(piece)
        if picker!.parkedCount * info.pieceLength > MerkleHashes.mostParkedBytes {
            unparkAll()
        } else {
            scheduleUnparking()
        }
    }

    private func scheduleUnparking() {
        guard !merkle.unparkScheduled else { return }
        merkle.unparkScheduled = true
        Task {
            try? await Task.sleep(for: MerkleHashes.quietBeforeUnparking)
            self.unparkIfQuiet()
        }
    }

    private func unparkIfQuiet() {
        merkle.unparkScheduled = false
        guard !isStopped, (picker?.parkedCount ?? 0) > 0 else { return }
        let now = context.now
        guard merkle.lastRandomReadAt.map({ now - $0 >= MerkleHashes.quietBeforeUnparking }) ?? true
                || now - (merkle.firstParkedAt ?? now) >= MerkleHashes.longestParking else {
            return scheduleUnparking()
        }
        unparkAll()
    }

    private func unparkAll() {
        picker?.unparkAll()
        merkle.firstParkedAt = nil
        updateInterestAndRequests()
    }

    /// A seek whose blocks are not asked for yet jumps the queue: requests still queued at
    /// each peer for pieces no reader waits on (the rest of the last read's piece, say) are
    /// cancelled, and asked for again after the read's own. A seeder serves requests in
    /// order, so otherwise the read waits for them first.
    func cancelRequestsNobodyWaitsFor() {
        guard picker != nil else { return }
        for key in Array(peers.keys) {
            let stale = picker!.outstandingRequests(of: key).filter { !picker!.hasDeadline($0.piece) }
            guard !stale.isEmpty else { continue }
            var cancelled: [BlockRequest] = []
            for block in stale {
                picker!.requestFailed(block, peer: key)
                cancelled.append(picker!.request(for: block).wire)
            }
            peers[key]!.session.cancelled(cancelled)
            peers[key]!.link.send(cancelled.map { .cancel($0) })
        }
    }
}
