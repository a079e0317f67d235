import PeerProtocol
import TorrentModel

extension Torrent {
    /// Handles one burst of events from a peer, then tops up its requests once.
    func handle(_ events: [PeerWireEvent], from key: PeerKey) {
        guard peers[key] != nil else { return }
        peers[key]!.session.receivedSomething(now: context.now)
        for event in events {
            guard peers[key] != nil else { return }  // banned or dropped mid-burst
            switch event {
            case .handshake:
                ban(key, reason: "a second handshake")
            case .message(let message):
                handle(message, from: key)
            }
        }
        if peers[key] != nil { requestMore(from: key) }
    }

    private func handle(_ message: PeerMessage, from key: PeerKey) {
        // Choke and interest, the fast extension's rules, what the peer has, its blocks and
        // rejects are the peer session's; the torrent does what it asks.
        if let actions = peers[key]!.session.received(message) {
            if message == .choke { logChoke(by: key) }
            if message == .unchoke, let peer = peers[key] { logger.debug("unchoked by \(peer.address)") }
            return perform(actions, for: key)
        }
        switch message {
        case .request(let request):
            receivedRequest(request, from: key)
        case .cancel(let request):
            peers[key]!.uploadQueue.removeAll { $0 == request }
        case .extended(let id, let payload):
            receivedExtended(id: id, payload: payload, from: key)
        case .hashRequest(let request):
            // memofs keeps no merkle trees to serve; a reject is the answer BEP 52 allows.
            send(.hashReject(request), to: key)
        case .hashes(let request, let hashes):
            receivedHashes(request, hashes, from: key)
        case .hashReject(let request):
            hashesRejected(request, by: key)
        case .keepAlive, .port, .suggestPiece, .unknown:
            break
        case .choke, .unchoke, .interested, .notInterested, .have, .bitfield, .haveAll, .haveNone, .allowedFast,
             .rejectRequest, .piece:
            break  // the session's, above
        }
    }

    // MARK: interest and requests

    /// Whether to be interested in a peer with `bitfield`: it has a piece the picker wants,
    /// or, while readers are about (``keepsInterest``), any piece we lack. Staying interested
    /// between a reader's reads keeps us unchoked, so the next random read, or the next open
    /// of the file, does not first wait for `interested` and an `unchoke`.
    func wantsSomething(from bitfield: Bitfield) -> Bool {
        guard let picker else { return false }
        if picker.isInterested(in: bitfield) { return true }
        guard keepsInterest else { return false }
        for piece in 0..<min(bitfield.count, picker.pieceCount) where bitfield[piece] && !picker.have[piece] { return true }
        return false
    }

    func setInterested(_ interested: Bool, in key: PeerKey) {
        guard let peer = peers[key], peers[key]!.session.setAmInterested(interested) else { return }
        logger.debug("\(interested ? "interested in" : "not interested in") \(peer.address)")
        send(interested ? .interested : .notInterested, to: key)
    }

    func send(_ message: PeerMessage, to key: PeerKey) {
        guard let peer = peers[key] else { return }
        peer.link.send(message)
        peers[key]!.session.sentSomething(now: context.now)
    }

    /// Re-evaluates interest in every peer and asks each for more blocks.
    func updateInterestAndRequests() {
        guard picker != nil else { return }
        for key in Array(peers.keys) {
            guard let bitfield = peers[key]?.bitfield else { continue }
            setInterested(wantsSomething(from: bitfield), in: key)
            requestMore(from: key)
        }
        requestWantedHashes()
    }

    /// Tops up the requests in flight to a peer, in batches so picking stays cheap.
    ///
    /// The picker is changed in place (`picker!.…`), never through a local copy: a copy
    /// would make the next change copy its sets and dictionaries, once per block.
    func requestMore(from key: PeerKey) {
        guard picker != nil, !storageHealth.holdsDownloads, let peer = peers[key], let bitfield = peer.bitfield,
              peer.amInterested else { return }
        let canRequest = !peer.peerChoking
        guard canRequest || !peer.allowedFast.isEmpty else { return }
        let outstanding = picker!.outstandingRequests(of: key).count
        let depth = peer.session.snubbed ? 1 : peer.session.queueDepth
        let room = depth - outstanding
        guard room > 0, outstanding == 0 || room >= max(1, depth / 4) else { return }
        var usable = bitfield
        if !canRequest {
            usable = Bitfield(count: bitfield.count)
            for piece in peer.allowedFast where piece < bitfield.count && bitfield[piece] { usable[piece] = true }
        }
        let blocks = picker!.pick(for: key, peerHas: usable, count: room)
        guard !blocks.isEmpty else {
            if outstanding == 0 && !wantsSomething(from: bitfield) { setInterested(false, in: key) }
            return
        }
        let picker = self.picker!
        let requests = blocks.map { picker.request(for: $0).wire }
        peer.link.send(requests.map { .request($0) })
        peers[key]!.session.sent(requests, now: context.now, timeout: timeouts.request)
    }

    // MARK: blocks

