import PeerProtocol
import TorrentModel

/// What a torrent knows of its v2 merkle trees (BEP 52), for reads of a hybrid torrent.
///
/// A v1 piece can only be checked whole, so a 64 KiB read waits for every block of the
/// 256 KiB piece under it. A hybrid torrent also has a merkle tree per file whose leaves
/// are the SHA-256 of each 16 KiB block: with the leaves of a piece (asked of a peer and
/// checked against the file's `pieces root`), each block is checked as it arrives and a
/// read gets its bytes once its own blocks are in. Every piece is still checked whole
/// against its v1 hash before it is written.
struct MerkleHashes {
    enum Purpose: Hashable {
        /// The part of the piece layer that holds this piece (see `PieceTreePlace.pieceLayerRequest`).
        case pieceLayer(piece: Int)
        case blocks(piece: Int)
    }

    /// Hash requests in flight: whom we asked, what for, and when.
    var asked: [HashRequest: (peer: PeerKey, purpose: Purpose, at: ContinuousClock.Instant)] = [:]
    var pending: Set<Purpose> = []
    /// Verified piece-layer hashes by file root (identical files share a root and a
    /// tree), then by piece of the file.
    var pieceLayers: [[UInt8]: [Int: [UInt8]]] = [:]
    /// Verified leaf hashes of pieces under a read, by piece.
    var blockHashes: [Int: [[UInt8]]] = [:]
    /// Pieces under a read whose leaf hashes are still to be had.
    var wanted: Set<Int> = []
    /// Pieces whose part of the piece layer is to be asked for: every part of a file (up to
    /// 16 of 512 hashes) at its first read, so no seek in it waits for them.
    var layersWanted: Set<Int> = []
    /// Files whose piece layer was asked for that way.
    var layersPrefetched: Set<Int> = []
    static let mostLayerPartsPrefetched = 16
    /// Blocks of pieces under a read that passed their leaf hash.
    var verified: [Int: Set<Int>] = [:]
    /// When a random read last asked for blocks: the rest of the pieces it was served from
    /// waits until reads pause this long (see `PiecePicker.park`).
    var lastRandomReadAt: ContinuousClock.Instant?
    static let quietBeforeUnparking: Duration = .milliseconds(50)
    /// Parked pieces wait at most this long, and hold at most this many bytes, however
    /// busy the reads: each holds its buffer in memory until it is whole.
    static let longestParking: Duration = .seconds(1)
    static let mostParkedBytes = 64 << 20
    var firstParkedAt: ContinuousClock.Instant?
    var unparkScheduled = false

    /// Forgets what `peer` was asked, so it is asked of someone else.
    mutating func forget(_ peer: PeerKey) {
        for (request, ask) in asked where ask.peer == peer {
            asked[request] = nil
            pending.remove(ask.purpose)
        }
    }
}

extension Torrent {
    /// Whether our handshake says we speak v2: only for a torrent known to be hybrid, from
    /// its metadata or its magnet link's `urn:btmh:` (libtorrent drops a peer that claims
    /// v2 for a v1-only torrent).
    var advertisesV2: Bool { info.map { $0.v2InfoHash != nil } ?? (magnet.v2InfoHash != nil) }

    /// Our handshake; to a peer that named the torrent by its v2 hash, with that hash.
    func ownHandshake(naming hash: InfoHash? = nil) -> Handshake {
        var handshake = Handshake(infoHash: hash ?? infoHash, peerID: context.peerID)
        handshake.supportsV2 = advertisesV2
        return handshake
    }

    /// Whether a handshake's hash names this torrent: its v1 hash, or (BEP 52) its v2 hash
    /// cut to 20 bytes, which libtorrent answers with when both sides speak v2.
    nonisolated func names(_ hash: InfoHash) -> Bool {
        if hash == infoHash { return true }
        guard let v2 = magnetLink.v2InfoHash else { return false }
        return hash.bytes.elementsEqual(v2.prefix(20))
    }

    /// The blocks of `piece` a read of `bytes` (offsets in the piece) needs, if they can be
    /// verified one by one (the piece's hashes are here, or a peer can be asked for them);
    /// nil when the read must wait for the whole piece.
    func blocksToVerify(in piece: Int, bytes: Range<Int>) -> Range<Int>? {
        guard let place = info?.treePlace(ofPiece: piece), place.isVerifiableByBlock,
              bytes.upperBound <= place.fileBytesInPiece, !bytes.isEmpty else { return nil }
        if merkle.blockHashes[piece] == nil {
            guard hashSource(for: piece) != nil else { return nil }
            merkle.wanted.insert(piece)
        }
        merkle.lastRandomReadAt = context.now
        return (bytes.lowerBound / MerkleTree.blockSize)..<((bytes.upperBound - 1) / MerkleTree.blockSize + 1)
    }

