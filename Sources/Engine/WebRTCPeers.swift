import DTLS
import Discovery
import Logging
import NIOConcurrencyHelpers
import NIOCore
import TorrentModel
import WebRTC
import WebRTCProtocol

/// The session's WebRTC stack behind its WebSocket trackers: makes offers and answers with
/// real peer connections (`WebRTCPeerConnection`), and hands each data channel that opens to
/// the torrent as a peer like any other, over a `DataChannelTransport`.
///
/// The side that offered sends its BitTorrent handshake first and enters the torrent it offered
/// for, as a dialler does; the side that answered reads the handshake first and is matched to
/// its torrent by the session, as an accepted TCP connection is. A browser sends its handshake
/// as soon as the channel opens, which fits both.
final class WebRTCPeers: WebRTCSignaling, Sendable {
    let configuration: WebRTCConfiguration
    let certificate: DTLSCertificate
    let group: EventLoopGroup
    let logger: Logger
    /// Our offers waiting for an answer, by id.
    private let pending = NIOLockedValueBox<[WebRTCOfferID: Pending]>([:])
    /// Connections of answers we gave whose channel is not open yet (a count while the
    /// connection is being made, then the connection).
    private let answering = NIOLockedValueBox(Answering())

    private struct Answering: Sendable {
        var count = 0
        var connections: [ObjectIdentifier: WebRTCPeerConnection] = [:]
    }

    /// Offers waiting for an answer at once, over all torrents: each holds sockets for 50 s,
    /// and a session may announce many torrents every two minutes.
    static let maxPendingOffers = 40
    /// Answers being connected at once: a tracker (or peers through it) sending offers by
    /// the thousand gets no more than this many sockets out of us.
    static let maxAnswering = 20
    /// Set once the session exists; weak, since the session owns this stack.
    private let session = NIOLockedValueBox<WeakSession>(WeakSession())

    private struct Pending: Sendable {
        let connection: WebRTCPeerConnection
        let infoHash: InfoHash
    }

    private struct WeakSession: Sendable {
        weak var session: Session?
    }

    init(configuration: WebRTCConfiguration, group: EventLoopGroup, logger: Logger) throws {
        self.configuration = configuration
        certificate = try DTLSCertificate()
        self.group = group
        self.logger = logger
    }

    func attach(to session: Session) {
        self.session.withLockedValue { $0.session = session }
    }

    private var currentSession: Session? { session.withLockedValue { $0.session } }

    func makeOffers(count: Int, infoHash: InfoHash) async -> [WebRTCOffer] {
        // A complete torrent makes no offers: downloaders offer, and the tracker hands each of
        // their offers to a peer of the swarm, which we answer. Our offers would only meet other
        // seeders, and a thousand seeded recordings would hold thousands of sockets.
        guard let torrent = await currentSession?.torrent(infoHash), await !torrent.isComplete else { return [] }
        let room = Self.maxPendingOffers - pending.withLockedValue { $0.count }
        var offers: [WebRTCOffer] = []
        for _ in 0..<min(count, room) {
            do {
                let connection = try await WebRTCPeerConnection.offer(
                    on: group.next(), configuration: configuration, certificate: certificate, logger: logger)
                var generator = SystemRandomNumberGenerator()
                let id = WebRTCOfferID.random(using: &generator)
                pending.withLockedValue { $0[id] = Pending(connection: connection, infoHash: infoHash) }
                offers.append(WebRTCOffer(offerID: id, sdp: connection.localDescription.text))
            } catch {
                logger.info("WebRTC: cannot make an offer: \(error)")
                break
            }
        }
        return offers
    }

    func answer(offer: WebSocketTrackerMessage.RelayedDescription) async throws -> String {
        guard let session = currentSession, await session.torrent(offer.infoHash) != nil else {
            throw WebRTCError.unusableDescription("an offer for a torrent we do not have")
        }
        let description = try SessionDescription(parsing: offer.sdp)
        let admitted = answering.withLockedValue { state -> Bool in
            guard state.count < Self.maxAnswering else { return false }
            state.count += 1
            return true
        }
        guard admitted else { throw WebRTCError.unusableDescription("\(Self.maxAnswering) answers are connecting already") }
        let connection: WebRTCPeerConnection
        do {
            connection = try await WebRTCPeerConnection.answer(
                description, on: group.next(), configuration: configuration, certificate: certificate, logger: logger)
        } catch {
            answering.withLockedValue { $0.count -= 1 }
            throw error
        }
        let answering = self.answering
        answering.withLockedValue { $0.connections[ObjectIdentifier(connection)] = connection }
        connection.opened.whenComplete { result in
            answering.withLockedValue { state in
                state.count -= 1
                state.connections[ObjectIdentifier(connection)] = nil
            }
            guard case .success = result else { return }
            let link = Self.link(over: connection)
            session.context.connectionTask { await session.acceptIncoming(link, source: .webSocketTracker) }
        }
        return connection.localDescription.text
    }

    func accept(answerSDP: String, offerID: WebRTCOfferID, from peerID: PeerID, infoHash: InfoHash) async {
        guard let offer = pending.withLockedValue({ $0.removeValue(forKey: offerID) }), offer.infoHash == infoHash else { return }
        do {
            try await offer.connection.accept(answer: try SessionDescription(parsing: answerSDP))
        } catch {
            logger.debug("WebRTC: the answer from \(peerID) is unusable: \(error)")
            offer.connection.close()
            return
        }
        guard let session = currentSession else { return offer.connection.close() }
        offer.connection.opened.whenComplete { result in
            guard case .success = result else { return }
            let link = Self.link(over: offer.connection)
            session.context.connectionTask {
                guard let torrent = await session.torrent(infoHash) else { return link.close() }
                await torrent.enter(link, source: .webSocketTracker)
            }
        }
    }

    func dropOffer(_ offerID: WebRTCOfferID, infoHash: InfoHash) async {
        pending.withLockedValue { $0.removeValue(forKey: offerID) }?.connection.close()
    }

    /// Offers waiting and answers connecting, for tests and the log.
    var connectionsInFlight: (offers: Int, answers: Int) {
        (pending.withLockedValue { $0.count }, answering.withLockedValue { $0.count })
    }

    /// Closes every offer still waiting and every answer still connecting (the session stops).
    func closeAll() {
        for offer in pending.withLockedValue({ state in defer { state = [:] }; return Array(state.values) }) {
            offer.connection.close()
        }
        for connection in answering.withLockedValue({ Array($0.connections.values) }) { connection.close() }
    }

    /// An open data channel as a peer link; the remote address is the path ICE selected.
    private static func link(over connection: WebRTCPeerConnection) -> PeerLink {
        let batcher = PeerEventBatcher(queue: PeerEventQueue())
        let transport = DataChannelTransport(connection: connection, batcher: batcher)
        let remote = connection.selectedPair.flatMap { PeerAddress(ip: $0.remote.ip, port: $0.remote.port) }
            ?? PeerAddress(host: .ipv4([0, 0, 0, 0]), port: 0)
        return PeerLink(transport: transport, remote: remote, batcher: batcher)
    }
}

extension PeerAddress {
    init?(ip: [UInt8], port: UInt16) {
        switch ip.count {
        case 4: self.init(host: .ipv4(ip), port: port)
        case 16: self.init(host: .ipv6(ip), port: port)
        default: return nil
        }
    }
}
