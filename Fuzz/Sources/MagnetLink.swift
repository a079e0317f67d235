import TorrentModel

/// Magnet links as users paste them. A parsed link written as text parses to the same link.
let magnetLinkTarget = FuzzTarget(name: "magnet") { bytes in
    let text = String(decoding: bytes, as: UTF8.self)
    guard let link = try? MagnetLink(parsing: text) else { return }
    guard let again = try? MagnetLink(parsing: link.uri) else {
        require(false, "a parsed magnet link does not parse once written: \(link.uri)")
        return
    }
    require(again == link, "a magnet link changed in a write and read: \(link.uri)")
}
