import PeerProtocol
import TorrentModel

/// The protocol state of one connected peer that does not depend on its connection or on
/// the torrent: choke and interest both ways, the fast extension's rules, what the peer
/// has, the requests we sent it and when, the blocks it sends (asked for, late, or not),
/// its timers, rates and request pipeline depth, snubbing, and the accounting of rejects,
/// cancels and blocks nobody asked for; and the rules that drop or ban a peer that lies or
/// stalls (see "Peers that lie or stall" below). A value type in the manner of Discovery's state
/// machines: messages and ticks in, actions out; time is passed in, so every limit is
/// tested without a channel, a clock or an actor.
///
/// The requests' send times are kept here, not in the `PiecePicker`: a deadline is a
/// per-connection timer like the snub's, and the picker stays free of clocks. The picker
/// learns only that a request timed out (``Action/requestsTimedOut(_:)``). The requests in
/// flight here are always the picker's `outstandingRequests(of:)` for this peer: both
/// change together (a pick is sent with ``sent(_:now:)``; a block, a reject, a cancel, a
/// timeout, a snub or a choke takes a request out of both).
struct PeerSession: Sendable {
    /// What the torrent must do for this peer.
    enum Action: Equatable, Sendable {
        case sendKeepAlive
        /// It sent nothing we asked for in `timeouts.snub` while unchoking us: its requests
        /// go back to the pool, and it gets one request at a time until a block comes.
        case snub
        /// It choked us and, with the fast extension, still holds our requests without
        /// rejecting them: they go back to the pool.
        case dropRequests
        /// These requests went unanswered for `timeouts.request` beyond what the peer's
        /// queue takes at its rate: another peer is asked for them, and this one's answer is
        /// still taken if it comes first (`PiecePicker.requestTimedOut`).
        case requestsTimedOut([BlockRequest])
        /// It rejected one of our requests (BEP 6): the block goes back to the pool.
        case requestRejected(BlockRequest)
        /// It has a piece it did not have: count it, and be interested if we want it.
        case peerHas(piece: Int)
        /// All it has at once (a bitfield, have_all or have_none, or what it said before the
        /// metadata came): counted instead of `replacing`, whose requests went back to the pool.
        case peerHasPieces(Bitfield, replacing: Bitfield?)
        /// A block that answers a request of ours: stored if the picker still expects it.
        case blockArrived(BlockArrival)
        /// A block of the wrong length came for this request: it goes back to the pool.
        case requestAnsweredWrongly(BlockRequest)
        /// A block nobody asked of this peer: its bytes are wasted.
        case discard(bytes: Int)
        case detach(reason: String)
        /// It broke the protocol: cut it off for good.
        case ban(reason: String)
        /// It became interested while we choke it: unchoke it if an upload slot is free.
        case offerUploadSlot
        /// It lost interest while we unchoke it: its upload slot goes back.
        case choke
    }

    /// A block that answers a request we sent this peer.
    struct BlockArrival: Equatable, Sendable {
        let request: BlockRequest
        let data: [UInt8]
        /// It answers a request we gave up on (timed out, dropped by a snub or a choke, or
        /// cancelled): the picker takes it only if it still expects it of this peer.
        let late: Bool
    }

    /// The torrent's piece layout, once the metadata is known: what haves and blocks are
    /// checked against.
    struct Geometry: Equatable, Sendable {
        let pieceCount: Int
        let pieceLength: Int
        let totalLength: Int64

        init(pieceCount: Int, pieceLength: Int, totalLength: Int64) {
            self.pieceCount = pieceCount
            self.pieceLength = pieceLength
            self.totalLength = totalLength
        }

        init(_ info: TorrentInfo) {
            self.init(pieceCount: info.pieceCount, pieceLength: info.pieceLength, totalLength: info.totalLength)
        }

        func length(ofPiece piece: Int) -> Int {
            piece < pieceCount - 1 ? pieceLength : Int(totalLength - Int64(pieceLength) * Int64(pieceCount - 1))
        }

        /// Whether a block lies outside every piece.
        func isOutside(piece: Int, begin: Int, length: Int) -> Bool {
            piece < 0 || piece >= pieceCount || begin + length > self.length(ofPiece: piece)
        }

