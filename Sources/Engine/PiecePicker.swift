import PeerProtocol
import TorrentModel

/// A peer, as the picker and the torrent know it: a number unique within a session.
public struct PeerKey: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let value: Int
    public init(_ value: Int) { self.value = value }
    public static func < (lhs: PeerKey, rhs: PeerKey) -> Bool { lhs.value < rhs.value }
    public var description: String { "peer#\(value)" }
}

/// One 16 KiB (or shorter, at the end) block of a piece.
public struct Block: Hashable, Sendable {
    public let piece: Int
    public let index: Int

    public init(piece: Int, index: Int) {
        self.piece = piece
        self.index = index
    }
}

/// Decides which blocks to request from which peer.
///
/// Pure state: no I/O and no clock. The order it follows:
/// 1. pieces with a read deadline, earliest first (a reader is waiting);
/// 2. pieces already started (finish them, so they can be verified and served);
/// 3. the rest of the wanted pieces, highest priority first; readahead in file order,
///    the others rarest first (fewest peers have it), ties broken by a fixed
///    per-torrent shuffle.
/// When every missing block is already requested, it enters endgame and asks a
/// second peer for blocks still in flight, so one slow peer cannot hold up the end.
public struct PiecePicker: Sendable {
    public static let blockSize = 16 * 1024

    /// Priority of a piece nobody wants: never requested.
    public static let skip: UInt8 = 0
    public static let normal: UInt8 = 1
    /// Readahead: wanted before normal pieces.
    public static let high: UInt8 = 4
    /// Under a read: wanted before everything without a deadline.
    public static let top: UInt8 = 7

    struct PartialPiece: Sendable {
        var received: [Bool]
        var receivedCount = 0
        /// Who was asked for each block; more than one only in endgame.
        var requestedFrom: [[PeerKey]]
        /// Everyone who sent a block of this piece, to blame if it fails its hash.
        var contributors: Set<PeerKey> = []
        /// Peers whose request of a block timed out (``requestTimedOut(_:peer:)``), by block:
        /// someone else is asked for it first, no endgame duplicate goes to them, and their
        /// answer is still taken if it comes first.
        var timedOutFrom: [Int: Set<PeerKey>] = [:]

        init(blockCount: Int) {
            received = Array(repeating: false, count: blockCount)
            requestedFrom = Array(repeating: [], count: blockCount)
        }

        var isComplete: Bool { receivedCount == received.count }
    }

    public let pieceCount: Int
    public let pieceLength: Int
    public let totalLength: Int64
    public private(set) var have: Bitfield
    private var availability: [Int32]
    private var priorities: [UInt8]
    private var deadlines: [Int: UInt64] = [:]
    /// For a piece under a random read whose blocks are checked one by one (BEP 52): the
    /// blocks the read needs. While any piece has some, only those are asked for: a
    /// seeder serves requests in order, and anything asked before them delays the read.
    private var neededBlocks: [Int: Range<Int>] = [:]
    /// Pieces whose readers were served from verified blocks: the rest of them waits until
    /// random reads pause (``unparkAll()``), so it does not queue in front of the next one.
    private var parked: Set<Int> = []
    private var partial: [Int: PartialPiece] = [:]
    private var verifying: Set<Int> = []
    /// Pieces given back to make room (``evict(_:)``) whose bytes are still being removed
    /// from disk: not picked until that is done (``evictionEnded(_:)``), so a new copy is
    /// never written under the hole being punched.
    private var evicting: Set<Int> = []
    private let tieBreak: [UInt32]
    /// Blocks requested per peer, so losing a peer returns its blocks at once.
    private var requestsByPeer: [PeerKey: Set<Block>] = [:]
    /// Blocks each peer just timed out on: its next pick leaves them to the others (and takes
    /// new blocks instead); after that pick they are free for it again, so a lone peer that
    /// lost a request is asked again rather than never (libtorrent likewise picks a new block
    /// for the slow peer first, then frees the old one for everyone).
    private var notAgainAtOnce: [PeerKey: Set<Block>] = [:]

