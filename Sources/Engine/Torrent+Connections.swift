import NIOCore
import PeerProtocol
import TorrentModel

extension Torrent {
    /// The connected peers: one peer's state is read and changed in place through it
    /// (`peers[key]`); who is connected changes only through `table` (its subscript traps
    /// on adding or removing a peer).
    var peers: ConnectedPeers {
        _read { yield table.peers }
        _modify { yield &table.peers }
    }

    /// Dials candidates until the torrent has enough peers; at most a few dials at once.
    func connectToCandidates() {
        guard !isStopped else { return }
        for dial in table.startDials(now: context.now, maxPeers: context.configuration.maxPeersPerTorrent) {
            context.connectionTask { await self.dial(dial.address, source: dial.source) }
        }
    }

    func isOwnAddress(_ address: PeerAddress) -> Bool {
        let port = context.listenPort.withLockedValue { $0 }
        guard Int(address.port) == port else { return false }
        let host = context.configuration.listenHost
        return address.hostText == host || (host == "0.0.0.0" && address.hostText.hasPrefix("127."))
    }

    private func dial(_ address: PeerAddress, source: PeerSource) async {
        let link: PeerLink
        do {
            link = try await PeerLink.connect(to: address, group: eventLoop, timeout: TimeAmount(timeouts.connect))
        } catch {
            connectFailed(address, reason: "\(error)")
            return
        }
        guard !isStopped else { return link.close() }
        link.sendRaw(ownHandshake().encoded())
        await Torrent.pump(link: link, torrent: self, outgoing: true, source: source)
    }

    /// A connection opened by other means than a TCP dial (a WebRTC data channel we offered):
    /// we speak first, as a dialler does.
    func enter(_ link: PeerLink, source: PeerSource) async {
        guard !isStopped else { return link.close() }
        link.sendRaw(ownHandshake().encoded())
        await Torrent.pump(link: link, torrent: self, outgoing: true, source: source)
    }

    /// A connection ended before its handshake: a dialled address waits before it is dialled
    /// again; other transports are not dialled by address.
    func handshakeFailed(on link: PeerLink, reason: String) {
        if link.transport.kind == .tcp {
            connectFailed(link.remote, reason: reason)
        } else {
            logger.debug("\(link.transport.kind.rawValue) peer \(link.remote) left before its handshake: \(reason)")
        }
    }

    func connectFailed(_ address: PeerAddress, reason: String) {
        let now = context.now
        let retry = table.dialFailed(address, now: now).map { " (again in \(($0 - now).components.seconds) s)" } ?? ""
        logger.debug("could not connect to \(address): \(reason)\(retry)")
    }

    /// Reads a connection's handshake and then its messages until it closes. Used for
    /// both directions; for accepted connections the session has already read the first
    /// events (to match the torrent) and passes them in. Runs on the torrent's actor, which
    /// runs on the torrent's event loop; a connection on that loop is then read without a
    /// thread switch per batch.
    static func pump(link: PeerLink, torrent: isolated Torrent,
                     outgoing: Bool, source: PeerSource, firstEvents: [PeerWireEvent]? = nil) async {
        var events: [PeerWireEvent]
        if let firstEvents {
            events = firstEvents
        } else {
            let timeout = link.eventLoop.scheduleTask(in: TimeAmount(torrent.timeouts.handshake)) { link.close() }
            guard case .events(let first)? = await link.items.next(isolation: torrent) else {
                timeout.cancel()
                torrent.handshakeFailed(on: link, reason: "closed before the handshake")
                return
            }
            timeout.cancel()
            events = first
        }
        guard case .handshake(let handshake)? = events.first else {
            link.close()
            torrent.handshakeFailed(on: link, reason: "no handshake")
            return
        }
        guard let key = torrent.attach(link: link, handshake: handshake, outgoing: outgoing, source: source) else {
            link.close()
            return
        }
        torrent.handle(Array(events.dropFirst()), from: key)
        link.consumed()
        if link.eventLoop === torrent.eventLoop {
            // The connection and the torrent share a loop: from here on each batch is handled
            // on that loop in the turn it was read, with no task resumed in between (a resumed
            // continuation goes through Swift's global executor: two thread switches per batch).
            // Switched first, then what was queued before is handled: anything read meanwhile
            // (handling a batch may send, and a failed send reads and closes the channel at
            // once) goes through `execute`, a later turn, so after what was queued.
            let loop = torrent.eventLoop
            let target: Torrent = torrent
            link.deliverDirectly { item in
                // A later turn, never inside a call the torrent is making (closing a channel
                // reports its close at once).
                loop.execute { _ = target.assumeIsolated { $0.received(item, from: key, on: link) } }
            }
            for item in link.items.takeQueued() {
                guard torrent.received(item, from: key, on: link) else { return }
            }
            return
        }
        while let item = await link.items.next(isolation: torrent) {
            guard torrent.received(item, from: key, on: link) else { return }
        }
    }

