/// A full ICE agent (RFC 8445) for one data channel over UDP, as a pure state machine: datagrams
/// and instants in, ``ICEAction``s out. The socket side owns the sockets and the one timer
/// (``nextDeadline``), demultiplexes STUN from DTLS (``STUNMessage/looksLikeSTUN(_:)``) and hands
/// only STUN here. Non-trickle: every candidate is known at the start.
///
/// Checks go out one every `pacing` (Ta), triggered checks first, each retransmitted as
/// `checkRetransmission` says. Regular nomination: the controlling agent sends USE-CANDIDATE on
/// the best valid pair once one succeeds; the controlled agent selects the pair such a check
/// arrives on once its own check there succeeds. After selection, consent freshness (RFC 7675):
/// a check on the selected pair every `consentInterval` ±20 %, and ``ICEAction/consentLost`` when
/// none is answered for `consentTimeout`.
public struct ICEAgent: Sendable {
    public struct Configuration: Equatable, Sendable {
        public var pacing: Duration
        public var checkRetransmission: STUNRetransmission
        public var connectTimeout: Duration
        public var consentInterval: Duration
        public var consentTimeout: Duration
        /// Caps that keep a hostile SDP or a flood of peer-reflexive sources bounded.
        public var maximumPairs: Int
        public var maximumRemoteCandidates: Int

        public init(pacing: Duration = .milliseconds(50), checkRetransmission: STUNRetransmission = .init(),
                    connectTimeout: Duration = .seconds(30), consentInterval: Duration = .seconds(5),
                    consentTimeout: Duration = .seconds(30), maximumPairs: Int = 100, maximumRemoteCandidates: Int = 50) {
            self.pacing = pacing
            self.checkRetransmission = checkRetransmission
            self.connectTimeout = connectTimeout
            self.consentInterval = consentInterval
            self.consentTimeout = consentTimeout
            self.maximumPairs = maximumPairs
            self.maximumRemoteCandidates = maximumRemoteCandidates
        }
    }

    enum State: Equatable, Sendable {
        case new
        case checking
        case selected(ICECandidatePair)
        case finished
    }

    struct RemoteCandidate: Equatable, Sendable {
        var address: ICETransportAddress
        var priority: UInt32
        var foundation: String
    }

    enum PairState: Equatable, Sendable {
        case frozen, waiting, inProgress, succeeded, failed
    }

    struct Pair: Equatable, Sendable {
        let id: Int
        let local: ICELocalCandidate
        let remote: RemoteCandidate
        var state: PairState
        var priority: UInt64 = 0
        /// Controlled side: USE-CANDIDATE arrived here before our own check succeeded.
        var nominateOnSuccess = false
        var route: ICECandidatePair { ICECandidatePair(local: local.base, remote: remote.address) }
        var foundation: String { local.foundation + " " + remote.foundation }
    }

    enum Purpose: Equatable, Sendable {
        case check(useCandidate: Bool)
        case consent
    }

    struct Transaction: Equatable, Sendable {
        let pairID: Int
        let bytes: [UInt8]
        let route: ICECandidatePair
        let purpose: Purpose
        let roleAtSend: ICERole
        var attempts: Int
        var deadline: ContinuousClock.Instant
    }

    public let configuration: Configuration
    public internal(set) var role: ICERole
    public let tieBreaker: UInt64
    let localCredentials: ICECredentials
    let remoteCredentials: ICECredentials
    public let localCandidates: [ICELocalCandidate]
    /// Remote candidates from the SDP that cannot be used here, with the reason.
    public let skippedRemoteCandidates: [(candidate: ICECandidate, reason: String)]
    var remoteCandidates: [RemoteCandidate] = []
    /// Highest priority first.
    var pairs: [Pair] = []
    var nextPairID = 0
    var triggeredQueue: [Int] = []
    var transactions: [STUNTransactionID: Transaction] = [:]
    var state: State = .new
    var startedAt: ContinuousClock.Instant?
    var nextPacedCheck: ContinuousClock.Instant?
    /// Controlling side: the pair whose USE-CANDIDATE check is out.
    var nominatingPairID: Int?
    var nextConsentRequest: ContinuousClock.Instant?
    var lastConsent: ContinuousClock.Instant?
    var random: SplitMix64

