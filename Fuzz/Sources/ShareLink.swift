import TorrentModel

/// Share links (`https://host/…?seeds=<magnet>&seeds=…`) as `.add` and `memofs add` read them,
/// through the same entry point (`MagnetLink.parseLinks`), which takes plain magnets too.
let shareLinkTarget = FuzzTarget(name: "share-link") { bytes in
    let text = String(decoding: bytes, as: UTF8.self)
    guard let links = try? MagnetLink.parseLinks(text) else { return }
    require(!links.isEmpty, "parseLinks returned no link without an error")
    for link in links {
        require((try? MagnetLink(parsing: link.uri)) == link, "a magnet from a share link changed in a write and read")
    }
}
