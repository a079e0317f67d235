import Engine

/// The few facts about a shared torrent that decide what `memofs status` says it is doing.
public struct ShareFacts: Sendable, Equatable {
    public var hasMetadata = true
    /// Why the torrent failed for good (its metadata was refused); nil while it has not.
    public var failure: String?
    public var complete = false
    public var peers = 0
    public var trackers = 0
    public var dhtEnabled = false
    public var localDiscoveryEnabled = false
    /// Peer addresses known from anywhere (x.pe, trackers, DHT, PEX, LSD, incoming).
    public var knownAddresses = 0
    public var openReaders = 0
    public var waitingReads = 0
    /// Bytes wanted and not yet here (read, read ahead, or everything for a whole download).
    public var missingWantedBytes: Int64 = 0
    /// Connected peers that have pieces we want, and how many of them choke us.
    public var interestingPeers = 0
    public var peersChokingUs = 0
    /// Writes fail (a full disk, an I/O error) and downloading is stopped until they can succeed.
    public var storageFault: StorageFault?

    public init() {}

    public init(_ status: TorrentStatus) {
        hasMetadata = status.hasMetadata
        failure = status.failure
        complete = status.hasMetadata && status.verifiedPieces == status.pieceCount
        peers = status.peers
        trackers = status.activity.trackers
        dhtEnabled = status.activity.dhtEnabled
        localDiscoveryEnabled = status.activity.localDiscoveryEnabled
        knownAddresses = status.activity.knownAddresses
        openReaders = status.activity.openReaders
        waitingReads = status.activity.waitingReads
        missingWantedBytes = status.activity.missingWantedBytes
        interestingPeers = status.activity.interestingPeers
        peersChokingUs = status.activity.peersChokingUs
        storageFault = status.activity.storageFault
    }

    /// Anything that could bring a peer: a tracker, the DHT, local discovery, an address.
    var waysToFindPeers: [String] {
        var ways: [String] = []
        if trackers > 0 { ways.append(trackers == 1 ? "the tracker" : "\(trackers) trackers") }
        if dhtEnabled { ways.append("the DHT") }
        if localDiscoveryEnabled { ways.append("local peer discovery") }
        if knownAddresses > 0 { ways.append(knownAddresses == 1 ? "1 known address" : "\(knownAddresses) known addresses") }
        return ways
    }
}

/// What a shared torrent is doing, in a word or two, and, when that alone does not say
/// why nothing moves, a sentence that says why and what to do.
///
/// The first that holds wins: failed (its metadata refused); complete; disk full (or another storage error); no way to find peers; waiting for
/// metadata; idle (nothing wants its data: shared files are fetched when read); looking
/// for peers; waiting for peers (none connected has what is wanted); choked (every peer
/// that has it chokes us); downloading.
public struct ShareActivity: Sendable, Equatable {
    public let state: String
    public let reason: String?

    public static func assess(_ facts: ShareFacts) -> ShareActivity {
        // The failure itself is the item's error (and the share's `user.memofs.error`).
        if facts.failure != nil {
            return ShareActivity(state: "failed", reason: "its metadata was refused, so nothing of it can be read: "
                                 + "remove it with rm in shared/")
        }
        if facts.complete { return ShareActivity(state: "complete", reason: nil) }
        if let fault = facts.storageFault {
            let available = fault.availableBytes.map { ", \(StatusText.size($0)) available" } ?? ""
            if fault.diskFull {
                return ShareActivity(state: "disk full", reason: "downloading stopped: \(fault.reason)\(available); "
                                     + "free space (rm shares or recordings) and it resumes by itself")
            }
            return ShareActivity(state: "storage error", reason: "downloading stopped: \(fault.reason); "
                                 + "it is tried again every few minutes")
        }
        let ways = facts.waysToFindPeers
        if facts.peers == 0 && ways.isEmpty {
            return ShareActivity(state: "no way to find peers", reason: "no tracker, the DHT is off, local peer discovery is off "
                                 + "and no peer address is known: add the magnet again with a tracker (tr=) or a peer "
                                 + "(x.pe=host:port), mount with --tracker URL, or mount without --no-dht")
        }
        if !facts.hasMetadata {
            let reason = facts.peers == 0 ? "no peer found yet; trying " + Self.list(ways)
                : "asking \(Self.peers(facts.peers)) for the torrent's metadata"
            return ShareActivity(state: "waiting for metadata", reason: reason)
        }
        if facts.missingWantedBytes == 0 && facts.waitingReads == 0 {
            return ShareActivity(state: "idle", reason: facts.openReaders > 0
                                 ? "open, but nothing is being read: pieces are fetched when read"
                                 : "nobody reads it: shared files are fetched when read")
        }
        if facts.peers == 0 {
            return ShareActivity(state: "looking for peers", reason: "no peer connected; trying " + Self.list(ways))
        }
        if facts.interestingPeers == 0 {
            return ShareActivity(state: "waiting for peers",
                                 reason: "none of the \(Self.peers(facts.peers)) connected has the pieces wanted")
        }
        if facts.peersChokingUs == facts.interestingPeers {
            return ShareActivity(state: "choked", reason: "every peer with pieces we want (\(facts.interestingPeers)) "
                                 + "is choking us: waiting for one to unchoke us")
        }
        return ShareActivity(state: "downloading", reason: nil)
    }

    static func peers(_ count: Int) -> String { count == 1 ? "1 peer" : "\(count) peers" }

    static func list(_ items: [String]) -> String {
        items.count <= 1 ? items.joined() : items.dropLast().joined(separator: ", ") + " and " + items.last!
    }
}