        /// Whether a block is one of the piece's 16 KiB blocks (the last one shorter), the
        /// only blocks memofs ever asks for.
        func isBlock(piece: Int, begin: Int, length: Int) -> Bool {
            guard piece >= 0, piece < pieceCount, begin >= 0, begin % PiecePicker.blockSize == 0 else { return false }
            let pieceLength = self.length(ofPiece: piece)
            return begin < pieceLength && length == min(PiecePicker.blockSize, pieceLength - begin)
        }
    }

    /// What a peer said it has before the metadata gave the piece count (a magnet link).
    private struct EarlyPieces: Sendable {
        var bitfield: [UInt8]?
        var haveAll = false
        var haves: Set<Int> = []
    }

    let supportsFast: Bool
    private(set) var amChoking = true
    private(set) var amInterested = false
    private(set) var peerChoking = true
    private(set) var peerInterested = false

    /// The torrent's pieces; nil until the metadata comes (``learnedGeometry(_:)``).
    private(set) var geometry: Geometry?
    /// What the peer has, once the piece count is known.
    private(set) var bitfield: Bitfield?
    private var early = EarlyPieces()
    /// It said have_all before the metadata came (for `memofs status` until then).
    var saidItHasAllEarly: Bool { early.haveAll }
    /// Pieces it lets us request while it chokes us (BEP 6 allowed_fast).
    private(set) var allowedFast: Set<Int> = []

    // MARK: Peers that lie or stall
    //
    // Malice (a lie no honest client tells) bans the host; slowness or a quirk only drops
    // the connection (redialled after `RedialBackoff`'s 30 s at least). Either way the
    // peer's requests go back to the picker for the others, so no reader waits on it.
    //
    // | behaviour                              | verdict  | bound                                      |
    // |----------------------------------------|----------|--------------------------------------------|
    // | block off the 16 KiB grid (wrong length or offset) | ban | the `wrongBlocksBeforeBan`th; its request goes back at once |
    // | block outside the torrent              | ban      | the first                                  |
    // | block on the grid we never asked for   | ban      | more than `unaskedBlocksInARowBeforeBan` with none asked for between; more than `unrequestedBlocksBeforeDropping` in all drops |
    // | unchoked, requests out, no block       | snub     | `timeouts.snub` (20 s): requests go to others |
    // | no answer yet, unchoked, interested    | drop     | `timeouts.stalledPeer` (60 s) after the snub, counted from the first request it left unanswered |
    // | rejects every request                  | drop     | more than `rejectsBeforeDropping` in a row, no block between |
    // | choke after unchoke, again and again   | drop     | more than `chokesPerMinuteBeforeDropping` in 60 s |
    // | metadata_size over 16 MiB              | ban      | at its extension handshake                 |
    // | asked for metadata, sends none         | drop     | `timeouts.metadataPeer` (30 s) of rejects or silence |
    //
    // The bounds leave real slow peers alone: Transmission sends rejects in 10 s batches
    // but its blocks in between (a block resets the count); rtorrent chokes and unchokes in
    // 30 s rounds and libtorrent in 15 s ones, Transmission in 10 s ones: 6 chokes a minute.

    /// Rejects in a row (not answers to our cancels) after which a peer is dropped: it
    /// refuses everything we ask. Each reject gives its block back at once, so a reader
    /// does not wait on them; the count only ends a connection that is of no use.
    static let rejectsBeforeDropping = 200
    /// Blocks nobody asked of the peer after which it is dropped, however many it sent that
    /// we did ask for in between.
    static let unrequestedBlocksBeforeDropping = 100
    /// Blocks nobody asked of the peer, with none that we did ask for in between, after
    /// which it is banned. An honest peer sends a block we have no record of only when our
    /// memory of cancels (`cancelsRemembered`) overflowed, and then a few, among blocks we
    /// asked for.
    static let unaskedBlocksInARowBeforeBan = 16
    /// Blocks off the 16 KiB grid (the wrong length for their offset) after which a peer is
    /// banned: memofs asks for no such block, so no race explains one.
    static let wrongBlocksBeforeBan = 3
    /// Chokes (after an unchoke) within a minute after which a peer is dropped: every choke
    /// throws away the requests of a peer without the fast extension. Real peers choke in
    /// rounds (Transmission 10 s, libtorrent 15 s, rtorrent 30 s): 6 a minute at most.
    static let chokesPerMinuteBeforeDropping = 20
    /// The request pipeline's depth: at least this many blocks in flight.
    static let minimumQueueDepth = 32
    /// At most this many in flight, whatever the peer's `reqq` says.
    static let maximumQueueDepth = 1000
    /// allowed_fast pieces kept per peer (libtorrent offers 10).
    static let allowedFastKept = 32

