import TorrentModel

/// `.torrent` files (v1 and hybrid) as users drop them in, and the info dictionary alone as
/// ut_metadata delivers it. What parses must write out and parse again to the same torrent.
let metainfoTarget = FuzzTarget(name: "metainfo") { bytes in
    if let info = try? TorrentInfo(bytes: bytes) { checkLayout(info) }
    guard let metainfo = try? Metainfo(bytes: bytes) else { return }
    checkLayout(metainfo.info)
    let written = metainfo.encoded()
    guard let again = try? Metainfo(bytes: written) else {
        require(false, "a parsed torrent does not parse once written out")
        return
    }
    require(again.infoHash == metainfo.infoHash && again.info.v2InfoHash == metainfo.info.v2InfoHash,
            "the info hash changed in a write and read")
    require(again.announce == metainfo.announce && again.announceList == metainfo.announceList
                && again.urlList == metainfo.urlList && again.comment == metainfo.comment
                && again.createdBy == metainfo.createdBy && again.creationDate == metainfo.creationDate,
            "a torrent's fields changed in a write and read")
    require(again.encoded() == written, "a written torrent writes out differently the second time")
}

/// What the engine takes for granted of a parsed info dictionary: files laid end to end, and
/// pieces that cover them exactly, the last one neither empty nor longer than the others.
private func checkLayout(_ info: TorrentInfo) {
    var offset: Int64 = 0
    for file in info.files {
        require(file.offset == offset && file.length >= 0, "files are not laid end to end")
        offset += file.length
    }
    require(offset == info.totalLength && info.totalLength > 0, "the files do not add up to the total length")
    require(info.pieceCount > 0, "a torrent with data has no pieces")
    let last = info.length(ofPiece: info.pieceCount - 1)
    require(last > 0 && last <= info.pieceLength, "the last piece is \(last) bytes in pieces of \(info.pieceLength)")
    require(info.piecesRoots.count == info.files.count, "a v2 root slot per file")
}
