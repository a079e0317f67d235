@testable import Engine
import NIOEmbedded
import PeerProtocol
import Testing
import TorrentModel

/// The peer table on its own: which addresses it learns, which it dials and when, whom it
/// attaches. Time is passed in, never slept; connections are NIO's embedded channels.
@Suite struct PeerTableTests {
    let start = ContinuousClock.now
    let infoHash = InfoHash(bytes: [UInt8](repeating: 7, count: 20))!
    let ownID = Self.peerID(0)
    let maxPeers = 50

    static func peerID(_ n: UInt8) -> PeerID { PeerID(bytes: [UInt8](repeating: n, count: PeerID.byteCount))! }

    func address(_ text: String) -> PeerAddress { PeerAddress(text)! }

    /// A connection from (or dialled to) `remote`, on an embedded channel.
    func link(from remote: PeerAddress) async throws -> PeerLink {
        let channel = EmbeddedChannel()
        let link = PeerLink.attach(to: channel, remote: remote)
        channel.embeddedEventLoop.run()  // an embedded loop runs what was submitted only when told
        return try await link.get()
    }

    func attach(_ table: inout PeerTable, from remote: PeerAddress, id: UInt8, outgoing: Bool = false,
                source: PeerSource = .incoming, maxPeers: Int? = nil,
                at now: ContinuousClock.Instant? = nil) async throws -> Result<PeerKey, PeerTable.Refusal> {
        let link = try await link(from: remote)
        return table.attach(link: link, handshake: Handshake(infoHash: infoHash, peerID: Self.peerID(id)), outgoing: outgoing,
                            source: source, ownPeerID: ownID, maxPeers: maxPeers ?? self.maxPeers, now: now ?? start)
    }

    func dials(_ table: inout PeerTable, at offset: Duration = .zero, maxPeers: Int? = nil) -> Set<PeerAddress> {
        Set(table.startDials(now: start + offset, maxPeers: maxPeers ?? self.maxPeers).map(\.address))
    }

    // MARK: learning

    @Test func learningStopsAtTheCapAndCountsEachSourceSeparately() {
        var table = PeerTable()
        let addresses = (0..<(PeerTable.maxCandidates + 10)).map { address("10.\($0 >> 8 & 255).\($0 & 255).1:6881") }
        let added = addresses.filter { table.learn($0, from: .tracker) }
        #expect(added.count == PeerTable.maxCandidates)
        #expect(table.candidates.count == PeerTable.maxCandidates)
        #expect(table.learnedFrom[.tracker]?.count == PeerTable.maxCandidates)
        let knownAgain = table.learn(addresses[0], from: .dht)
        #expect(!knownAgain, "a known address is not new")
        #expect(table.learnedFrom[.dht]?.count == 1, "but the DHT is counted as naming it")
        #expect(table.candidates[addresses[0]] == .tracker, "the first source is kept")

        table.learnedThroughPex(Array(addresses.prefix(PeerTable.maxCandidates - 1)))
        table.learnedThroughPex(Array(addresses.suffix(10)))
        table.learnedThroughPex([address("192.168.1.1:1")])
        #expect(table.pexLearned.count == PeerTable.maxCandidates + 9, "one message past the cap, then no more")
    }

    @Test func anAddressOnceConnectedIsNotACandidateAgain() async throws {
        var table = PeerTable()
        let seeder = address("127.0.0.2:6881")
        _ = try await attach(&table, from: seeder, id: 1)
        let learned = table.learn(seeder, from: .tracker)
        #expect(!learned)
        #expect(table.candidates.isEmpty)
        #expect(table.everConnected[seeder] == .incoming)
    }

    // MARK: dialling