    private(set) var queueDepth = PeerSession.minimumQueueDepth
    /// The most requests the peer takes at once (`PeerState.requestLimit`, from its `reqq`).
    private(set) var requestLimit = PeerState.requestLimit(reqq: nil)
    private(set) var snubbed = false
    private(set) var lastBlockAt: ContinuousClock.Instant
    private(set) var lastReceivedAt: ContinuousClock.Instant
    private(set) var lastSentAt: ContinuousClock.Instant

    /// Payload bytes since the last tick, and smoothed rates in bytes per second.
    private(set) var downloadedThisTick = 0
    private(set) var uploadedThisTick = 0
    private(set) var downloadRate: Double = 0
    private(set) var uploadRate: Double = 0
    private(set) var downloadedTotal: Int64 = 0
    private(set) var uploadedTotal: Int64 = 0

    /// Requests sent and not answered, and when each times out (see ``sent(_:now:timeout:)``).
    private(set) var inFlight: [BlockRequest: ContinuousClock.Instant] = [:]
    /// Requests given up on (timed out, or dropped by a snub or a choke): a block that
    /// answers one is late, not unasked.
    private(set) var givenUp: Set<BlockRequest> = []
    private(set) var rejectsInARow = 0
    private(set) var unrequestedBlocks = 0
    /// Unasked blocks since the last block that answered a request of ours.
    private(set) var unaskedBlocksInARow = 0
    /// Blocks off the 16 KiB grid.
    private(set) var wrongBlocks = 0
    /// Since when the peer has owed us an answer (a block or a reject) to a request without
    /// giving any, whether the requests are still in flight or went to others meanwhile
    /// (a snub, a timeout, or a cancel once another peer sent the block first); nil when it
    /// owes nothing, or choked us since.
    private(set) var owingSince: ContinuousClock.Instant?
    /// When the peer's last `chokesPerMinuteBeforeDropping` chokes came, oldest first.
    private(set) var recentChokes: [ContinuousClock.Instant] = []
    /// Since when we have waited for a metadata piece from this peer without one coming
    /// (BEP 9); nil when nothing is asked of it.
    private(set) var metadataWaitingSince: ContinuousClock.Instant?
    /// Requests we cancelled and how many times (a block may be asked for and cancelled
    /// again before the first answer comes): the rejects a fast-extension peer answers
    /// them with are not refusals (see `Torrent.cancelRequestsNobodyWaitsFor`).
    private(set) var cancelledRequests: [BlockRequest: Int] = [:]
    /// Cancelled or given-up requests remembered at most per peer.
    static let cancelsRemembered = 4096

    init(now: ContinuousClock.Instant, supportsFast: Bool, geometry: Geometry? = nil) {
        self.supportsFast = supportsFast
        self.geometry = geometry
        lastBlockAt = now
        lastReceivedAt = now
        lastSentAt = now
    }

    // MARK: messages

