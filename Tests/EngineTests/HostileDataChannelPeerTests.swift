import DTLS
import Discovery
@testable import Engine
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import PeerHarness
import PeerProtocol
import Testing
import TestSupport
import TorrentModel
import WebRTC
import WebRTCProtocol

/// A peer that reaches a session the browsers' way (a WebSocket tracker relays its WebRTC
/// offer, the session answers, a data channel opens) and then breaks the peer wire: the
/// session drops and bans it with the reason, and keeps running.
@Suite struct HostileDataChannelPeerTests {
    /// Our own offers through a real tracker client; on open, the channel sends `attack`.
    final class HostileSignaling: WebRTCSignaling, @unchecked Sendable {
        let attack: @Sendable (InfoHash) -> [UInt8]
        let certificate: DTLSCertificate
        private let lock = NIOLock()
        private var pending: [WebRTCOfferID: WebRTCPeerConnection] = [:]
        private(set) var opened: [WebRTCPeerConnection] = []
        let closedReasons = NIOLockedValueBox<[String]>([])

        init(attack: @escaping @Sendable (InfoHash) -> [UInt8]) throws {
            self.attack = attack
            certificate = try DTLSCertificate()
        }

        func makeOffers(count: Int, infoHash: InfoHash) async -> [WebRTCOffer] {
            var offers: [WebRTCOffer] = []
            var random = SystemRandomNumberGenerator()
            for _ in 0..<count {
                guard let connection = try? await WebRTCPeerConnection.offer(
                    on: MultiThreadedEventLoopGroup.singleton.next(),
                    configuration: WebRTCConfiguration(addresses: ["127.0.0.1"]),
                    certificate: certificate, logger: Logger(label: "hostile")) else { continue }
                let id = WebRTCOfferID.random(using: &random)
                lock.withLock { pending[id] = connection }
                offers.append(WebRTCOffer(offerID: id, sdp: connection.localDescription.text))
            }
            return offers
        }

        func answer(offer: WebSocketTrackerMessage.RelayedDescription) async throws -> String {
            throw WebRTCError.unusableDescription("this peer only offers")
        }

        func accept(answerSDP: String, offerID: WebRTCOfferID, from peerID: PeerID, infoHash: InfoHash) async {
            guard let connection = lock.withLock({ pending.removeValue(forKey: offerID) }),
                  let answer = try? SessionDescription(parsing: answerSDP) else { return }
            try? await connection.accept(answer: answer)
            guard (try? await connection.opened.get()) != nil else { return }
            let sink = Sink(reasons: closedReasons)
            connection.delegate = sink
            lock.withLock { opened.append(connection); sinks.append(sink) }
            _ = connection.send(attack(infoHash))
        }

        private var sinks: [Sink] = []

        func dropOffer(_ offerID: WebRTCOfferID, infoHash: InfoHash) async {
            lock.withLock { pending.removeValue(forKey: offerID) }?.close()
        }

        func closeAll() {
            for connection in lock.withLock({ Array(pending.values) + opened }) { connection.close() }
        }
    }

    final class Sink: WebRTCDataChannelDelegate, Sendable {
        let reasons: NIOLockedValueBox<[String]>
        init(reasons: NIOLockedValueBox<[String]>) { self.reasons = reasons }
        func dataChannel(received bytes: [UInt8]) {}
        func dataChannelBecameWritable() {}
        func dataChannelClosed(_ error: WebRTCError?) {
            reasons.withLockedValue { $0.append(error.map { "\($0)" } ?? "closed") }
        }
    }