    /// Asks v2 peers for the hashes that readers' pieces still need. Called whenever that
    /// may have become possible: a read, a peer's bitfield or departure, an answer.
    func requestWantedHashes() {
        guard !merkle.wanted.isEmpty || !merkle.layersWanted.isEmpty, let info else { return }
        for piece in merkle.layersWanted {
            guard let place = info.treePlace(ofPiece: piece), !hasPieceLayerHash(place),
                  let layer = place.pieceLayerRequest else {
                merkle.layersWanted.remove(piece)
                continue
            }
            let request = HashRequest(piecesRoot: place.root, range: layer)
            guard !merkle.pending.contains(.pieceLayer(piece: piece)), merkle.asked[request] == nil,
                  let key = hashSource(for: piece) else { continue }
            ask(request, for: .pieceLayer(piece: piece), of: key)
        }
        for piece in merkle.wanted.sorted() {
            guard merkle.blockHashes[piece] == nil, picker?.have[piece] == false,
                  let place = info.treePlace(ofPiece: piece) else {
                merkle.wanted.remove(piece)
                continue
            }
            let purpose: MerkleHashes.Purpose
            let range: HashRange
            if !hasPieceLayerHash(place) {
                guard let layer = place.pieceLayerRequest else { merkle.wanted.remove(piece); continue }
                purpose = .pieceLayer(piece: piece)
                range = layer
            } else {
                purpose = .blocks(piece: piece)
                range = place.blockHashesRequest
            }
            let request = HashRequest(piecesRoot: place.root, range: range)
            // The same request for another purpose (identical files share a root): after it.
            guard !merkle.pending.contains(purpose), merkle.asked[request] == nil else { continue }
            guard let key = hashSource(for: piece) else {
                // Nobody to ask: the reader waits for the whole piece.
                merkle.wanted.remove(piece)
                picker?.dropNeededBlocks(of: piece)
                continue
            }
            ask(request, for: purpose, of: key)
        }
    }

    private func ask(_ request: HashRequest, for purpose: MerkleHashes.Purpose, of key: PeerKey) {
        merkle.asked[request] = (key, purpose, context.now)
        merkle.pending.insert(purpose)
        send(.hashRequest(request), to: key)
    }

    /// A read of a hybrid torrent's file: its piece layer is asked for now, if it is not
    /// here, so the file's first seek waits only for its blocks' hashes.
    func wantPieceLayer(under piece: Int) {
        guard info?.v2InfoHash != nil, let place = info?.treePlace(ofPiece: piece), place.isVerifiableByBlock,
              place.piecesInFile > 1, !merkle.layersPrefetched.contains(place.file) else { return }
        merkle.layersPrefetched.insert(place.file)
        let parts = (place.piecesInFile + PieceTreePlace.maxHashesPerRequest - 1) / PieceTreePlace.maxHashesPerRequest
        for part in 0..<min(parts, MerkleHashes.mostLayerPartsPrefetched) {
            merkle.layersWanted.insert(piece - place.pieceInFile + part * PieceTreePlace.maxHashesPerRequest)
        }
    }

    /// Whether the node the piece's block hashes lead to is known (a file of one piece has
    /// its root).
    func hasPieceLayerHash(_ place: PieceTreePlace) -> Bool {
        place.piecesInFile == 1 || merkle.pieceLayers[place.root]?[place.pieceInFile] != nil
    }

    /// A peer to ask for hashes of `piece`'s file: it speaks v2, has not refused before, and
    /// has the piece (a peer has the hashes of what it has verified).
    private func hashSource(for piece: Int) -> PeerKey? {
        peers.keys.sorted().first { key in
            guard let peer = peers[key] else { return false }
            return peer.supportsV2 && !peer.refusesHashes && peer.bitfield?[piece] == true
        }
    }

    func receivedHashes(_ request: HashRequest, _ data: [UInt8], from key: PeerKey) {
        guard let info, let ask = merkle.asked[request], ask.peer == key else {
            statistics.wasted(data.count)
            return
        }
        merkle.asked[request] = nil
        merkle.pending.remove(ask.purpose)
        let hashes = stride(from: 0, to: data.count, by: SHA256.byteCount).map { Array(data[$0..<($0 + SHA256.byteCount)]) }
        switch ask.purpose {
        case .pieceLayer(let piece):
            guard let place = info.treePlace(ofPiece: piece) else { break }
            guard let layer = place.pieceLayer(from: hashes) else {
                return ban(key, reason: "sent piece hashes of \(info.files[place.file].pathString) that do not lead to its root")
            }
            merkle.pieceLayers[place.root, default: [:]].merge(layer) { old, _ in old }
            merkle.layersWanted.remove(piece)
        case .blocks(let piece):
            guard picker?.have[piece] == false, let place = info.treePlace(ofPiece: piece),
                  let node = place.expectedPieceNode(pieceLayer: merkle.pieceLayers[place.root]) else { break }
            guard let leaves = place.blockHashes(from: hashes, node: node) else {
                return ban(key, reason: "sent block hashes of piece \(piece) that do not lead to its file's root")
            }
            merkle.blockHashes[piece] = leaves
            merkle.wanted.remove(piece)
            verifyReceivedBlocks(of: piece)
            wakeBlockWaiters(of: piece)
        }
        requestWantedHashes()
    }