    /// What a message from the peer changes and asks of the torrent; nil for a message
    /// the torrent handles (requests, cancels, extensions, hashes, keep-alives).
    mutating func received(_ message: PeerMessage) -> [Action]? {
        if !supportsFast, let name = message.fastExtensionName {
            return [.ban(reason: "\(name) without the fast extension")]
        }
        switch message {
        case .choke:
            if !peerChoking, let storm = countChoke() { return storm }
            peerChoking = true
            // Choked, it owes nothing: it answers what we ask after its unchoke.
            owingSince = nil
            // Without the fast extension a choke drops every request; with it, the peer
            // rejects them one by one.
            guard !supportsFast else { return [] }
            giveUpRequests()
            return [.dropRequests]
        case .unchoke:
            peerChoking = false
            return []
        case .interested:
            peerInterested = true
            return amChoking ? [.offerUploadSlot] : []
        case .notInterested:
            peerInterested = false
            return amChoking ? [] : [.choke]
        case .have(let piece):
            return receivedHave(Int(piece))
        case .bitfield(let bytes):
            return receivedBitfield(bytes)
        case .haveAll, .haveNone:
            return receivedHaveAll(message == .haveAll)
        case .allowedFast(let piece):
            if let geometry, Int(piece) >= geometry.pieceCount { return [] }
            if allowedFast.count < Self.allowedFastKept { allowedFast.insert(Int(piece)) }
            return []
        case .rejectRequest(let request):
            return rejected(request)
        case .piece(let piece, let begin, let block):
            return receivedBlock(piece: Int(piece), begin: Int(begin), data: block)
        default:
            return nil
        }
    }

    /// Sets whether we choke the peer; whether that changed anything (a message to send).
    mutating func setAmChoking(_ choking: Bool) -> Bool {
        defer { amChoking = choking }
        return amChoking != choking
    }

    /// Sets whether we are interested in the peer; whether that changed anything.
    mutating func setAmInterested(_ interested: Bool) -> Bool {
        defer { amInterested = interested }
        return amInterested != interested
    }

    /// Its extension handshake named how many requests it takes (`PeerState.requestLimit`).
    mutating func setRequestLimit(_ limit: Int) {
        requestLimit = limit
        queueDepth = min(queueDepth, limit)
    }

    /// Its extension handshake (BEP 10): the requests it takes, and a `metadata_size` past
    /// what any torrent has, a lie that would keep it connected forever, asked for nothing.
    mutating func receivedExtensionHandshake(_ handshake: ExtensionHandshake) -> [Action] {
        if let size = handshake.oversizedMetadataSize {
            return [.ban(reason: "metadata_size \(size) is over \(ExtensionHandshake.maxMetadataSize) bytes")]
        }
        setRequestLimit(PeerState.requestLimit(reqq: handshake.requestQueueLength))
        return []
    }

    /// A choke after an unchoke, at the time of the burst it came in (``receivedSomething(now:)``):
    /// a detach when there were too many in a minute, nil otherwise.
    private mutating func countChoke() -> [Action]? {
        recentChokes.append(lastReceivedAt)
        if recentChokes.count > Self.chokesPerMinuteBeforeDropping { recentChokes.removeFirst() }
        guard recentChokes.count == Self.chokesPerMinuteBeforeDropping,
              lastReceivedAt - recentChokes[0] < .seconds(60) else { return nil }
        return [.detach(reason: "choked us \(Self.chokesPerMinuteBeforeDropping) times in a minute")]
    }

    // MARK: metadata (BEP 9)

    /// We asked the peer for a metadata piece: the clock of ``EngineTimeouts/metadataPeer``
    /// starts, unless it already runs.
    mutating func askedForMetadata(now: ContinuousClock.Instant) {
        if metadataWaitingSince == nil { metadataWaitingSince = now }
    }

    /// A metadata piece we asked for came from the peer: its clock starts again with the
    /// next request.
    mutating func metadataArrived() { metadataWaitingSince = nil }

    // MARK: what the peer has

    private mutating func receivedHave(_ piece: Int) -> [Action] {
        guard let geometry else {
            early.haves.insert(piece)
            return early.haves.count > TorrentInfo.maxPieceCount ? [.ban(reason: "too many have messages")] : []
        }
        guard piece >= 0 && piece < geometry.pieceCount else {
            return [.ban(reason: "have for piece \(piece) of \(geometry.pieceCount)")]
        }
        if bitfield == nil { bitfield = Bitfield(count: geometry.pieceCount) }
        guard !bitfield![piece] else { return [] }
        bitfield![piece] = true
        return [.peerHas(piece: piece)]
    }

