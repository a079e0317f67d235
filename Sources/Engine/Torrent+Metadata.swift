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
        peer.link.send(messages)
    }

    func requestMetadataFromAnyone() {
        // A peer that has not answered in 10 seconds is not waited on: its pieces are asked of
        // the next peer (possibly it again, if it is the only one).
        let now = context.now
        for (piece, asked) in metadataRequestedAt where now - asked > timeouts.metadataRequest {
            metadataRequests[piece] = nil
            metadataRequestedAt[piece] = nil
        }
        for key in peers.keys { requestMetadata(from: key) }
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
            do {
                let result = try assembler.receive(piece: piece, bytes: bytes)
                self.assembler = assembler
                if let result { gotMetadata(result) }
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