    /// Stores a block the peer's session says answers a request of ours, if the picker
    /// still wants it of this peer (a late one only if another peer has not sent it first).
    private func store(_ arrival: PeerSession.BlockArrival, from key: PeerKey) {
        let (piece, begin, data) = (Int(arrival.request.piece), Int(arrival.request.begin), arrival.data)
        guard picker != nil, let block = picker!.block(piece: piece, begin: begin, length: data.count) else {
            statistics.wasted(data.count)
            return
        }
        switch picker!.received(block, from: key) {
        case .ignored:
            statistics.wasted(data.count)
        case .accepted(let complete, let cancelFrom):
            peers[key]?.session.blockAccepted(bytes: data.count, now: context.now)
            statistics.downloaded(data.count)
            if pipeline!.receive(data, at: begin, of: piece, hashAsItArrives: picker!.hasDeadline(piece)) { markPendingSoon(piece) }
            blockArrived(block.index, of: piece)
            for other in cancelFrom where peers[other] != nil {
                peers[other]!.session.cancelled([arrival.request])
                send(.cancel(arrival.request), to: other)
            }
            if complete { verify(piece) }
        }
    }

    // MARK: extensions

    private func receivedExtended(id: UInt8, payload: [UInt8], from key: PeerKey) {
        if id == ExtensionHandshake.extendedID {
            do {
                let extensions = try ExtensionHandshake(decoding: payload)
                peers[key]?.extensions = extensions
                if let actions = peers[key]?.session.receivedExtensionHandshake(extensions), !actions.isEmpty {
                    return perform(actions, for: key)
                }
                if let port = extensions.listenPort, let peer = peers[key], !peer.outgoing {
                    // Remember where this peer listens, for after a reconnect.
                    learn(PeerAddress(host: peer.address.host, port: port), from: .incoming)
                }
                if info == nil { requestMetadata(from: key) }
            } catch {
                ban(key, reason: "bad extension handshake: \(error)")
            }
        } else if id == LocalExtension.metadata {
            receivedMetadataMessage(payload, from: key)
        } else if id == LocalExtension.pex {
            receivedPex(payload, from: key)
        }
    }
}

extension Torrent {
    /// A choke is what stalls a reader when the peer is slow to unchoke again (rtorrent
    /// unchokes every 30 s): said at debug level (`memofs mount -v`), with the reads it holds up.
    func logChoke(by key: PeerKey) {
        guard let peer = peers[key] else { return }
        var line = "choked by \(peer.address)" + (peer.amInterested ? "" : " (we were not interested)")
        if !pieceWaiters.isEmpty {
            let unchoking = peers.values.filter { !$0.peerChoking }.count
            line += "; reads wait for \(pieceWaiters.keys.count) piece(s), \(unchoking) of \(peers.count) peer(s) unchoke us"
        }
        logger.debug("\(line)")
    }

    /// Once a tick: when reads have waited 2, 4, 8, … ticks without a block arriving, says
    /// why at debug level (`memofs mount -v`), so a stall is visible in the log.
    func noteStalledReads(blocksArrived: Bool) {
        guard !pieceWaiters.isEmpty, !blocksArrived else {
            stalledTicks = 0
            return
        }
        stalledTicks += 1
        guard stalledTicks >= 2, stalledTicks & (stalledTicks - 1) == 0 else { return }
        let pieces = pieceWaiters.keys.sorted()
        let holders = peers.values.filter { peer in pieces.contains { peer.bitfield?[$0] == true } }
        let why = peers.isEmpty ? "no peer is connected (\(table.candidates.count) address(es) known, \(table.connecting.count) being dialled)"
            : holders.isEmpty ? "none of \(peers.count) peer(s) has them"
            : holders.allSatisfy(\.peerChoking) ? "all \(holders.count) peer(s) that have them choke us"
            : "\(holders.filter { !$0.peerChoking }.count) peer(s) that have them unchoke us but send nothing"
        logger.debug("reads have waited \(stalledTicks) s for piece(s) \(pieces.prefix(4).map(String.init).joined(separator: ", "))\(pieces.count > 4 ? ", …" : ""): \(why)")
    }
}

extension Torrent {
    /// Does what a peer's session asked for, in order; stops at a ban or a detach.
    func perform(_ actions: [PeerSession.Action], for key: PeerKey) {
        for action in actions {
            guard let peer = peers[key] else { return }
            switch action {
            case .sendKeepAlive:
                send(.keepAlive, to: key)
            case .snub:
                picker?.dropRequests(of: key)
                logger.info("\(peer.address) is snubbing us")
            case .dropRequests:
                picker?.dropRequests(of: key)
            case .requestsTimedOut(let requests):
                for request in requests {
                    guard let block = picker?.block(piece: Int(request.piece), begin: Int(request.begin), length: Int(request.length)) else { continue }
                    picker?.requestTimedOut(block, peer: key)
                }
                logger.debug("\(requests.count) request(s) to \(peer.address) timed out; asking other peers")
            case .requestRejected(let request), .requestAnsweredWrongly(let request):
                if let block = picker?.block(piece: Int(request.piece), begin: Int(request.begin), length: Int(request.length)) {
                    picker?.requestFailed(block, peer: key)
                }
            case .peerHas(let piece):
                picker?.peerHas(piece: piece)
                if picker?.wants(piece) == true || (picker?.have[piece] == false && keepsInterest) { setInterested(true, in: key) }
            case .peerHasPieces(let pieces, let old):
                if let old { picker?.peerLeft(key, had: old) }
                picker?.peerHas(pieces)
                setInterested(wantsSomething(from: pieces), in: key)
            case .blockArrived(let arrival):
                store(arrival, from: key)
            case .discard(let bytes):
                statistics.wasted(bytes)
            case .offerUploadSlot:
                unchokeIfSlotFree(key)
            case .choke:
                choke(key)
            case .ban(let reason):
                return ban(key, reason: reason)
            case .detach(let reason):
                return detach(key, reason: reason)
            }
        }
    }
}