    public init(info: TorrentInfo, have: Bitfield? = nil, defaultPriority: UInt8 = PiecePicker.skip, seed: UInt64 = 0) {
        self.init(pieceCount: info.pieceCount, pieceLength: info.pieceLength, totalLength: info.totalLength,
                  have: have, defaultPriority: defaultPriority, seed: seed)
    }

    public init(pieceCount: Int, pieceLength: Int, totalLength: Int64, have: Bitfield? = nil,
                defaultPriority: UInt8 = PiecePicker.skip, seed: UInt64 = 0) {
        self.pieceCount = pieceCount
        self.pieceLength = pieceLength
        self.totalLength = totalLength
        self.have = have ?? Bitfield(count: pieceCount)
        self.availability = Array(repeating: 0, count: pieceCount)
        self.priorities = Array(repeating: defaultPriority, count: pieceCount)
        var state = seed | 1
        self.tieBreak = (0..<pieceCount).map { _ in
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return UInt32(truncatingIfNeeded: state)
        }
    }

    // MARK: geometry

    public func length(ofPiece piece: Int) -> Int {
        piece < pieceCount - 1 ? pieceLength : Int(totalLength - Int64(pieceLength) * Int64(pieceCount - 1))
    }

    public func blockCount(ofPiece piece: Int) -> Int {
        (length(ofPiece: piece) + Self.blockSize - 1) / Self.blockSize
    }

    public func request(for block: Block) -> BlockRequestSpec {
        let begin = block.index * Self.blockSize
        let length = min(Self.blockSize, self.length(ofPiece: block.piece) - begin)
        return BlockRequestSpec(piece: block.piece, begin: begin, length: length)
    }

    /// The block a (piece, begin, length) names, if it is exactly one of ours.
    public func block(piece: Int, begin: Int, length: Int) -> Block? {
        guard piece >= 0, piece < pieceCount, begin >= 0, begin % Self.blockSize == 0 else { return nil }
        let block = Block(piece: piece, index: begin / Self.blockSize)
        guard block.index < blockCount(ofPiece: piece), request(for: block).length == length else { return nil }
        return block
    }

    // MARK: what peers have

    public mutating func peerHas(piece: Int) {
        guard piece >= 0 && piece < pieceCount else { return }
        availability[piece] += 1
    }

    public mutating func peerHas(_ bitfield: Bitfield) {
        for piece in 0..<pieceCount where bitfield[piece] { availability[piece] += 1 }
    }

    /// A peer with these pieces left: its pieces count no more, its requests return to the pool.
    public mutating func peerLeft(_ peer: PeerKey, had bitfield: Bitfield?) {
        if let bitfield {
            for piece in 0..<pieceCount where bitfield[piece] { availability[piece] -= 1 }
        }
        dropRequests(of: peer)
    }

    public func availability(of piece: Int) -> Int { Int(availability[piece]) }

    // MARK: what we want

    public func priority(of piece: Int) -> UInt8 { priorities[piece] }

    public mutating func setPriority(_ priority: UInt8, of piece: Int) {
        priorities[piece] = priority
    }

    public mutating func setPriorityOfAll(_ priority: UInt8) {
        for piece in 0..<pieceCount { priorities[piece] = priority }
    }

    /// Raises a piece's priority to at least `priority` (a read never lowers what another read asked for).
    public mutating func raisePriority(_ priority: UInt8, of piece: Int) {
        priorities[piece] = max(priorities[piece], priority)
    }

    /// Marks a piece as needed by a reader; a smaller `order` is more urgent.
    public mutating func setDeadline(_ order: UInt64, for piece: Int, needing blocks: Range<Int>? = nil) {
        guard !have[piece] else { return }
        deadlines[piece] = min(deadlines[piece] ?? .max, order)
        priorities[piece] = Self.top
        parked.remove(piece)
        if let blocks {
            let known = neededBlocks[piece] ?? blocks
            neededBlocks[piece] = min(known.lowerBound, blocks.lowerBound)..<max(known.upperBound, blocks.upperBound)
        }
    }