    @Test func dialsAreAtMostEightAtOnceAndNeverTwiceTheSameAddress() {
        var table = PeerTable()
        for n in 1...20 { table.learn(address("127.0.0.\(n):6881"), from: .tracker) }
        let first = dials(&table)
        #expect(first.count == PeerTable.maxDialsAtOnce)
        #expect(table.connecting == first)
        #expect(dials(&table).isEmpty, "eight are under way")

        let failed = first.first!
        #expect(table.dialFailed(failed, now: start) == start + RedialBackoff.firstWait)
        let next = dials(&table)
        #expect(next.count == 1)
        #expect(!next.contains(failed), "the failed address waits")
        #expect(first.isDisjoint(with: next))
    }

    @Test func aFailedDialIsTriedAgainOnlyAfterItsWait() {
        var table = PeerTable()
        let seeder = address("127.0.0.2:6881")
        table.learn(seeder, from: .magnet)
        #expect(dials(&table) == [seeder])
        table.dialFailed(seeder, now: start)
        #expect(table.connecting.isEmpty)
        #expect(dials(&table, at: .milliseconds(999)).isEmpty)
        #expect(dials(&table, at: .seconds(1)) == [seeder])
        // A second failure in a row waits half as long again.
        table.dialFailed(seeder, now: start + .seconds(1))
        #expect(dials(&table, at: .milliseconds(2400)).isEmpty)
        #expect(dials(&table, at: .milliseconds(2500)) == [seeder])
    }

    @Test func aPeerThatDroppedUsIsRedialledOnlyAfterThirtySeconds() async throws {
        var table = PeerTable()
        let seeder = address("127.0.0.2:6881")
        table.learn(seeder, from: .tracker)
        #expect(dials(&table) == [seeder])
        table.dialEnded(seeder)
        guard case .success(let key) = try await attach(&table, from: seeder, id: 1, outgoing: true, source: .tracker) else {
            Issue.record("the dialled seeder was refused")
            return
        }
        #expect(table.connecting.isEmpty)
        #expect(dials(&table, at: .seconds(60)).isEmpty, "not dialled while connected")

        let dropped = table.detach(key, now: start + .seconds(10))
        #expect(dropped?.address == seeder)
        #expect(table.peers.isEmpty)
        #expect(table.detach(key, now: start + .seconds(10)) == nil, "detached once")
        #expect(dials(&table, at: .seconds(10) + RedialBackoff.afterDrop - .milliseconds(1)).isEmpty)
        #expect(dials(&table, at: .seconds(10) + RedialBackoff.afterDrop) == [seeder])
    }

    @Test func anIncomingPeersListenPortIsDialledOnlyOnceItsHostIsGone() async throws {
        var table = PeerTable()
        guard case .success(let key) = try await attach(&table, from: address("127.0.0.5:50000"), id: 1) else {
            Issue.record("the incoming peer was refused")
            return
        }
        let listenPort = address("127.0.0.5:6881")
        let sameHostFromTracker = address("127.0.0.5:6882")
        table.learn(listenPort, from: .incoming)
        table.learn(sameHostFromTracker, from: .tracker)
        #expect(dials(&table) == [sameHostFromTracker], "only addresses learned as a listen port wait for the host to go")

        _ = table.detach(key, now: start)
        #expect(dials(&table) == [listenPort])
    }

    // MARK: attaching

    @Test func aBannedHostIsNeverDialledNorAttached() async throws {
        var table = PeerTable()
        guard case .success(let key) = try await attach(&table, from: address("10.0.0.1:40000"), id: 1) else {
            Issue.record("the peer was refused before its ban")
            return
        }
        for port in [6881, 6882] { table.learn(address("10.0.0.1:\(port)"), from: .tracker) }
        table.learn(address("10.0.0.2:6881"), from: .tracker)
        #expect(table.banHost(of: key) == address("10.0.0.1:40000"))
        #expect(table.bannedHosts == ["10.0.0.1"])
        #expect(table.peers[key] != nil, "the caller detaches it")
        _ = table.detach(key, now: start)

        #expect(dials(&table, at: .seconds(3600)) == [address("10.0.0.2:6881")])
        let attached1 = try await attach(&table, from: address("10.0.0.1:40001"), id: 2)
        #expect(attached1 == .failure(.bannedHost))
        let attached2 = try await attach(&table, from: address("10.0.0.1:6881"), id: 3, outgoing: true)
        #expect(attached2 == .failure(.bannedHost))
        #expect(table.peers.isEmpty)
        #expect(table.banHost(of: key) == nil, "a key no longer connected bans nothing")
    }