    /// `remoteCandidates` straight from the peer's SDP: mDNS names (`.local`), TCP, components
    /// other than 1, and address families we have no candidate for are skipped
    /// (``skippedRemoteCandidates``). `randomSeed` drives transaction ids and consent jitter:
    /// from the system generator in production, a constant in tests.
    public init(role: ICERole, local: ICECredentials, remote: ICECredentials, tieBreaker: UInt64,
                localCandidates: [ICELocalCandidate], remoteCandidates: [ICECandidate],
                randomSeed: UInt64, configuration: Configuration = .init()) {
        self.configuration = configuration
        self.role = role
        self.tieBreaker = tieBreaker
        self.localCredentials = local
        self.remoteCredentials = remote
        self.localCandidates = localCandidates
        self.random = SplitMix64(seed: randomSeed)
        let families = Set(localCandidates.map(\.base.family))
        var skipped: [(candidate: ICECandidate, reason: String)] = []
        var usable: [RemoteCandidate] = []
        for candidate in remoteCandidates {
            guard candidate.transport == "udp" else { skipped.append((candidate, "transport \(candidate.transport), only UDP is checked")); continue }
            guard candidate.component == 1 else { skipped.append((candidate, "component \(candidate.component), a data channel has only 1")); continue }
            guard let address = ICETransportAddress(host: candidate.address, port: candidate.port) else {
                let reason = candidate.address.hasSuffix(".local")
                    ? "mDNS name \(candidate.address), not resolved here (its checks will make it peer-reflexive)"
                    : "address \(candidate.address) is not a numeric IP address"
                skipped.append((candidate, reason))
                continue
            }
            guard families.contains(address.family) else { skipped.append((candidate, "no local candidate of its address family")); continue }
            guard !usable.contains(where: { $0.address == address }) else { skipped.append((candidate, "duplicate address")); continue }
            guard usable.count < configuration.maximumRemoteCandidates else { skipped.append((candidate, "over \(configuration.maximumRemoteCandidates) remote candidates")); continue }
            usable.append(RemoteCandidate(address: address, priority: candidate.priority, foundation: candidate.foundation))
        }
        self.skippedRemoteCandidates = skipped
        for remote in usable { addPairs(for: remote, initialState: nil) }
        // RFC 8445 §6.1.2.6: the best pair of each foundation waits, the others stay frozen.
        var seenFoundations: Set<String> = []
        for index in pairs.indices where seenFoundations.insert(pairs[index].foundation).inserted {
            pairs[index].state = .waiting
        }
    }

    /// Whether a check of ours on this route got its authenticated answer: the peer holds the
    /// session's credentials at that address (RFC 8445 §7.2.5.3). The socket side trusts a
    /// path for DTLS that arrives before selection only then.
    public func hasSucceeded(_ route: ICECandidatePair) -> Bool {
        pairs.contains { $0.route == route && $0.state == .succeeded }
    }

    /// The pair selected, once it is.
    public var selectedPair: ICECandidatePair? {
        if case .selected(let pair) = state { pair } else { nil }
    }

    /// Starts the checks and the connect timeout; call once, right after init.
    public mutating func start(now: ContinuousClock.Instant) -> [ICEAction] {
        guard state == .new else { return [] }
        state = .checking
        startedAt = now
        nextPacedCheck = now
        return skippedRemoteCandidates.map { .ignored("remote candidate \($0.candidate): \($0.reason)") } + tick(now: now)
    }

    /// When ``tick(now:)`` must next be called; nil when the agent waits for nothing.
    public var nextDeadline: ContinuousClock.Instant? {
        var deadlines = transactions.values.map(\.deadline)
        switch state {
        case .new, .finished:
            return nil
        case .checking:
            if let startedAt { deadlines.append(startedAt + configuration.connectTimeout) }
            if hasCheckToSend, let nextPacedCheck { deadlines.append(nextPacedCheck) }
        case .selected:
            if let nextConsentRequest { deadlines.append(nextConsentRequest) }
            if let lastConsent { deadlines.append(lastConsent + configuration.consentTimeout) }
        }
        return deadlines.min()
    }

    /// Adds the pairs `remote` makes with our candidates of its family, one per base (a
    /// server-reflexive candidate pairs through its base, RFC 8445 §6.1.2.4), up to the cap.
    mutating func addPairs(for remote: RemoteCandidate, initialState: PairState?) {
        remoteCandidates.append(remote)
        var bases: Set<ICETransportAddress> = []
        for local in localCandidates.sorted(by: { $0.priority > $1.priority })
        where local.base.family == remote.address.family && bases.insert(local.base).inserted {
            guard pairs.count < configuration.maximumPairs else { return }
            var pair = Pair(id: nextPairID, local: local, remote: remote, state: initialState ?? .frozen)
            nextPairID += 1
            pair.priority = pairPriority(pair)
            pairs.append(pair)
        }
        sortPairs()
    }

    func pairPriority(_ pair: Pair) -> UInt64 {
        role == .controlling
            ? ICECandidatePair.priority(controlling: pair.local.priority, controlled: pair.remote.priority)
            : ICECandidatePair.priority(controlling: pair.remote.priority, controlled: pair.local.priority)
    }

    mutating func sortPairs() {
        pairs.sort { $0.priority != $1.priority ? $0.priority > $1.priority : $0.id < $1.id }
    }

    func pairIndex(_ id: Int) -> Int? { pairs.firstIndex { $0.id == id } }

    var hasCheckToSend: Bool {
        !triggeredQueue.isEmpty || pairs.contains { $0.state == .waiting || $0.state == .frozen }
    }
}
