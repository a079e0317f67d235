import PeerProtocol
import TorrentModel

/// A torrent's peers, connected and to be: the addresses it knows, the dials under way,
/// when a failed address may be tried again, the banned hosts, and the connected peers by
/// key. A value type whose methods are the only way any of it changes, so its invariants
/// hold whoever calls: Torrent+Connections decides when to call them and does the I/O.
/// Pure: time comes in as arguments.
///
/// Invariants:
/// - An address is in `connecting` from the dial's start until it fails or its handshake
///   comes back (`startDials`, `dialFailed`, `dialEnded`); at most `maxDialsAtOnce` at once,
///   and connected plus dialling at most the peer limit.
/// - An address is dialled only when `RedialBackoff` allows it, never one of a banned host,
///   never one connected or being dialled, and an incoming peer's listen port not while
///   that host is connected.
/// - A connected peer has shaken hands, is not ourselves, not of a banned host, and no other
///   connected peer has its peer id; there are at most the peer limit (`attach`).
/// - `candidates`, `learnedFrom` (each source) and `pexLearned` stay within `maxCandidates`.
struct PeerTable {
    /// Addresses to dial kept at most, and distinct addresses counted per source.
    static let maxCandidates = 2000
    /// Dials under way at once: more would only queue SYNs behind each other.
    static let maxDialsAtOnce = 8

    /// Addresses to dial, with where we learned of each first.
    private(set) var candidates: [PeerAddress: PeerSource] = [:]
    /// Addresses being dialled now.
    private(set) var connecting: Set<PeerAddress> = []
    /// When addresses that failed or dropped us may be dialled again.
    private var redial = RedialBackoff()
    /// Hosts cut off for sending bad data or breaking the protocol.
    private(set) var bannedHosts: Set<String> = []
    /// Every address we have been connected to, with where we learned of it.
    private(set) var everConnected: [PeerAddress: PeerSource] = [:]
    /// Every address peers told us of through PEX, known before or not.
    private(set) var pexLearned: Set<PeerAddress> = []
    /// How many distinct addresses each source told us of, for `memofs status`. Bounded per
    /// source; a source that names an address we already knew still counts it.
    private(set) var learnedFrom: [PeerSource: Set<PeerAddress>] = [:]
    private var nextPeerNumber = 0
    /// The connected peers. Who is in it changes only through the table; each peer's own
    /// state is changed in place by the torrent's message handling.
    var peers = ConnectedPeers()

    // MARK: learning addresses

    /// Notes that `source` told us of `address`, and adds it to the addresses to dial unless
    /// it is known already or the list is full; returns whether it was new. The caller
    /// leaves out our own address.
    @discardableResult
    mutating func learn(_ address: PeerAddress, from source: PeerSource) -> Bool {
        if learnedFrom[source, default: []].count < Self.maxCandidates { learnedFrom[source, default: []].insert(address) }
        guard candidates[address] == nil, everConnected[address] == nil, candidates.count < Self.maxCandidates else { return false }
        candidates[address] = source
        return true
    }

    /// Notes the addresses one PEX message named (all of them, once the set is below its cap).
    mutating func learnedThroughPex(_ addresses: [PeerAddress]) {
        if pexLearned.count < Self.maxCandidates { pexLearned.formUnion(addresses) }
    }

    // MARK: dialling

    /// The candidates to dial now, marked as being dialled: while connected plus dialling
    /// stay under `maxPeers` and dials under `maxDialsAtOnce`, each that is not connected,
    /// not being dialled, not of a banned host, not an incoming peer's listen port while that
    /// host is connected, and whose redial wait is over. The caller dials each and reports
    /// back with `dialFailed` or `attach`.
    mutating func startDials(now: ContinuousClock.Instant, maxPeers: Int) -> [(address: PeerAddress, source: PeerSource)] {
        let connectedAddresses = Set(peers.values.map(\.address))
        let connectedHosts = Set(peers.values.map(\.address.hostText))
        var dials: [(address: PeerAddress, source: PeerSource)] = []
        for (address, source) in candidates {
            // An incoming peer's listen port is only worth dialling once it has gone.
            if source == .incoming && connectedHosts.contains(address.hostText) { continue }
            guard peers.count + connecting.count < maxPeers, connecting.count < Self.maxDialsAtOnce else { break }
            if connecting.contains(address) || connectedAddresses.contains(address) { continue }
            if bannedHosts.contains(address.hostText) { continue }
            guard redial.mayDial(address, now: now) else { continue }
            connecting.insert(address)
            dials.append((address, source))
        }
        return dials
    }

    /// A dial, or the handshake after it, failed: the address waits before the next dial.
    /// Returns when it may be dialled again.
    @discardableResult
    mutating func dialFailed(_ address: PeerAddress, now: ContinuousClock.Instant) -> ContinuousClock.Instant? {
        connecting.remove(address)
        redial.dialFailed(address, now: now)
        return redial.retryTime(of: address, now: now)
    }

