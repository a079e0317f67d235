import PeerProtocol
import TorrentModel

extension Torrent {
    /// Handles one burst of events from a peer, then tops up its requests once.
    func handle(_ events: [PeerWireEvent], from key: PeerKey) {
        guard peers[key] != nil else { return }
        peers[key]!.session.receivedSomething(now: .now)
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
        // Choke, interest and the fast extension's rules are the peer session's.
        if let actions = peers[key]!.session.received(message) {
            if message == .choke { logChoke(by: key) }
            if message == .unchoke { logger.debug("unchoked by \(peers[key]!.address)") }
            perform(actions, for: key)
            return
        }
        switch message {
        case .keepAlive, .port, .suggestPiece, .unknown, .choke, .unchoke, .interested, .notInterested:
            break
        case .have(let piece):
            receivedHave(Int(piece), from: key)
        case .bitfield(let bytes):
            receivedBitfield(bytes, from: key)
        case .haveAll, .haveNone:
            receivedHaveAll(message == .haveAll, from: key)
        case .request(let request):
            receivedRequest(request, from: key)
        case .cancel(let request):
            peers[key]!.uploadQueue.removeAll { $0 == request }
        case .piece(let piece, let begin, let block):
            receivedBlock(piece: Int(piece), begin: Int(begin), data: block, from: key)
        case .rejectRequest(let request):
            // While cancels are unanswered, rejects are their answers, in whatever order
            // the peer sends them: none counts as a refusal.
            if let action = peers[key]!.session.rejected(request) { return perform([action], for: key) }
            if let block = picker?.block(piece: Int(request.piece), begin: Int(request.begin), length: Int(request.length)) {
                picker?.requestFailed(block, peer: key)
            }
        case .allowedFast(let piece):
            if let info, Int(piece) >= info.pieceCount { return }
            if peers[key]!.allowedFast.count < 32 { peers[key]!.allowedFast.insert(Int(piece)) }
        case .extended(let id, let payload):
            receivedExtended(id: id, payload: payload, from: key)
        case .hashRequest(let request):
            // memofs keeps no merkle trees to serve; a reject is the answer BEP 52 allows.
            send(.hashReject(request), to: key)
        case .hashes(let request, let hashes):
            receivedHashes(request, hashes, from: key)
        case .hashReject(let request):
            hashesRejected(request, by: key)
        }
    }

    // MARK: what the peer has

    private func receivedHave(_ piece: Int, from key: PeerKey) {
        guard let info else {
            peers[key]!.earlyHaves.insert(piece)
            if peers[key]!.earlyHaves.count > TorrentInfo.maxPieceCount { ban(key, reason: "too many have messages") }
            return
        }
        guard piece >= 0 && piece < info.pieceCount else { return ban(key, reason: "have for piece \(piece) of \(info.pieceCount)") }
        if peers[key]!.bitfield == nil { peers[key]!.bitfield = Bitfield(count: info.pieceCount) }
        guard !peers[key]!.bitfield![piece] else { return }
        peers[key]!.bitfield![piece] = true
        picker?.peerHas(piece: piece)
        if picker?.wants(piece) == true || (picker?.have[piece] == false && keepsInterest) { setInterested(true, in: key) }
    }

    private func receivedBitfield(_ bytes: [UInt8], from key: PeerKey) {
        guard let info else {
            peers[key]!.earlyBitfield = bytes
            return
        }
        guard let bitfield = Bitfield(wireBytes: bytes, count: info.pieceCount) else {
            return ban(key, reason: "bitfield of \(bytes.count) bytes for \(info.pieceCount) pieces")
        }
        setBitfield(bitfield, of: key)
    }

    private func receivedHaveAll(_ all: Bool, from key: PeerKey) {
        guard let info else {
            peers[key]!.earlyHaveAll = all
            return
        }
        setBitfield(Bitfield(count: info.pieceCount, allSet: all), of: key)
    }