    /// The piece's reader waits for the whole piece after all (its block hashes cannot be had).
    public mutating func dropNeededBlocks(of piece: Int) { neededBlocks[piece] = nil }

    public mutating func park(_ piece: Int) { parked.insert(piece) }
    public mutating func unparkAll() { parked = [] }
    public var parkedCount: Int { parked.count }
    public func isParked(_ piece: Int) -> Bool { parked.contains(piece) }

    public func hasDeadline(_ piece: Int) -> Bool { deadlines[piece] != nil }

    public mutating func clearDeadline(for piece: Int) {
        deadlines[piece] = nil
        neededBlocks[piece] = nil
    }

    public var isComplete: Bool { have.isComplete }

    /// Whether a piece is wanted and not yet had: what `interested` is about.
    public func wants(_ piece: Int) -> Bool {
        !have[piece] && priorities[piece] > Self.skip
    }

    /// Whether a peer with `bitfield` has anything we want.
    public func isInterested(in bitfield: Bitfield) -> Bool {
        for piece in 0..<pieceCount where bitfield[piece] && wants(piece) { return true }
        return false
    }

    // MARK: picking

    /// Up to `count` new blocks to request from `peer`, which has `peerHas`.
    public mutating func pick(for peer: PeerKey, peerHas: Bitfield, count: Int) -> [Block] {
        guard count > 0 else { return [] }
        var picked: [Block] = []

        func takeFree(from piece: Int, only wanted: Range<Int>? = nil) {
            if partial[piece] == nil {
                guard !have[piece], !isHeldBack(piece) else { return }
                partial[piece] = PartialPiece(blockCount: blockCount(ofPiece: piece))
            }
            guard var state = partial[piece] else { return }
            let blocks = wanted.map { $0.clamped(to: 0..<state.received.count) } ?? 0..<state.received.count
            for index in blocks where picked.count < count {
                if !state.received[index] && state.requestedFrom[index].isEmpty
                    && notAgainAtOnce[peer]?.contains(Block(piece: piece, index: index)) != true {
                    state.requestedFrom[index].append(peer)
                    picked.append(Block(piece: piece, index: index))
                }
            }
            partial[piece] = state
        }

        func usable(_ piece: Int) -> Bool {
            peerHas[piece] && !have[piece] && !isHeldBack(piece) && priorities[piece] > Self.skip
                && !parked.contains(piece)
        }

        // 0. A random read's own blocks, and nothing else from a peer that has some of them
        // still to come (a peer without them goes on as usual).
        if neededBlocks.contains(where: { usable($0) && stillToCome($1, of: $0) }) {
            for (piece, _) in deadlines.sorted(by: { ($0.value, $0.key) < ($1.value, $1.key) }) where picked.count < count && usable(piece) {
                if let wanted = neededBlocks[piece] { takeFree(from: piece, only: wanted) }
            }
            requestsByPeer[peer, default: []].formUnion(picked)
            return picked
        }

        // 1. Deadlines, earliest first.
        for (piece, _) in deadlines.sorted(by: { $0.value < $1.value }) where picked.count < count && usable(piece) {
            takeFree(from: piece)
        }
        // 2. Pieces already started, highest priority first.
        if picked.count < count {
            let started = partial.keys.filter { usable($0) && deadlines[$0] == nil }
                .sorted { (priorities[$0], partial[$0]!.receivedCount) > (priorities[$1], partial[$1]!.receivedCount) }
            for piece in started where picked.count < count { takeFree(from: piece) }
        }
        // 3. New pieces: priority, then rarity, then the shuffle. Only the best few can be
        // used (a new piece gives all its blocks, and only the last piece is short), so they
        // are kept in one pass rather than sorting every candidate on every call.
        if picked.count < count {
            let blocksPerPiece = blockCount(ofPiece: 0)
            let limit = (count - picked.count + blocksPerPiece - 1) / blocksPerPiece + 1
            func precedes(_ a: Int, _ b: Int) -> Bool {
                if priorities[a] != priorities[b] { return priorities[a] > priorities[b] }
                // Readahead serves a reader moving forward: the nearest piece first, as a
                // stream plays. In random order the reader waits for its next piece while
                // pieces far ahead arrive, and the download stalls once the window is asked for.
                if priorities[a] >= Self.high { return a < b }
                if availability[a] != availability[b] { return availability[a] < availability[b] }
                return tieBreak[a] < tieBreak[b]
            }
            var best: [Int] = []
            best.reserveCapacity(limit + 1)
            for piece in 0..<pieceCount where peerHas[piece] && !have[piece] && priorities[piece] > Self.skip {
                if best.count == limit, !precedes(piece, best[limit - 1]) { continue }
                guard partial[piece] == nil, !isHeldBack(piece) else { continue }
                let position = best.firstIndex { precedes(piece, $0) } ?? best.count
                best.insert(piece, at: position)
                if best.count > limit { best.removeLast() }
            }
            for piece in best where picked.count < count { takeFree(from: piece) }
        }
        // 4. Endgame: nothing left unrequested, so ask this peer too for blocks others have in flight.
        if picked.isEmpty {
            let inFlight = partial.keys.filter(usable).sorted { (deadlines[$0] ?? .max) < (deadlines[$1] ?? .max) }
            outer: for piece in inFlight {
                var state = partial[piece]!
                for index in 0..<state.received.count where !state.received[index] {
                    let askedFrom = state.requestedFrom[index]
                    if !askedFrom.contains(peer) && askedFrom.count < 2 && state.timedOutFrom[index]?.contains(peer) != true {
                        state.requestedFrom[index].append(peer)
                        picked.append(Block(piece: piece, index: index))
                        if picked.count >= count { partial[piece] = state; break outer }
                    }
                }
                partial[piece] = state
            }
        }
        requestsByPeer[peer, default: []].formUnion(picked)
        notAgainAtOnce[peer] = nil
        return picked
    }