    /// Runs one attack against a session that has the torrent; returns the torrent's last error.
    func attackASession(reachesTheTorrent: Bool = true,
                        with attack: @escaping @Sendable (InfoHash) -> [UInt8]) async throws -> (String?, [String]) {
        let tracker = try await WebSocketRelayTracker(group: MultiThreadedEventLoopGroup.singleton)
        let folder = try TemporaryFolder()
        var configuration = testConfiguration(folder.path + "/memofs")
        configuration.webRTC = WebRTCConfiguration(addresses: ["127.0.0.1"])
        let session = try await Session.start(configuration: configuration)
        let infoHash = randomInfoHash()
        let torrent = try await session.add(magnet: MagnetLink(infoHash: infoHash, trackers: [tracker.url]))
        // The session is in the swarm before the attacker's offers arrive.
        try await eventually("the session's announce", timeout: 30) {
            tracker.received.contains { $0.contains("\"action\":\"announce\"") }
        }

        let hostile = try HostileSignaling(attack: attack)
        let client = WebSocketTrackerClient(url: WebSocketTrackerURL(tracker.url)!, peerID: PeerID.random(), signaling: hostile,
                                            group: MultiThreadedEventLoopGroup.singleton, logger: Logger(label: "hostile"))
        await client.add(StatusBox().torrent(infoHash))
        try await eventually("the hostile channel dropped", timeout: 30) {
            !hostile.closedReasons.withLockedValue { $0 }.isEmpty
        }
        if reachesTheTorrent {
            try await eventually("the reason in the torrent's status", timeout: 30) { await torrent.lastError != nil }
        }
        let lastError = await torrent.lastError
        #expect(await session.torrent(infoHash) != nil, "the torrent still runs")
        await client.shutdown()
        hostile.closeAll()
        await session.shutdown()
        await tracker.stop()
        return (lastError, hostile.closedReasons.withLockedValue { $0 })
    }

    @Test(.timeLimit(.minutes(1))) func aLengthPrefixBeyondTheLimitGetsThePeerBanned() async throws {
        let (lastError, _) = try await attackASession { infoHash in
            Handshake(infoHash: infoHash, peerID: PeerID.random()).encoded() + [0x7F, 0xFF, 0xFF, 0xFF, 7]
        }
        #expect(lastError?.contains("banned 127.0.0.1") == true, "\(lastError ?? "nil")")
        #expect(lastError?.contains("more than the limit") == true, "\(lastError ?? "nil")")
    }

    /// Refused by the session before any torrent sees it, as a TCP connection would be.
    @Test(.timeLimit(.minutes(1))) func aHandshakeThatIsNotOneIsRefused() async throws {
        let (lastError, reasons) = try await attackASession(reachesTheTorrent: false) { _ in Array(repeating: 0x41, count: 68) }
        #expect(!reasons.isEmpty)
        #expect(lastError == nil, "no torrent took it as a peer")
    }
}

/// A tracker that relays offers by the hundred (or peers that send them through it) gets no more
/// than `WebRTCPeers.maxAnswering` connections out of the session at once, and the session
/// still runs.
@Suite struct OfferFloodTests {
    @Test(.timeLimit(.minutes(1))) func aFloodOfOffersOpensABoundedNumberOfConnections() async throws {
        let folder = try TemporaryFolder()
        let infoHash = randomInfoHash()
        // A real offer's text, from our own stack: its candidate is a socket nobody answers on.
        let unanswered = try await WebRTCPeerConnection.offer(
            on: MultiThreadedEventLoopGroup.singleton.next(), configuration: WebRTCConfiguration(addresses: ["127.0.0.1"]),
            certificate: try DTLSCertificate(), logger: Logger(label: "flood"))
        defer { unanswered.close() }
        let offerSDP = unanswered.localDescription.text
        let flood = (0..<100).map { index -> HostileWebSocketTracker.Step in
            var random = SystemRandomNumberGenerator()
            return .text(jsonText(["action": "announce", "info_hash": binaryString(infoHash.digest.bytes),
                                   "offer_id": binaryString(WebRTCOfferID.random(using: &random).bytes),
                                   "peer_id": binaryString(PeerID.random().bytes),
                                   "offer": ["type": "offer", "sdp": offerSDP]]))
        }
        let tracker = try await HostileWebSocketTracker { _ in flood }
        var configuration = testConfiguration(folder.path + "/memofs")
        configuration.webRTC = WebRTCConfiguration(addresses: ["127.0.0.1"])
        let session = try await Session.start(configuration: configuration)
        _ = try await session.add(magnet: MagnetLink(infoHash: infoHash, trackers: [tracker.url]))
        // Answers go back to the tracker until the cap holds the rest; a connection that times
        // out (30 s, none of these can connect) makes room for one more, never more at once.
        let context = await session.context
        let answers = { tracker.received.withLockedValue { $0.filter { $0.contains("\"answer\"") }.count } }
        try await eventually("answers sent", timeout: 60) { answers() >= WebRTCPeers.maxAnswering }
        for _ in 0..<10 {
            let inFlight = context.webRTCPeers?.connectionsInFlight.answers ?? 0
            #expect(inFlight <= WebRTCPeers.maxAnswering, "\(inFlight) answers connecting at once")
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(answers() < 100, "the flood was not answered whole")
        #expect(await session.torrent(infoHash) != nil)
        await session.shutdown()
        await tracker.stop()
    }
}
