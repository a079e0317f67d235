import TorrentModel

/// How a DHT node answers the queries it receives (BEP 5), as a value: a query and its
/// sender in, the reply out. The routing table is the caller's and only read here.
///
/// Every answer goes to the address the query came from and nowhere else, is no bigger
/// than the query's own kind needs (8 nodes, at most 50 peers), and is subject to a
/// per-host and total rate limit; a query over the limit gets no answer at all, so the
/// node cannot be made to amplify traffic at anyone.
public struct QueryResponder: Sendable {
    /// Our client version in `v`: "MF" and a two-byte version.
    public static let version: [UInt8] = [0x4D, 0x46, 0x00, 0x01]

    public let ownID: NodeID
    public private(set) var tokens: TokenManager
    public private(set) var announced: AnnouncedPeers
    public private(set) var limiter: QueryRateLimiter

    public init(ownID: NodeID, announced: AnnouncedPeers = AnnouncedPeers(), limits: QueryRateLimiter.Limits = .init(),
                now: ContinuousClock.Instant, using generator: inout some RandomNumberGenerator) {
        self.ownID = ownID
        self.tokens = TokenManager(now: now, using: &generator)
        self.announced = announced
        self.limiter = QueryRateLimiter(limits: limits, now: now)
    }

    /// The reply to `query` from `sender`, or nil when the sender is over its rate limit.
    public mutating func answer(_ query: KRPCQuery, transactionID: [UInt8], from sender: PeerAddress,
                                table: RoutingTable, now: ContinuousClock.Instant,
                                using generator: inout some RandomNumberGenerator) -> KRPCMessage? {
        guard limiter.allow(sender, now: now) else { return nil }
        let body: KRPCMessage.Body
        switch query {
        case .ping:
            body = .response(KRPCResponse(id: ownID))
        case .findNode(_, let target):
            body = .response(closestNodes(to: target, for: sender, table: table))
        case .getPeers(_, let infoHash):
            var response = closestNodes(to: NodeID(infoHash), for: sender, table: table)
            response.values = announced.peers(for: infoHash, now: now, using: &generator)
                .filter { $0.isIPv6 == sender.isIPv6 }
            response.token = tokens.token(for: sender, now: now, using: &generator)
            body = .response(response)
        case .announcePeer(_, let infoHash, let port, let token, let impliedPort):
            guard tokens.isValid(token, for: sender, now: now, using: &generator) else {
                body = .error(KRPCError(code: KRPCError.protocolError, message: "bad token"))
                break
            }
            let peer = PeerAddress(host: sender.host, port: impliedPort ? sender.port : port)
            announced.add(peer, for: infoHash, now: now)
            body = .response(KRPCResponse(id: ownID))
        }
        return KRPCMessage(transactionID: transactionID, body: body, version: Self.version)
    }

    /// The error reply to a query we could not decode, when BEP 5 asks for one (an unknown
    /// method gets 204); nil for anything else, which is dropped without a word.
    public mutating func answer(undecodable error: DHTError, from sender: PeerAddress,
                                now: ContinuousClock.Instant) -> KRPCMessage? {
        guard case .unknownMethod(_, let transactionID) = error, limiter.allow(sender, now: now) else { return nil }
        return KRPCMessage(transactionID: transactionID,
                           body: .error(KRPCError(code: KRPCError.methodUnknown, message: "method unknown")),
                           version: Self.version)
    }

    /// Drops expired announcements and quiet hosts; call now and then.
    public mutating func sweep(now: ContinuousClock.Instant) {
        announced.expire(now: now)
        limiter.sweep(now: now)
    }

    /// The 8 closest nodes we know, in the sender's address family (`nodes` or `nodes6`).
    private func closestNodes(to target: NodeID, for sender: PeerAddress, table: RoutingTable) -> KRPCResponse {
        let nodes = table.closest(to: target, count: RoutingTable.bucketSize * 4)
            .filter { $0.address.isIPv6 == sender.isIPv6 }.prefix(RoutingTable.bucketSize)
        return sender.isIPv6 ? KRPCResponse(id: ownID, nodes6: Array(nodes)) : KRPCResponse(id: ownID, nodes: Array(nodes))
    }
}
