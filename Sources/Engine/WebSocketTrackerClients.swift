import Logging
import NIOConcurrencyHelpers
import NIOCore
import TorrentModel

/// A session's WebSocket tracker clients, one per tracker URL, made when a torrent first
/// announces to it, so every torrent on that tracker shares its socket (as WebTorrent does).
final class WebSocketTrackerClients: Sendable {
    private let clients = NIOLockedValueBox<[WebSocketTrackerURL: WebSocketTrackerClient]>([:])
    private let signaling: any WebRTCSignaling
    private let peerID: PeerID
    private let group: EventLoopGroup
    private let clock: EngineClock
    private let options: WebSocketTrackerConnectionOptions
    private let logger: Logger

    init(signaling: any WebRTCSignaling, peerID: PeerID, group: EventLoopGroup, clock: EngineClock,
         options: WebSocketTrackerConnectionOptions, logger: Logger) {
        self.signaling = signaling
        self.peerID = peerID
        self.group = group
        self.clock = clock
        self.options = options
        self.logger = logger
    }

    /// Closes every tracker socket (the session stops).
    func shutdown() async {
        for client in clients.withLockedValue({ Array($0.values) }) { await client.shutdown() }
    }

    func client(for url: WebSocketTrackerURL) -> WebSocketTrackerClient {
        clients.withLockedValue { clients in
            if let client = clients[url] { return client }
            let client = WebSocketTrackerClient(url: url, peerID: peerID, signaling: signaling, group: group,
                                                clock: clock, options: options, logger: logger)
            clients[url] = client
            return client
        }
    }
}