    private mutating func receivedBitfield(_ bytes: [UInt8]) -> [Action] {
        guard let geometry else {
            early.bitfield = bytes
            return []
        }
        guard let pieces = Bitfield(wireBytes: bytes, count: geometry.pieceCount) else {
            return [.ban(reason: "bitfield of \(bytes.count) bytes for \(geometry.pieceCount) pieces")]
        }
        return replacePieces(with: pieces)
    }

    private mutating func receivedHaveAll(_ all: Bool) -> [Action] {
        guard let geometry else {
            early.haveAll = all
            return []
        }
        return replacePieces(with: Bitfield(count: geometry.pieceCount, allSet: all))
    }

    /// The metadata came: what the peer said it has before is checked against the piece
    /// count and counted.
    mutating func learnedGeometry(_ geometry: Geometry) -> [Action] {
        guard self.geometry == nil else { return [] }
        self.geometry = geometry
        var pieces = Bitfield(count: geometry.pieceCount, allSet: early.haveAll)
        if let bytes = early.bitfield {
            guard let parsed = Bitfield(wireBytes: bytes, count: geometry.pieceCount) else {
                return [.ban(reason: "bitfield of \(bytes.count) bytes for \(geometry.pieceCount) pieces")]
            }
            pieces = parsed
        }
        for piece in early.haves {
            guard piece >= 0 && piece < geometry.pieceCount else { return [.ban(reason: "have for piece \(piece)")] }
            pieces[piece] = true
        }
        early.bitfield = nil
        early.haves = []
        metadataWaitingSince = nil
        return replacePieces(with: pieces)
    }

    /// The picker forgets the old pieces together with the peer's requests
    /// (`PiecePicker.peerLeft`), so they are given up here too.
    private mutating func replacePieces(with pieces: Bitfield) -> [Action] {
        let old = bitfield
        bitfield = pieces
        if old != nil { giveUpRequests() }
        return [.peerHasPieces(pieces, replacing: old)]
    }

    // MARK: requests and blocks

    /// We asked for these blocks. Each times out `timeout` (`EngineTimeouts.request`) after
    /// the time the peer needs, at its rate, to send it and the requests ahead of it: a
    /// deep queue at a slow peer is not given up while the peer works through it, and on a
    /// fast link, loopback above all, nothing times out. The snub clock starts now too if
    /// nothing was in flight (it starts when there is something to wait for).
    mutating func sent(_ requests: [BlockRequest], now: ContinuousClock.Instant, timeout: Duration) {
        if inFlight.isEmpty { lastBlockAt = now }
        if owingSince == nil, !requests.isEmpty { owingSince = now }
        let rate = max(downloadRate, Self.slowestAssumedRate)
        for request in requests where inFlight[request] == nil {
            let queueTime = Double((inFlight.count + 1) * PiecePicker.blockSize) / rate
            inFlight[request] = now + timeout + .seconds(queueTime)
            givenUp.remove(request)
        }
        lastSentAt = now
    }

    /// The rate a peer's queue is assumed to move at before its own is known, or while it
    /// is slower (bytes per second): a block a second. A peer slower than that may have its
    /// last requests asked of others as well, which costs at most those blocks twice.
    static let slowestAssumedRate = Double(PiecePicker.blockSize)

    /// Checks a block against what we asked of this peer: an answer (in time or late) for
    /// the picker, or bytes nobody asked for, which drop the peer past a limit (a ban if
    /// they lie outside the torrent).
    private mutating func receivedBlock(piece: Int, begin: Int, data: [UInt8]) -> [Action] {
        guard let geometry else { return [.ban(reason: "sent a block before we had the metadata")] }
        let request = BlockRequest(piece: UInt32(piece), begin: UInt32(begin), length: UInt32(data.count))
        // A block cancelled and asked for again may come twice (sent before the cancel came,
        // then for the new request) or once: the first copy answers the request, a second
        // one the cancel (a peer answers a cancel with the block or a reject).
        let inTime = inFlight.removeValue(forKey: request) != nil
        let late = !inTime && givenUp.remove(request) != nil
        let answersACancel = !inTime && !late && settleCancel(of: request)
        guard inTime || late || answersACancel else {
            return unasked(piece: piece, begin: begin, length: data.count, geometry: geometry)
        }
        rejectsInARow = 0
        unaskedBlocksInARow = 0
        answered()
        return [.blockArrived(BlockArrival(request: request, data: data, late: !inTime))]
    }