    func hashesRejected(_ request: HashRequest, by key: PeerKey) {
        guard let ask = merkle.asked[request], ask.peer == key else { return }
        merkle.asked[request] = nil
        merkle.pending.remove(ask.purpose)
        peers[key]?.refusesHashes = true
        requestWantedHashes()
        updateInterestAndRequests()
    }

    /// A peer that leaves a hash request unanswered for 5 s is treated as refusing it.
    func expireHashRequests(now: ContinuousClock.Instant) {
        for (request, ask) in merkle.asked where now - ask.at > timeouts.hashRequest {
            logger.info("\(peers[ask.peer]?.address.description ?? "a peer") left a hash request unanswered")
            hashesRejected(request, by: ask.peer)
        }
    }

    /// A block of a piece under a read was copied into the piece's buffer.
    /// Blocks that arrive without a reader waiting are checked when one comes.
    func blockArrived(_ block: Int, of piece: Int) {
        guard blockWaiters[piece] != nil, merkle.blockHashes[piece] != nil,
              let place = info?.treePlace(ofPiece: piece) else { return }
        verifyBlock(block, of: piece, place: place)
        wakeBlockWaiters(of: piece)
    }

    /// Checks every block of the piece that arrived and is not verified yet.
    func verifyReceivedBlocks(of piece: Int) {
        guard merkle.blockHashes[piece] != nil, let place = info?.treePlace(ofPiece: piece), let picker else { return }
        for block in picker.receivedBlocks(of: piece) where merkle.verified[piece]?.contains(block) != true {
            verifyBlock(block, of: piece, place: place)
        }
    }

    /// Checks one block against its leaf hash. A block that fails is not handed to any
    /// reader; its piece will fail its v1 check too, and be fetched again.
    private func verifyBlock(_ block: Int, of piece: Int, place: PieceTreePlace) {
        guard let leaves = merkle.blockHashes[piece], block < leaves.count, let buffer = pipeline?.partialBytes(of: piece) else { return }
        let begin = block * MerkleTree.blockSize
        let end = min(begin + MerkleTree.blockSize, place.fileBytesInPiece)
        let digest = buffer.withUnsafeBytes { SHA256.hash(UnsafeRawBufferPointer(rebasing: $0[begin..<end])) }
        if digest == leaves[block] {
            merkle.verified[piece, default: []].insert(block)
        } else {
            logger.warning("block \(block) of piece \(piece) does not match its v2 hash")
        }
    }

    /// Resumes the readers of `piece` whose blocks are all verified now.
    private func wakeBlockWaiters(of piece: Int) {
        guard let waiting = blockWaiters[piece], let verified = merkle.verified[piece] else { return }
        for (id, blocks) in waiting where blocks.allSatisfy(verified.contains) {
            blockWaiters[piece]![id] = nil
            if pieceWaiters.resume(id: id, returning: ()) { readsFromVerifiedBlocks += 1 }
        }
        if blockWaiters[piece]?.isEmpty == true { blockWaiters[piece] = nil }
        if !pieceWaiters.isWaiting(for: piece) { servedFromBlocks(piece) }
    }

    /// Whether the blocks holding `bytes` (offsets in the piece) are verified.
    func blocksVerified(of piece: Int, bytes: Range<Int>) -> Bool {
        guard let verified = merkle.verified[piece], !bytes.isEmpty,
              let place = info?.treePlace(ofPiece: piece), bytes.upperBound <= place.fileBytesInPiece else { return false }
        return (bytes.lowerBound / MerkleTree.blockSize...(bytes.upperBound - 1) / MerkleTree.blockSize).allSatisfy(verified.contains)
    }

    /// The piece's buffer is gone (hashed whole, or dropped): its blocks' state goes with it.
    func forgetBlocks(of piece: Int) {
        merkle.verified[piece] = nil
    }

    /// The piece is verified whole: nothing more to ask for it.
    func forgetHashes(of piece: Int) {
        forgetBlocks(of: piece)
        merkle.blockHashes[piece] = nil
        merkle.wanted.remove(piece)
    }
}