    /// A dialled address answered with a handshake: it is no longer being dialled, whether
    /// or not it is then attached.
    mutating func dialEnded(_ address: PeerAddress) {
        connecting.remove(address)
    }

    // MARK: connected peers

    /// Why a handshaken connection was not attached.
    enum Refusal: Error, Equatable {
        /// It was ourselves (our own peer id): not dialled again for `RedialBackoff.longestWait`.
        case ourselves
        case bannedHost
        /// The torrent has `maxPeers` peers already.
        case full
        /// A connected peer has the same peer id: not dialled again for `RedialBackoff.afterDrop`.
        case duplicatePeerID
    }

    /// Attaches a handshaken connection as a connected peer under a new key, or refuses it.
    /// `supportsV2`: the torrent may ask it for BEP 52 hashes (see `PeerState.supportsV2`).
    mutating func attach(link: PeerLink, handshake: Handshake, outgoing: Bool, source: PeerSource, supportsV2: Bool = false,
                         geometry: PeerSession.Geometry? = nil, ownPeerID: PeerID, maxPeers: Int, now: ContinuousClock.Instant) -> Result<PeerKey, Refusal> {
        let address = link.remote
        guard handshake.peerID != ownPeerID else {
            redial.hold(address, for: RedialBackoff.longestWait, now: now)
            candidates[address] = nil
            return .failure(.ourselves)
        }
        guard !bannedHosts.contains(address.hostText) else { return .failure(.bannedHost) }
        guard peers.count < maxPeers else { return .failure(.full) }
        guard !peers.values.contains(where: { $0.handshake.peerID == handshake.peerID }) else {
            redial.hold(address, for: RedialBackoff.afterDrop, now: now)
            return .failure(.duplicatePeerID)
        }
        nextPeerNumber += 1
        let key = PeerKey(nextPeerNumber)
        var peer = PeerState(key: key, link: link, address: address, outgoing: outgoing, source: source,
                             handshake: handshake, geometry: geometry, now: now)
        peer.supportsV2 = supportsV2
        peers.byKey[key] = peer
        if outgoing { redial.connected(address) }
        everConnected[address] = source
        return .success(key)
    }

    /// Removes a connected peer and returns it, so the torrent can give back what it held;
    /// its address waits at least `RedialBackoff.afterDrop` before it is dialled again, so a
    /// peer that drops us is not redialled in a loop.
    mutating func detach(_ key: PeerKey, now: ContinuousClock.Instant) -> PeerState? {
        guard let peer = peers.byKey.removeValue(forKey: key) else { return nil }
        redial.dropped(peer.address, now: now)
        return peer
    }

    /// Bans a connected peer's host: none of its addresses is dialled or attached again.
    /// The peer stays connected until the caller detaches it. Returns its address.
    mutating func banHost(of key: PeerKey) -> PeerAddress? {
        guard let address = peers[key]?.address else { return nil }
        bannedHosts.insert(address.hostText)
        candidates[address] = nil
        return address
    }

    /// Removes every connected peer (the torrent stops) and returns them, to be closed.
    mutating func removeAllPeers() -> [PeerState] {
        defer { peers.byKey = [:] }
        return Array(peers.values)
    }

    // MARK: facts

    /// No peer is connected or being dialled, and no address waits to be dialled.
    var isIdle: Bool { peers.isEmpty && connecting.isEmpty && candidates.isEmpty }

    /// Addresses known from any source, for `memofs status`: connected, being dialled, to
    /// dial and ever connected (an address can count in more than one).
    var knownAddressCount: Int { peers.count + candidates.count + everConnected.count + connecting.count }

    /// When `address` may be dialled again; nil if it may be now.
    func retryTime(of address: PeerAddress, now: ContinuousClock.Instant) -> ContinuousClock.Instant? {
        redial.retryTime(of: address, now: now)
    }
}

/// The connected peers by key. Each peer's state can be read and changed in place
/// (`peers[key]?.session…`), but who is connected changes only through `PeerTable`.
struct ConnectedPeers {
    fileprivate var byKey: [PeerKey: PeerState] = [:]

    /// A connected peer's state, nil if `key` is not connected. Setting a peer's fields is
    /// allowed; adding or removing a peer here is not (a precondition failure): that is
    /// `PeerTable.attach` and `detach`.
    subscript(key: PeerKey) -> PeerState? {
        get { byKey[key] }
        _modify {
            let wasConnected = byKey.index(forKey: key) != nil
            yield &byKey[key]
            precondition((byKey[key] != nil) == wasConnected, "peers are attached and detached through PeerTable")
        }
    }

    var keys: Dictionary<PeerKey, PeerState>.Keys { byKey.keys }
    var values: Dictionary<PeerKey, PeerState>.Values { byKey.values }
    var count: Int { byKey.count }
    var isEmpty: Bool { byKey.isEmpty }
}
