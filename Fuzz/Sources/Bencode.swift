import Bencode

/// The strict bencode decoder. It takes only canonical bencode, so whatever it accepts must
/// encode back to the very same bytes (an info hash depends on it).
let bencodeTarget = FuzzTarget(name: "bencode") { bytes in
    guard let value = try? BencodeDecoder().decode(bytes) else { return }
    require(BencodeEncoder.encode(value) == bytes, "bencode accepted bytes it does not encode back to")
    // The prefix decoder (BEP 9 metadata messages, tracker replies) ends where the value ends.
    guard let prefix = try? BencodeDecoder().decodePrefix(bytes) else {
        require(false, "decodePrefix refused what decode took")
        return
    }
    require(prefix.value == value && prefix.end == bytes.count, "decodePrefix disagrees with decode")
}