    /// A block that answers nothing we asked of this peer: wasted, and, past the limits in
    /// "Peers that lie or stall", a ban or a drop. A block of the wrong length for a
    /// request of ours gives that request back at once: the peer will not send it right.
    private mutating func unasked(piece: Int, begin: Int, length: Int, geometry: Geometry) -> [Action] {
        if geometry.isOutside(piece: piece, begin: begin, length: length) {
            return [.discard(bytes: length), .ban(reason: "block \(piece):\(begin)+\(length) outside the torrent")]
        }
        unrequestedBlocks += 1
        var actions: [Action] = [.discard(bytes: length)]
        if !geometry.isBlock(piece: piece, begin: begin, length: length) {
            wrongBlocks += 1
            let answered = inFlight.keys.first { Int($0.piece) == piece && Int($0.begin) == begin }
            if let answered {
                inFlight[answered] = nil
                actions.append(.requestAnsweredWrongly(answered))
            }
            if wrongBlocks >= Self.wrongBlocksBeforeBan {
                let asked = answered.map { " for a request of \($0.length)" } ?? ""
                return actions + [.ban(reason: "sends blocks of the wrong length (\(piece):\(begin)+\(length)\(asked))")]
            }
            return actions
        }
        unaskedBlocksInARow += 1
        if unaskedBlocksInARow > Self.unaskedBlocksInARowBeforeBan {
            return actions + [.ban(reason: "sends blocks nobody asked for (\(unaskedBlocksInARow) in a row)")]
        }
        if unrequestedBlocks > Self.unrequestedBlocksBeforeDropping {
            return actions + [.detach(reason: "sends blocks nobody asked for")]
        }
        return actions
    }

    /// The picker took a block of ours (``Action/blockArrived(_:)``): the peer delivers.
    mutating func blockAccepted(bytes: Int, now: ContinuousClock.Instant) {
        lastBlockAt = now
        snubbed = false
        downloadedThisTick += bytes
        downloadedTotal += Int64(bytes)
        // Slow start: one more request in flight for every block that arrives while the
        // pipeline is at least half full, so the depth doubles each round trip until it meets
        // the peer's reqq; the once-a-second rate estimate alone ramps up far too slowly for
        // a transfer that is over in a second.
        if queueDepth < min(requestLimit, Self.maximumQueueDepth), inFlight.count * 2 >= queueDepth {
            queueDepth += 1
        }
    }

    mutating func uploaded(bytes: Int) {
        uploadedThisTick += bytes
        uploadedTotal += Int64(bytes)
    }

    /// We cancelled `requests` (a seek jumps the queue, or another peer sent the block
    /// first): the rejects and blocks that answer them are not refusals, nor unasked, and
    /// the count of refusals starts again.
    mutating func cancelled(_ requests: [BlockRequest]) {
        // A peer that answers no cancel at all must not grow this without end.
        if cancelledRequests.count > Self.cancelsRemembered { cancelledRequests = [:] }
        for request in requests {
            inFlight[request] = nil
            givenUp.remove(request)
            cancelledRequests[request, default: 0] += 1
        }
        rejectsInARow = 0
    }

    /// A reject of one of our requests (BEP 6). While cancels are unanswered, rejects are
    /// their answers, in whatever order the peer sends them: none counts as a refusal. A
    /// reject of a cancelled request answers the cancel, not the same block asked for again
    /// since (the peer sent it before the new request). A reject of a request we never sent
    /// counts as a refusal, and changes nothing else.
    private mutating func rejected(_ request: BlockRequest) -> [Action] {
        if settleCancel(of: request) {
            answered()
            return []
        }
        let asked = inFlight.removeValue(forKey: request) != nil || givenUp.remove(request) != nil
        if asked { answered() }
        if cancelledRequests.isEmpty {
            rejectsInARow += 1
            if rejectsInARow > Self.rejectsBeforeDropping { return [.detach(reason: "rejects every request")] }
        }
        return asked ? [.requestRejected(request)] : []
    }

