import PeerProtocol
import TorrentModel

/// BEP 9: fetching the info dictionary of a magnet link from peers, and serving ours.
extension Torrent {
    func requestMetadata(from key: PeerKey) {
        guard info == nil, let peer = peers[key], let remoteID = peer.extensionID(MetadataMessage.extensionName),
              let size = peer.extensions?.metadataSize else { return }
        if assembler == nil {
            do {
                assembler = try MetadataAssembler(infoHash: infoHash, totalSize: size)
            } catch {
                return detach(key, reason: "metadata size: \(error)")
            }
        }
        guard let assembler, assembler.totalSize == size else { return }
        // Ask this peer for every piece nobody is being asked for; the info dict is small.
        var messages: [PeerMessage] = []
        for piece in assembler.missingPieces() where metadataRequests[piece] == nil {
            metadataRequests[piece] = key
            metadataRequestedAt[piece] = context.now
            messages.append(.extended(id: remoteID, payload: MetadataMessage.request(piece: piece).encoded()))
        }
        guard !messages.isEmpty else { return }
        peer.link.send(messages)
        peers[key]?.session.askedForMetadata(now: context.now)
    }

    func requestMetadataFromAnyone() {
        // A peer that has not answered in 10 seconds is not waited on: its pieces are asked of
        // the next peer (possibly it again, if it is the only one). Peers that owe us nothing
        // are asked first, the one that has owed us longest last; one that never answers
        // is dropped (`EngineTimeouts.metadataPeer`, PeerSession's tick).
        let now = context.now
        for (piece, asked) in metadataRequestedAt where now - asked > timeouts.metadataRequest {
            metadataRequests[piece] = nil
            metadataRequestedAt[piece] = nil
        }
        // The size came from a peer, and only peers that say the same size are asked: once
        // none of them is left (the one that lied about it was dropped), start over, or a
        // wrong size would keep every honest peer from being asked. The pieces already in
        // cannot be checked on their own, so none is worth keeping.
        if let assembler, !peers.values.contains(where: { $0.extensions?.metadataSize == assembler.totalSize }) {
            self.assembler = nil
            metadataRequests = [:]
            metadataRequestedAt = [:]
        }
        let owing = peers.keys.sorted { a, b in
            switch (peers[a]?.session.metadataWaitingSince, peers[b]?.session.metadataWaitingSince) {
            case (nil, nil): a < b
            case (nil, _): true
            case (_, nil): false
            case (let x?, let y?): (x, a) < (y, b)
            }
        }
        for key in owing { requestMetadata(from: key) }
    }

    func receivedMetadataMessage(_ payload: [UInt8], from key: PeerKey) {
        let message: MetadataMessage
        do {
            message = try MetadataMessage(decoding: payload)
        } catch PeerWireError.unknownMetadataMessageType {
            return  // BEP 9: ignore message types we do not know
        } catch {
            return ban(key, reason: "bad metadata message: \(error)")
        }
        switch message {
        case .request(let piece):
            guard let peer = peers[key], let remoteID = peer.extensionID(MetadataMessage.extensionName) else { return }
            // A peer that asks and never reads gets rejects, not an ever-growing send queue.
            if let info, peer.link.isWritable, let bytes = MetadataAssembler.piece(piece, of: info.rawBytes) {
                peer.link.send(.extended(id: remoteID, payload: MetadataMessage.data(
                    piece: piece, totalSize: info.rawBytes.count, bytes: bytes).encoded()))
            } else {
                peer.link.send(.extended(id: remoteID, payload: MetadataMessage.reject(piece: piece).encoded()))
            }
        case .reject(let piece):
            if metadataRequests[piece] == key { metadataRequests[piece] = nil }
            for other in peers.keys where other != key { requestMetadata(from: other) }
        case .data(let piece, let totalSize, let bytes):
            // Only what we asked this peer for: injected pieces could get an honest peer blamed.
            guard info == nil, var assembler, assembler.totalSize == totalSize, metadataRequests[piece] == key else { return }
            metadataRequests[piece] = nil
            peers[key]?.session.metadataArrived()
            do {
                let result = try assembler.receive(piece: piece, bytes: bytes)
                self.assembler = assembler
                if let result { gotMetadata(result) }
            } catch PeerWireError.invalidMetadata(let error) {
                // It hashes to the info hash: it is the torrent's own metadata, not the
                // peer's lie, and no peer can give another. The torrent cannot be had.
                failMetadata("metadata refused: \(error)")
            } catch PeerWireError.metadataHashMismatch(let expected, let actual) {
                // Start over, size included: the size came from a peer and may be the lie.
                self.assembler = nil
                metadataRequests = [:]
                ban(key, reason: "metadata hashes to \(actual), not \(expected)")
                requestMetadataFromAnyone()
            } catch {
                self.assembler = nil
                metadataRequests = [:]
                ban(key, reason: "bad metadata: \(error)")
                requestMetadataFromAnyone()
            }
        }
    }

    /// The torrent's metadata is refused (unsafe names, sizes or hashes past the limits):
    /// it stays listed as failed with the reason (`memofs status`, the share's xattrs),
    /// connects to nobody, fails every waiting read and open, and goes with `rm`.
    func failMetadata(_ reason: String) {
        guard metadataFailure == nil else { return }
        metadataFailure = reason
        lastError = reason
        logger.warning("\(reason)")
        assembler = nil
        metadataRequests = [:]
        metadataRequestedAt = [:]
        publishStatus()
        Task {
            await self.stop(error: .failed(reason))
            self.publishStatus()
        }
    }

    private func gotMetadata(_ info: TorrentInfo) {
        logger.info("metadata received: \(info.name), \(info.totalLength) bytes, \(info.pieceCount) pieces")
        installMetadata(info)
        let bytes = metainfo!.encoded()
        let store = context.store
        let hash = infoHash
        Task { try? await store.setMetainfo(bytes, for: hash) }
        updateInterestAndRequests()
    }
}
