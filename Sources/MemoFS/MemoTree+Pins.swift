import Foundation
import FUSEKit
import TorrentModel

/// Pinning a share: `setfattr -n user.memofs.pin -v 1 shared/NAME` (or `memofs pin`)
/// downloads the whole torrent in the background and keeps it so across restarts, for
/// listening offline; `-v 0` or `setfattr -x` goes back to fetching only what is read.
/// A file of a multi-file torrent pins its whole torrent.
extension MemoTree {
    static let pinAttribute = "user.memofs.pin"

    func setPin(of inode: UInt64, value: [UInt8]) async throws {
        let hash: InfoHash
        switch inodes.node(inode) {
        case .torrentFile(let infoHash, _)?, .torrentFolder(let infoHash, _)?: hash = infoHash
        case nil: throw FUSEError.notFound
        default: throw FUSEError.notSupported
        }
        let text = String(decoding: value, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let pinned = ["1": true, "0": false][text] else {
            logger.warning("\(Self.pinAttribute) takes 1 or 0, not '\(text.prefix(40))'")
            throw FUSEError.invalid
        }
        do {
            try await session.setPinned(hash, pinned)
        } catch {
            logger.warning("could not \(pinned ? "pin" : "unpin") \(hash.hex): \(error)")
            throw FUSEError.io
        }
        logger.info("\(pinned ? "pinned" : "unpinned") \(hash.hex)")
        treeGeneration += 1
    }
}