    /// The peer answered a request: what it still owes, it owes from now.
    private mutating func answered() {
        owingSince = inFlight.isEmpty ? nil : lastReceivedAt
    }

    /// Takes one cancel of `request` off the books; whether there was one.
    private mutating func settleCancel(of request: BlockRequest) -> Bool {
        guard let count = cancelledRequests[request] else { return false }
        cancelledRequests[request] = count > 1 ? count - 1 : nil
        return true
    }

    /// Every request in flight goes back to the pool; their blocks are late if they come.
    private mutating func giveUpRequests() {
        giveUp(Array(inFlight.keys))
    }

    private mutating func giveUp(_ requests: [BlockRequest]) {
        if givenUp.count + requests.count > Self.cancelsRemembered { givenUp = [] }
        for request in requests {
            inFlight[request] = nil
            givenUp.insert(request)
        }
    }

    // MARK: time

    mutating func receivedSomething(now: ContinuousClock.Instant) { lastReceivedAt = now }
    mutating func sentSomething(now: ContinuousClock.Instant) { lastSentAt = now }

    /// Once a second: rates, the pipeline's depth, and every timer.
    mutating func tick(now: ContinuousClock.Instant, timeouts: EngineTimeouts) -> [Action] {
        // Smoothed rates: a quarter of the new second, three quarters of the past.
        downloadRate = downloadRate * 0.75 + Double(downloadedThisTick) * 0.25
        uploadRate = uploadRate * 0.75 + Double(uploadedThisTick) * 0.25
        let delivered = downloadedThisTick > 0
        downloadedThisTick = 0
        uploadedThisTick = 0
        // Keep about two seconds of the peer's rate in flight, as libtorrent does; while the
        // peer keeps delivering, the depth its blocks grew (see blockAccepted) is kept.
        let wanted = Int(downloadRate * 2 / Double(PiecePicker.blockSize))
        let cap = min(requestLimit, Self.maximumQueueDepth)
        queueDepth = min(max(Self.minimumQueueDepth, wanted, delivered ? queueDepth : 0), max(1, cap))

        if now - lastReceivedAt > timeouts.silentPeer {
            return [.detach(reason: "silent for \(timeouts.silentPeer.components.seconds) s")]
        }
        var actions: [Action] = []
        // Each of these takes the requests it gives back out of `inFlight`, so none is
        // given back twice.
        if !inFlight.isEmpty, !peerChoking, !snubbed, now - lastBlockAt > timeouts.snub {
            snubbed = true
            giveUpRequests()
            actions.append(.snub)
        }
        // Still no answer, while it unchokes us and we want something of it: slow or stuck,
        // not lying. Its requests went to others at the snub, or when they sent them first.
        if let owingSince, !peerChoking, amInterested, now - owingSince > timeouts.snub + timeouts.stalledPeer {
            return [.detach(reason: "answered no request in \((timeouts.snub + timeouts.stalledPeer).components.seconds) s while unchoking us")]
        }
        if let metadataWaitingSince, now - metadataWaitingSince > timeouts.metadataPeer {
            return [.detach(reason: "sent no metadata in \(timeouts.metadataPeer.components.seconds) s")]
        }
        // With the fast extension a choke keeps requests until the peer rejects them; one that
        // never does would hold them for good.
        if !inFlight.isEmpty, peerChoking, now - lastBlockAt > timeouts.requestsHeldByAChoke {
            giveUpRequests()
            actions.append(.dropRequests)
        }
        let overdue = inFlight.filter { now > $0.value }.map(\.key).sorted { ($0.piece, $0.begin) < ($1.piece, $1.begin) }
        if !overdue.isEmpty {
            giveUp(overdue)
            actions.append(.requestsTimedOut(overdue))
        }
        if now - lastSentAt > timeouts.keepAlive { actions.append(.sendKeepAlive) }
        return actions
    }
}

private extension PeerMessage {
    /// The BEP 6 name of a fast-extension message, for a ban's reason; nil for the others.
    var fastExtensionName: String? {
        switch self {
        case .haveAll: "have_all"
        case .haveNone: "have_none"
        case .rejectRequest: "reject_request"
        case .allowedFast: "allowed_fast"
        default: nil
        }
    }
}