    private func setBitfield(_ bitfield: Bitfield, of key: PeerKey) {
        if let old = peers[key]!.bitfield { picker?.peerLeft(key, had: old) }
        peers[key]!.bitfield = bitfield
        picker?.peerHas(bitfield)
        setInterested(wantsSomething(from: bitfield), in: key)
    }

    /// Applies what a peer announced before the metadata arrived.
    func adoptEarlyBitfield(of key: PeerKey) {
        guard let info, let peer = peers[key] else { return }
        var bitfield = Bitfield(count: info.pieceCount, allSet: peer.earlyHaveAll)
        if let bytes = peer.earlyBitfield {
            guard let parsed = Bitfield(wireBytes: bytes, count: info.pieceCount) else {
                return ban(key, reason: "bitfield of \(bytes.count) bytes for \(info.pieceCount) pieces")
            }
            bitfield = parsed
        }
        for piece in peer.earlyHaves {
            guard piece >= 0 && piece < info.pieceCount else { return ban(key, reason: "have for piece \(piece)") }
            bitfield[piece] = true
        }
        peers[key]!.earlyBitfield = nil
        peers[key]!.earlyHaves = []
        setBitfield(bitfield, of: key)
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
        peers[key]!.session.sentSomething(now: .now)
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
        guard picker != nil, let peer = peers[key], let bitfield = peer.bitfield, peer.amInterested else { return }
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
        // The snub clock starts when there is something to wait for, not at the last block.
        if outstanding == 0 { peers[key]!.session.startedWaiting(now: .now) }
        let picker = self.picker!
        peers[key]!.link.send(blocks.map { .request(picker.request(for: $0).wire) })
        peers[key]!.session.sentSomething(now: .now)
    }

    // MARK: blocks

    private func receivedBlock(piece: Int, begin: Int, data: [UInt8], from key: PeerKey) {
        guard picker != nil, let info else {
            return ban(key, reason: "sent a block before we had the metadata")
        }
        guard let block = picker!.block(piece: piece, begin: begin, length: data.count) else {
            statistics.wasted(data.count)
            let dropping = peers[key]!.session.unrequestedBlockArrived()
            if piece < 0 || piece >= info.pieceCount || begin + data.count > info.length(ofPiece: min(max(piece, 0), info.pieceCount - 1)) {
                return ban(key, reason: "block \(piece):\(begin)+\(data.count) outside the torrent")
            }
            if let dropping { perform([dropping], for: key) }
            return
        }
        let outcome = picker!.received(block, from: key)
        peers[key]!.session.answered(BlockRequest(piece: UInt32(piece), begin: UInt32(begin), length: UInt32(data.count)))
        switch outcome {
        case .ignored:
            statistics.wasted(data.count)
        case .accepted(let complete, let cancelFrom):
            peers[key]!.session.blockArrived(bytes: data.count, now: .now, inFlight: picker!.outstandingRequests(of: key).count,
                                             requestLimit: peers[key]!.requestLimit)
            statistics.downloaded(data.count)
            if pipeline!.receive(data, at: begin, of: piece, hashAsItArrives: picker!.hasDeadline(piece)) { markPendingSoon(piece) }
            blockArrived(block.index, of: piece)
            let request = BlockRequest(piece: UInt32(piece), begin: UInt32(begin), length: UInt32(data.count))
            for other in cancelFrom { send(.cancel(request), to: other) }
            if complete { verify(piece) }
        }
    }

    // MARK: extensions

    private func receivedExtended(id: UInt8, payload: [UInt8], from key: PeerKey) {
        if id == ExtensionHandshake.extendedID {
            do {
                let extensions = try ExtensionHandshake(decoding: payload)
                peers[key]!.extensions = extensions
                peers[key]!.session.queueDepth = min(peers[key]!.session.queueDepth, peers[key]!.requestLimit)
                if let port = extensions.listenPort, !peers[key]!.outgoing {
                    // Remember where this peer listens, for after a reconnect.
                    let listening = PeerAddress(host: peers[key]!.address.host, port: port)
                    learn(listening, from: .incoming)
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
        let why = peers.isEmpty ? "no peer is connected (\(candidates.count) address(es) known, \(connecting.count) being dialled)"
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