    /// One batch from a connection, or its end; false once it ended.
    @discardableResult
    func received(_ item: PeerEventBatcher.Item, from key: PeerKey, on link: PeerLink) -> Bool {
        switch item {
        case .events(let batch):
            handle(batch, from: key)
            link.consumed()
            return true
        case .closed(let error as PeerWireError):
            ban(key, reason: "\(error)")
        case .closed(let error as PeerConnectionError):
            ban(key, reason: "\(error)")
        case .closed(let error?):
            detach(key, reason: "\(error)")
        case .closed(nil):
            detach(key, reason: "connection closed")
        }
        return false
    }

    /// Accepts a handshaken connection as a peer, or refuses it (nil).
    func attach(link: PeerLink, handshake: Handshake, outgoing: Bool, source: PeerSource) -> PeerKey? {
        wake()
        if outgoing && link.transport.kind == .tcp { table.dialEnded(link.remote) }
        guard !isStopped else { return nil }
        guard names(handshake.infoHash) else {
            logger.info("\(link.remote) answered for another torrent")
            return nil
        }
        let attached = table.attach(link: link, handshake: handshake, outgoing: outgoing, source: source,
                                    supportsV2: advertisesV2 && (handshake.supportsV2 || handshake.infoHash != infoHash),
                                    geometry: info.map(PeerSession.Geometry.init),
                                    ownPeerID: context.peerID, maxPeers: context.configuration.maxPeersPerTorrent, now: context.now)
        guard case .success(let key) = attached else { return nil }
        if !outgoing { link.sendRaw(ownHandshake(naming: handshake.infoHash).encoded()) }

        var greeting: [PeerMessage] = []
        if handshake.supportsExtensionProtocol {
            var yourIP: [UInt8]? = nil
            switch link.remote.host {
            case .ipv4(let bytes), .ipv6(let bytes): yourIP = bytes
            case .name: break
            }
            let port = context.listenPort.withLockedValue { $0 }
            let extensions = ExtensionHandshake(
                extensions: LocalExtension.all, client: "memofs 0.1.0",
                listenPort: port > 0 ? UInt16(port) : nil, requestQueueLength: 1000,
                metadataSize: info?.rawBytes.count, yourIP: yourIP)
            greeting.append(.extended(id: ExtensionHandshake.extendedID, payload: extensions.encoded()))
        }
        if let picker {
            if handshake.supportsFastExtension && picker.have.isComplete {
                greeting.append(.haveAll)
            } else if handshake.supportsFastExtension && picker.have.isEmpty {
                greeting.append(.haveNone)
            } else if !picker.have.isEmpty {
                greeting.append(.bitfield(picker.have.bytes))
            }
        } else if handshake.supportsFastExtension {
            greeting.append(.haveNone)
        }
        link.send(greeting)
        table.peers[key]?.session.sentSomething(now: context.now)
        logger.debug("connected to \(link.remote) (\(outgoing ? "out" : "in"), \(handshake.peerID))")
        return key
    }

    /// Forgets a peer: its requests go back to the pool, its pieces no longer count.
    func detach(_ key: PeerKey, reason: String) {
        guard let peer = table.detach(key, now: context.now) else { return }
        peer.link.close()
        picker?.peerLeft(key, had: peer.bitfield)
        for (piece, owner) in metadataRequests where owner == key { metadataRequests[piece] = nil }
        merkle.forget(key)
        choker.peerLeft(key)
        logger.debug("disconnected \(peer.address): \(reason)")
        if info == nil { requestMetadataFromAnyone() }
        updateInterestAndRequests()
        connectToCandidates()
    }

    /// Cuts a peer off for good: it broke the protocol or sent bad data.
    func ban(_ key: PeerKey, reason: String) {
        guard let address = table.banHost(of: key) else { return }
        lastError = "banned \(address): \(reason)"
        logger.warning("banned \(address): \(reason)")
        detach(key, reason: reason)
    }
}
