import Logging
import NIOConcurrencyHelpers
import NIOCore
import PeerProtocol
import TorrentModel

/// One torrent: its metadata, pieces, peers and readers. An actor, so all of a torrent's
/// state changes in one place; it runs on an event loop shared with other torrents and
/// sockets, so blocking work (disk, hashing whole pieces) runs on the session's pool.
///
/// Invariants:
/// - `picker`, `pipeline` (with the store) and `info` are all nil (waiting for metadata) or all set.
/// - A piece is `have` in the picker only after its bytes passed SHA-1 and were written.
/// - Readers get bytes only of pieces that are `have`.
public actor Torrent {
    public nonisolated let infoHash: InfoHash
    let context: SessionContext
    /// The event loop the actor runs on, and its peers' connections too: a block read from
    /// a socket reaches the torrent, and a request the torrent sends reaches the socket,
    /// without a hand-off between threads (each cost 50 to 250 µs on a busy two-core
    /// machine, a tenth of a random read's wait).
    nonisolated let eventLoop: any EventLoop

    public nonisolated var unownedExecutor: UnownedSerialExecutor {
        eventLoop.executor.asUnownedSerialExecutor()
    }
    var logger: Logger

    var magnet: MagnetLink {
        didSet { publishedMagnet.withLockedValue { $0 = magnet } }
    }
    /// The magnet link, for readers that must not wait on the actor (a sidecar is read
    /// for every `ls -l local`: a trip to the torrent's event loop for each of 10,000).
    nonisolated let publishedMagnet: NIOLockedValueBox<MagnetLink>
    var info: TorrentInfo?
    var metainfo: Metainfo?
    var picker: PiecePicker?
    /// Downloaded pieces on their way to the store, and pieces read back for uploading.
    var pipeline: PiecePipeline?
    /// The folder the torrent's files are laid out in.
    public nonisolated let root: String
    var downloadWhole: Bool

    var assembler: MetadataAssembler?
    var metadataRequests: [Int: PeerKey] = [:]
    /// When each metadata piece was asked for, so a silent peer's pieces go to another.
    var metadataRequestedAt: [Int: ContinuousClock.Instant] = [:]

    /// The connected peers, the addresses to dial, dials under way, redial waits and bans
    /// (see PeerTable and Torrent+Connections).
    var table = PeerTable()
    /// The open readers and the pieces each wants (see Torrent+Readers).
    var readers = ReaderWindows()
    /// When a reader last opened, read or closed one of its files (see ``keepsInterest``).
    var lastReaderActivity: ContinuousClock.Instant?
    /// Ticks in a row in which reads waited and no block arrived (see ``noteStalledReads``).
    var stalledTicks = 0

    /// Reads between finding their pieces and reading them from disk (off the actor), and
    /// pieces being read for uploading, by a token each: their pieces are not evicted
    /// meanwhile (see Torrent+Cache).
    nonisolated let readsInFlight = NIOLockedValueBox(ReadsInFlight())

    /// Reads waiting for a piece, by piece.
    var pieceWaiters = Waiters<Int, Void>()
    /// Waiters of `pieceWaiters` that need only some blocks of the piece (a hybrid torrent's
    /// blocks are verified one by one): by piece, waiter id → the piece's blocks they need.
    var blockWaiters: [Int: [Int: Range<Int>]] = [:]
    /// BEP 52 hashes: what was asked, of whom, and what is verified. See Torrent+BlockHashes.
    var merkle = MerkleHashes()
    /// Waits for a piece that ended when the read's own blocks were verified (BEP 52),
    /// before the whole piece was in.
    public internal(set) var readsFromVerifiedBlocks = 0
    var metadataWaiters = Waiters<OneEvent, TorrentInfo>()
    var completionWaiters = Waiters<OneEvent, Void>()
    var deadlineOrder: UInt64 = 0

    var statistics = TransferStatistics()
    public internal(set) var lastError: String?
    /// Why the torrent's metadata was refused (``failMetadata(_:)``); nil while it is not.
    public internal(set) var metadataFailure: String?
    var isStopped = false

    // What `memofs status` needs to say why nothing moves (see Torrent+Status.swift).
    /// When the torrent was first added (kept in the state database): the date its files
    /// show when the torrent names no creation date, the same on every mount.
    public nonisolated let addedAt: Int64
    /// Whether pieces can be written: a full disk or an I/O error stops downloading until
    /// it passes (see Torrent+StorageFaults).
    var storageHealth = StorageHealth()
    /// Each tracker's error from the last announce that none answered ("URL: reason; …");
    /// nil once one answers.
    var lastTrackerError: String?
    /// When the session's ticker should next call ``tick()``: read without entering the
    /// actor, so thousands of idle torrents cost the ticker a lock each, not a task switch.
    nonisolated let nextTick: NIOLockedValueBox<ContinuousClock.Instant>
    /// The status as of the last tick, for readers that must not wait on the actor.
    nonisolated let publishedStatus = NIOLockedValueBox<TorrentStatus?>(nil)
    /// Who we upload to: the slots, the optimistic peer and when the next round is due.
    var choker: Choker<PeerKey>
    var trackerState = TrackerAnnouncer.State()
    var dhtState: DHTAnnouncer.State

    /// `store` keeps the pieces of a torrent added with its metainfo (tests keep them in
    /// memory); nil, or a magnet link: files under `root`.
    init(context: SessionContext, magnet: MagnetLink, metainfo: Metainfo?, root: String, downloadWhole: Bool,
         addedAt: Int64, store: (any PieceStore)? = nil) async {
        self.infoHash = magnet.infoHash
        self.addedAt = addedAt
        self.context = context
        self.eventLoop = context.group.next()
        self.magnet = magnet
        self.publishedMagnet = NIOLockedValueBox(magnet)
        self.root = root
        self.downloadWhole = downloadWhole
        self.choker = Choker(slots: context.configuration.unchokeSlots, now: context.now)
        self.nextTick = NIOLockedValueBox(context.now)
        self.dhtState = DHTAnnouncer.State(nextAnnounce: context.now)
        var logger = context.logger
        logger[metadataKey: "torrent"] = "\(magnet.infoHash.hex.prefix(8))"
        self.logger = logger
        for peer in magnet.peers { learn(peer, from: .magnet) }
        if let metainfo { installMetadata(metainfo.info, metainfo: metainfo, store: store) }
    }

    // MARK: lifecycle

    func start() {
        connectToCandidates()
        startTrackers()
        dhtTick(now: context.now)
    }

    /// Disconnects everyone, fails every waiting reader and stops the timers.
    func stop(reason: String) async {
        await stop(error: .removed(reason))
    }

    /// Stops, failing every waiting reader with `error`.
    func stop(error: TorrentError) async {
        guard !isStopped else { return }
        isStopped = true
        for peer in table.removeAllPeers() { peer.link.close() }
        pipeline?.store.close()
        pieceWaiters.resumeAll(throwing: error)
        blockWaiters = [:]
        metadataWaiters.resumeAll(throwing: error)
        completionWaiters.resumeAll(throwing: error)
        // Every verified piece is on record before the session settles the files' stamps.
        await pipeline?.verifiedRecorder?.value
        await stopTrackers()
    }

    // MARK: metadata

    /// Sets up pieces and storage once the info dictionary is known. `store` keeps the
    /// pieces; nil: files under the torrent's root.
    func installMetadata(_ info: TorrentInfo, metainfo: Metainfo? = nil, store: (any PieceStore)? = nil) {
        guard self.info == nil else { return }
        self.info = info
        self.metainfo = metainfo ?? Metainfo(info: info, announce: magnet.trackers.first,
                                             announceList: magnet.trackers.count > 1 ? magnet.trackers.map { [$0] } : [],
                                             urlList: magnet.webSeeds)
        if magnet.displayName == nil { magnet.displayName = info.name }
        pipeline = PiecePipeline(store: store ?? TorrentStorage(root: root, info: info, reserve: context.spaceReserve))
        picker = PiecePicker(info: info, defaultPriority: downloadWhole ? PiecePicker.normal : PiecePicker.skip,
                             seed: UInt64(truncatingIfNeeded: infoHash.bytes.prefix(8).reduce(0) { $0 << 8 | UInt64($1) }))
        if let v2 = info.v2InfoHash, magnet.v2InfoHash != v2 {
            if magnet.v2InfoHash != nil { logger.warning("the magnet link's v2 hash is not the metadata's; using the metadata's") }
            magnet.v2InfoHash = v2
        }
        assembler = nil
        metadataRequests = [:]
        joinCache()
        metadataWaiters.resumeAll(returning: info)
        for key in Array(table.peers.keys) {
            if let actions = peers[key]?.session.learnedGeometry(PeerSession.Geometry(info)) { perform(actions, for: key) }
        }
    }

    public func waitForMetadata() async throws -> TorrentInfo {
        if let info { return info }
        if let metadataFailure { throw TorrentError.failed(metadataFailure) }
        if isStopped { throw TorrentError.removed("the torrent was removed") }
        wake()
        let id = metadataWaiters.nextID()
        return try await suspend { metadataWaiters.add($0, for: OneEvent(), id: id) } onCancel: {
            Task { await self.cancelMetadataWaiter(id) }
        }
    }

    func cancelMetadataWaiter(_ id: Int) {
        metadataWaiters.cancel(id)
    }

    // MARK: public facts

    public var name: String { info?.name ?? magnet.displayName ?? infoHash.hex }
    public var torrentInfo: TorrentInfo? { info }
    public nonisolated var magnetLink: MagnetLink { publishedMagnet.withLockedValue { $0 } }
    public var peerCount: Int { table.peers.count }
    public var isComplete: Bool { picker?.isComplete ?? false }
    public var verifiedPieceCount: Int { picker?.have.setCount ?? 0 }
    public var downloadedBytes: Int64 { statistics.downloadedBytes }
    public var uploadedBytes: Int64 { statistics.uploadedBytes }
    public var wastedBytes: Int64 { statistics.wastedBytes }
    public var hashFailures: Int { statistics.hashFailures }
    /// Pieces hashed again at start because their files changed behind memofs's back.
    public var recheckedPieces: Int { statistics.recheckedPieces }
    /// Verified pieces given back to stay within the cache's limit.
    public var evictedPieces: Int { statistics.evictedPieces }

    /// The status as of the torrent's last tick (nil before its first), read without
    /// waiting on the torrent.
    public nonisolated var latestStatus: TorrentStatus? { publishedStatus.withLockedValue { $0 } }

    public var status: TorrentStatus {
        TorrentStatus(infoHash: infoHash, name: name, hasMetadata: info != nil,
                      totalLength: info?.totalLength ?? 0,
                      verifiedBytes: verifiedByteCount(),
                      pieceCount: info?.pieceCount ?? 0, verifiedPieces: picker?.have.setCount ?? 0,
                      peers: table.peers.count,
                      downloadRate: table.peers.values.reduce(0) { $0 + $1.downloadRate },
                      uploadRate: table.peers.values.reduce(0) { $0 + $1.uploadRate },
                      downloadedBytes: statistics.downloadedBytes, uploadedBytes: statistics.uploadedBytes,
                      wastedBytes: statistics.wastedBytes, hashFailures: statistics.hashFailures,
                      recheckedPieces: statistics.recheckedPieces,
                      peerSources: Dictionary(table.peers.values.map { ($0.source.rawValue, 1) }, uniquingKeysWith: +),
                      peersLearned: Dictionary(uniqueKeysWithValues: table.learnedFrom.map { ($0.key.rawValue, $0.value.count) }),
                      lastError: lastError, failure: metadataFailure,
                      activity: activity, connectedPeers: connectedPeerStatuses)
    }

    func verifiedByteCount() -> Int64 {
        guard let picker, let info else { return 0 }
        var total = Int64(picker.have.setCount) * Int64(info.pieceLength)
        if picker.have[info.pieceCount - 1] {
            total -= Int64(info.pieceLength - info.length(ofPiece: info.pieceCount - 1))
        }
        return total
    }

    /// Adds addresses to try (from a tracker, a magnet, or a caller).
    public func addPeers(_ addresses: [PeerAddress], source: PeerSource = .manual) {
        for address in addresses { learn(address, from: source) }
        connectToCandidates()
    }

    /// Notes that `source` told us of `address` (for `memofs status`), and adds it to the
    /// addresses to try unless it is known already or the list is full; returns whether it
    /// was new.
    @discardableResult
    func learn(_ address: PeerAddress, from source: PeerSource) -> Bool {
        // Trackers and the DHT hand us our own address back; it is not a peer to try.
        guard !isOwnAddress(address), table.learn(address, from: source) else { return false }
        wake()
        return true
    }

    /// Whether every peer with a piece we lack stays interesting, not only those with a
    /// piece the picker wants now (so a reader's reads need no `interested`/`unchoke`
    /// round trip first): while a file is open, and for
    /// `timeouts.keepInterestAfterReads` after its last reader, while pieces are missing.
    ///
    /// A `not_interested` at each close cost a reopen 30 s with rtorrent: a peer without
    /// the fast extension chokes a peer that is not interested and unchokes only in its
    /// next choking round (every 30 s in rtorrent, every 10 s in libtorrent).
    var keepsInterest: Bool {
        if openReaders > 0 { return true }
        guard let lastReaderActivity else { return false }
        return context.now - lastReaderActivity < timeouts.keepInterestAfterReads
    }

    /// Download every piece, or only what readers ask for. Turned off, pieces nobody reads
    /// or reads ahead go back to waiting for a reader.
    public func setDownloadWhole(_ whole: Bool) {
        downloadWhole = whole
        cachePinned(whole)
        wake()
        guard let pieceCount = picker?.pieceCount else { return }
        applyReaderPriorities(Set(0..<pieceCount))
        updateInterestAndRequests()
    }

    /// Whether every piece is downloaded, not only what readers ask for (`memofs pin`).
    public var isDownloadingWhole: Bool { downloadWhole }
}

