@testable import WebRTCProtocol

/// Two ``ICEAgent``s wired to each other through a simulated network with a manual clock:
/// every `send` is delivered to the agent owning its destination (after `translate`, a NAT), unless
/// `drop` says otherwise; when nothing is in flight, time jumps to the next deadline.
struct ICEAgentHarness {
    var agents: [ICEAgent]
    var now = ContinuousClock.now
    let start: ContinuousClock.Instant
    var actions: [[ICEAction]] = [[], []]
    var sentCount = [0, 0]
    /// (sender index, its datagram number from 0) → drop it.
    var drop: (Int, Int) -> Bool = { _, _ in false }
    /// The source address the receiver sees for a datagram sent from `from` (a NAT), by default itself.
    var translate: (ICETransportAddress) -> ICETransportAddress = { $0 }
    /// Where a datagram to a translated address really goes (the NAT's inbound mapping).
    var untranslate: (ICETransportAddress) -> ICETransportAddress = { $0 }
    private var inFlight: [(sender: Int, bytes: [UInt8], from: ICETransportAddress, to: ICETransportAddress)] = []

    init(_ first: ICEAgent, _ second: ICEAgent) {
        agents = [first, second]
        start = now
    }

    mutating func startBoth() {
        for index in 0..<2 { handle(agents[index].start(now: now), of: index) }
    }

    func selected(_ index: Int) -> [ICECandidatePair] {
        actions[index].compactMap { if case .selected(let pair) = $0 { pair } else { nil } }
    }

    func failures(_ index: Int) -> [ICEFailure] {
        actions[index].compactMap { if case .failed(let failure) = $0 { failure } else { nil } }
    }

    func contains(_ index: Int, _ action: ICEAction) -> Bool { actions[index].contains(action) }

    var elapsed: Duration { now - start }

    /// Runs until `done` holds with nothing in flight, or `limit` of simulated time passes.
    mutating func run(for limit: Duration, until done: (ICEAgentHarness) -> Bool = { _ in false }) {
        while now <= start + limit {
            while !inFlight.isEmpty {
                let datagram = inFlight.removeFirst()
                let destination = untranslate(datagram.to)
                guard let receiver = (0..<2).first(where: { index in
                    agents[index].localCandidates.contains { $0.base == destination }
                }) else { continue }
                handle(agents[receiver].receive(datagram.bytes, from: translate(datagram.from), to: destination, now: now),
                       of: receiver)
            }
            if done(self) { return }
            guard let next = agents.compactMap(\.nextDeadline).min() else { return }
            now = max(now, next)
            for index in 0..<2 where agents[index].nextDeadline.map({ $0 <= now }) ?? false {
                handle(agents[index].tick(now: now), of: index)
            }
        }
    }

    private mutating func handle(_ new: [ICEAction], of index: Int) {
        actions[index] += new
        for action in new {
            guard case .send(let bytes, let from, let to) = action else { continue }
            defer { sentCount[index] += 1 }
            if drop(index, sentCount[index]) { continue }
            inFlight.append((index, bytes, from, to))
        }
    }
}

enum ICEFixtures {
    static let addressA = ICETransportAddress(host: "10.0.0.1", port: 50001)!
    static let addressB = ICETransportAddress(host: "10.0.0.2", port: 50002)!
    static let credentialsA = try! ICECredentials(ufrag: "aaaa", pwd: "passwordAAAAAAAAAAAAAAAA")
    static let credentialsB = try! ICECredentials(ufrag: "bbbb", pwd: "passwordBBBBBBBBBBBBBBBB")

    /// A (controlling by default) and B, each told the other's host candidate and credentials.
    static func agents(roleA: ICERole = .controlling, roleB: ICERole = .controlled,
                       tieBreakerA: UInt64 = 0xAAAA, tieBreakerB: UInt64 = 0xBBBB,
                       remoteOfA: ICECredentials = credentialsB, remoteOfB: ICECredentials = credentialsA,
                       candidatesForB: [ICECandidate]? = nil,
                       configuration: ICEAgent.Configuration = .init()) -> ICEAgentHarness {
        let localA = ICELocalCandidate.host([addressA])
        let localB = ICELocalCandidate.host([addressB])
        let a = ICEAgent(role: roleA, local: credentialsA, remote: remoteOfA, tieBreaker: tieBreakerA,
                         localCandidates: localA, remoteCandidates: localB.map(\.sdp), randomSeed: 1,
                         configuration: configuration)
        let b = ICEAgent(role: roleB, local: credentialsB, remote: remoteOfB, tieBreaker: tieBreakerB,
                         localCandidates: localB, remoteCandidates: candidatesForB ?? localA.map(\.sdp), randomSeed: 2,
                         configuration: configuration)
        return ICEAgentHarness(a, b)
    }
}