    // MARK: answers

    public enum BlockOutcome: Equatable, Sendable {
        /// Not wanted (never requested, already received, or the piece is done): drop the data.
        case ignored
        /// Keep the data. `cancelFrom` were also asked for it (endgame) and should get a cancel.
        case accepted(pieceComplete: Bool, cancelFrom: [PeerKey])
    }

    public mutating func received(_ block: Block, from peer: PeerKey) -> BlockOutcome {
        guard var state = partial[block.piece], block.index < state.received.count,
              !state.received[block.index],
              state.requestedFrom[block.index].contains(peer) || state.timedOutFrom[block.index]?.contains(peer) == true else {
            requestsByPeer[peer]?.remove(block)
            return .ignored
        }
        state.received[block.index] = true
        state.receivedCount += 1
        state.contributors.insert(peer)
        let others = Set(state.requestedFrom[block.index]).union(state.timedOutFrom[block.index] ?? []).subtracting([peer])
        for other in state.requestedFrom[block.index] { requestsByPeer[other]?.remove(block) }
        state.requestedFrom[block.index] = []
        state.timedOutFrom[block.index] = nil
        let complete = state.isComplete
        if complete {
            partial[block.piece] = nil
            verifying.insert(block.piece)
            contributorsOfVerifying[block.piece] = state.contributors
        } else {
            partial[block.piece] = state
        }
        return .accepted(pieceComplete: complete, cancelFrom: others.sorted())
    }

    private var contributorsOfVerifying: [Int: Set<PeerKey>] = [:]

    /// The peer refused or will never send this block (reject, choke, timeout): someone else may be asked.
    public mutating func requestFailed(_ block: Block, peer: PeerKey) {
        requestsByPeer[peer]?.remove(block)
        guard var state = partial[block.piece], block.index < state.requestedFrom.count else { return }
        state.requestedFrom[block.index].removeAll { $0 == peer }
        state.timedOutFrom[block.index]?.remove(peer)
        partial[block.piece] = state
    }