public enum TorrentError: Error, CustomStringConvertible, Sendable {
    case removed(String)
    case outOfRange(String)
    case storage(String)
    /// The torrent cannot be had: its metadata was refused.
    case failed(String)

    public var description: String {
        switch self {
        case .removed(let why): "torrent stopped: \(why)"
        case .failed(let why): "torrent failed: \(why)"
        case .outOfRange(let what): "out of range: \(what)"
        case .storage(let what): "storage: \(what)"
        }
    }
}

/// A snapshot of a torrent for `memofs status` and tests.
public struct TorrentStatus: Sendable, Equatable {
    public let infoHash: InfoHash
    public let name: String
    public let hasMetadata: Bool
    public let totalLength: Int64
    public let verifiedBytes: Int64
    public let pieceCount: Int
    public let verifiedPieces: Int
    public let peers: Int
    public let downloadRate: Double
    public let uploadRate: Double
    public let downloadedBytes: Int64
    public let uploadedBytes: Int64
    public let wastedBytes: Int64
    public let hashFailures: Int
    public let recheckedPieces: Int
    /// Connected peers by where we learned of them (tracker, magnet, pex, incoming, manual).
    public let peerSources: [String: Int]
    /// Distinct addresses each source told us of since the torrent started (tracker, dht,
    /// pex, lsd, magnet, incoming), connected or not.
    public let peersLearned: [String: Int]
    public let lastError: String?
    /// Why the torrent failed for good (its metadata was refused); nil while it has not.
    public let failure: String?
    /// Why the torrent moves or not: how it can find peers, who wants its data, who chokes us.
    public let activity: TorrentActivity
    /// Each connected peer, for `memofs status --peers`.
    public let connectedPeers: [PeerStatus]

    public var progress: Double { totalLength == 0 ? 0 : Double(verifiedBytes) / Double(totalLength) }
}

extension Torrent {
    /// Hosts cut off for sending bad data or breaking the protocol.
    public var bannedPeerHosts: [String] { table.bannedHosts.sorted() }

    /// The session's time limits (see ``EngineTimeouts``).
    nonisolated var timeouts: EngineTimeouts { context.configuration.timeouts }
}