    @Test func aSecondConnectionWithTheSamePeerIDIsRefusedAndHeldBack() async throws {
        var table = PeerTable()
        let first = address("127.0.0.2:6881")
        let second = address("127.0.0.3:6881")
        let attached3 = try await attach(&table, from: first, id: 9)
        #expect(attached3.map { _ in true } == .success(true))
        table.learn(second, from: .tracker)
        #expect(dials(&table) == [second])
        table.dialEnded(second)
        let attached4 = try await attach(&table, from: second, id: 9, outgoing: true)
        #expect(attached4 == .failure(.duplicatePeerID))
        #expect(table.peers.count == 1)
        #expect(dials(&table, at: RedialBackoff.afterDrop - .milliseconds(1)).isEmpty)
        #expect(dials(&table, at: RedialBackoff.afterDrop) == [second])
    }

    @Test func ourOwnPeerIDIsRefusedAndItsAddressForgotten() async throws {
        var table = PeerTable()
        let ourselves = address("203.0.113.9:6881")
        table.learn(ourselves, from: .dht)
        #expect(dials(&table) == [ourselves])
        table.dialEnded(ourselves)
        let attached5 = try await attach(&table, from: ourselves, id: 0, outgoing: true)
        #expect(attached5 == .failure(.ourselves))
        #expect(table.candidates[ourselves] == nil)
        #expect(dials(&table, at: .seconds(3600)).isEmpty)
        #expect(table.peers.isEmpty)
    }

    @Test func thePeerLimitBoundsAttachedPeersAndDials() async throws {
        var table = PeerTable()
        for n in 1...3 {
            let attached = try await attach(&table, from: address("127.0.0.\(n):5000"), id: UInt8(n), maxPeers: 4)
            #expect(attached != .failure(.full))
        }
        for n in 10...19 { table.learn(address("127.0.0.\(n):6881"), from: .tracker) }
        #expect(dials(&table, maxPeers: 4).count == 1, "three connected and one dialling make four")
        let attached6 = try await attach(&table, from: address("127.0.0.4:5000"), id: 4, maxPeers: 4)
        #expect(attached6 != .failure(.full))
        let attached7 = try await attach(&table, from: address("127.0.0.5:5000"), id: 5, maxPeers: 4)
        #expect(attached7 == .failure(.full))
        #expect(table.peers.count == 4)
        #expect(table.everConnected[address("127.0.0.5:5000")] == nil)
    }

    @Test func aConnectedPeersStateChangesInPlaceAndKeysAreNeverReused() async throws {
        var table = PeerTable()
        guard case .success(let first) = try await attach(&table, from: address("127.0.0.2:5000"), id: 1),
              case .success(let second) = try await attach(&table, from: address("127.0.0.3:5000"), id: 2) else {
            Issue.record("a peer was refused")
            return
        }
        table.peers[first]!.hashFailures += 2
        table.peers[second]?.refusesHashes = true
        #expect(table.peers[first]?.hashFailures == 2)
        #expect(table.peers[second]?.refusesHashes == true)
        #expect(table.knownAddressCount == 4, "two connected, each also ever connected")
        #expect(!table.isIdle)

        let removed = table.removeAllPeers()
        #expect(Set(removed.map(\.key)) == [first, second])
        #expect(table.peers.isEmpty)
        #expect(table.isIdle)
        guard case .success(let third) = try await attach(&table, from: address("127.0.0.4:5000"), id: 3) else {
            Issue.record("a peer was refused")
            return
        }
        #expect(third != first && third != second)
    }
}