    /// The peer has not answered this request in time (``PeerSession``'s request timeout):
    /// the block is free for another peer, this one's next pick takes other blocks, and its
    /// answer is still taken if it comes first (libtorrent's `request_timeout` does the same).
    public mutating func requestTimedOut(_ block: Block, peer: PeerKey) {
        guard requestsByPeer[peer]?.remove(block) != nil, var state = partial[block.piece],
              block.index < state.received.count, !state.received[block.index] else { return }
        state.requestedFrom[block.index].removeAll { $0 == peer }
        state.timedOutFrom[block.index, default: []].insert(peer)
        partial[block.piece] = state
        notAgainAtOnce[peer, default: []].insert(block)
    }

    /// Returns every block requested from `peer` to the pool (it choked us or went silent).
    public mutating func dropRequests(of peer: PeerKey) {
        notAgainAtOnce[peer] = nil
        for block in requestsByPeer.removeValue(forKey: peer) ?? [] {
            guard var state = partial[block.piece] else { continue }
            state.requestedFrom[block.index].removeAll { $0 == peer }
            partial[block.piece] = state
        }
    }

    public func outstandingRequests(of peer: PeerKey) -> Set<Block> { requestsByPeer[peer] ?? [] }

    /// Whether some of `blocks` of `piece` have not arrived.
    private func stillToCome(_ blocks: Range<Int>, of piece: Int) -> Bool {
        guard !have[piece], !verifying.contains(piece) else { return false }
        guard let state = partial[piece] else { return true }
        return blocks.clamped(to: 0..<state.received.count).contains { !state.received[$0] }
    }

    /// Blocks of a piece being downloaded that arrived.
    public func receivedBlocks(of piece: Int) -> [Int] {
        guard let state = partial[piece] else { return [] }
        return state.received.indices.filter { state.received[$0] }
    }

    /// The piece passed its hash and is on disk.
    public mutating func pieceVerified(_ piece: Int) {
        verifying.remove(piece)
        contributorsOfVerifying[piece] = nil
        partial[piece] = nil
        deadlines[piece] = nil
        neededBlocks[piece] = nil
        parked.remove(piece)
        have[piece] = true
    }

    /// The piece failed its hash: it is fetched again; returns who sent parts of it.
    public mutating func pieceFailed(_ piece: Int) -> Set<PeerKey> {
        verifying.remove(piece)
        neededBlocks[piece] = nil
        parked.remove(piece)
        partial[piece] = nil
        return contributorsOfVerifying.removeValue(forKey: piece) ?? []
    }

    /// Marks a piece as had without a download (found on disk when checking).
    public mutating func markHave(_ piece: Int) {
        pieceVerified(piece)
    }

    /// A verified piece given back to make room (the cache's limit): no longer had, and not
    /// picked until its bytes are gone from disk (``evictionEnded(_:)``).
    public mutating func evict(_ piece: Int) {
        guard piece >= 0, piece < pieceCount, have[piece] else { return }
        have[piece] = false
        evicting.insert(piece)
    }

    /// The evicted piece's bytes are gone from disk: it may be fetched again.
    public mutating func evictionEnded(_ piece: Int) {
        evicting.remove(piece)
    }

    public func isEvicting(_ piece: Int) -> Bool { evicting.contains(piece) }

    /// Verifying or being evicted: not to be picked now.
    private func isHeldBack(_ piece: Int) -> Bool {
        verifying.contains(piece) || evicting.contains(piece)
    }

    public var downloadingPieces: [Int] { Array(partial.keys) }
}

/// A block's position as the wire names it, in Int.
public struct BlockRequestSpec: Hashable, Sendable {
    public let piece: Int
    public let begin: Int
    public let length: Int

    /// The same request as the wire writes it.
    var wire: BlockRequest { BlockRequest(piece: UInt32(piece), begin: UInt32(begin), length: UInt32(length)) }
}
