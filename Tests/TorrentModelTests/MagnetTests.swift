import Testing
@testable import TorrentModel

private let hashHex = "00443214c74254b635cf84653a56d7c675be77df"

@Suite struct MagnetTests {
    @Test func parsesEveryParameter() throws {
        let link = try MagnetLink(parsing: "magnet:?xt=urn:btih:\(hashHex.uppercased())&dn=My+memo%20%C3%A9"
            + "&tr=http%3A%2F%2F127.0.0.1%3A6969%2Fannounce&tr=udp://127.0.0.1:6969&tr.1=http://x/a"
            + "&ws=http%3A%2F%2Fseed.example%2Ff&x.pe=127.0.0.2:6881&x.pe=%5B%3A%3A1%5D%3A51413&x.pe=peer.lan:7000"
            + "&xl=123456&so=0-3&kt=ignored")
        #expect(link.infoHash.hex == hashHex)
        #expect(link.displayName == "My memo é")
        #expect(link.trackers == ["http://127.0.0.1:6969/announce", "udp://127.0.0.1:6969", "http://x/a"])
        #expect(link.webSeeds == ["http://seed.example/f"])
        #expect(link.peers.map(\.description) == ["127.0.0.2:6881", "[::1]:51413", "peer.lan:7000"])
        #expect(link.exactLength == 123456)
    }

    @Test func readsBase32Hashes() throws {
        let link = try MagnetLink(parsing: "magnet:?xt=urn:btih:abcdefghijklmnopqrstuvwxyz234567")
        #expect(link.infoHash.base32 == "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    }

    @Test func printsWhatItParses() throws {
        let link = MagnetLink(infoHash: InfoHash(magnetForm: hashHex)!, displayName: "a b&c=d/é",
                              trackers: ["http://127.0.0.1:1/announce?x=1&y=2"], webSeeds: ["http://w/"],
                              peers: [PeerAddress("127.0.0.1:80")!, PeerAddress("[fe80::1:2]:9")!], exactLength: 5)
        #expect(link.uri.hasSuffix("&x.pe=127.0.0.1:80&x.pe=[fe80::1:2]:9"))
        #expect(link.uri.hasPrefix("magnet:?xt=urn:btih:\(hashHex)&dn=a%20b%26c%3Dd%2F%C3%A9&xl=5&tr=http%3A%2F%2F"))
        #expect(try MagnetLink(parsing: link.uri) == link)
    }

    @Test func acceptsAHashWithBothForms() throws {
        let hash = InfoHash(magnetForm: hashHex)!
        let link = try MagnetLink(parsing: "magnet:?xt=urn:btih:\(hash.base32)&xt=urn:btih:\(hashHex)&xt=urn:btmh:1220abcd")
        #expect(link.infoHash == hash)
    }

    @Test(arguments: [
        ("http://example/x", "share link has no query string"),
        ("magnet:xt=urn:btih:\(hashHex)", "not a magnet link: it should start with 'magnet:?'"),
        ("magnet:?dn=x", "magnet link has no info hash (xt=urn:btih:…)"),
        ("magnet:?xt=urn:btmh:1220abcdef", "magnet link has only a BitTorrent v2 hash (urn:btmh:); memofs needs urn:btih:"),
        ("magnet:?xt=urn:btih:1234", "magnet link info hash '1234' is not 40 hex or 32 base32 characters"),
        ("magnet:?xt=urn:btih:\(String(repeating: "z", count: 40))", "is not 40 hex or 32 base32 characters"),
        ("magnet:?xt=urn:btih:\(String(repeating: "1", count: 32))", "is not 40 hex or 32 base32 characters"),
        ("magnet:?xt=urn:btih:\(hashHex)&xt=urn:btih:\(String(repeating: "a", count: 40))", "two different info hashes"),
        ("magnet:?xt=urn:btih:\(hashHex)&dn=%ZZ", "parameter 'dn' has a bad percent-encoding: '%ZZ'"),
        ("magnet:?xt=urn:btih:\(hashHex)&dn=50%", "bad percent-encoding"),
        ("magnet:?xt=urn:btih:\(hashHex)&tr=not%20a%20url", "tracker 'not a url' is not a URL"),
        ("magnet:?xt=urn:btih:\(hashHex)&tr=ftp://x", "tracker 'ftp://x' is not an http://, https://, udp://, ws:// or wss:// URL"),
        ("magnet:?xt=urn:btih:\(hashHex)&tr=file:///etc/passwd", "tracker 'file:///etc/passwd' is not an http://"),
        ("magnet:?xt=urn:btih:\(hashHex)&dn=\(String(repeating: "a", count: 1 << 20))", "name (dn) is 1048576 bytes, more than the 255"),
        ("magnet:?xt=urn:btih:\(hashHex)&dn=\(String(repeating: "%C3%A9", count: 128))", "name (dn) is 256 bytes, more than the 255 a file name may have"),
        ("magnet:?xt=urn:btih:\(hashHex)&x.pe=127.0.0.1", "peer (x.pe) '127.0.0.1' is not host:port"),
        ("magnet:?xt=urn:btih:\(hashHex)&x.pe=127.0.0.1:0", "is not host:port"),
        ("magnet:?xt=urn:btih:\(hashHex)&x.pe=127.0.0.1:70000", "is not host:port"),
        ("magnet:?xt=urn:btih:\(hashHex)&x.pe=[::1:6881", "is not host:port"),
        ("magnet:?xt=urn:btih:\(hashHex)&x.pe=300.1.1.1:80", "is not host:port"),
        ("magnet:?xt=urn:btih:\(hashHex)&xl=-5", "length (xl) '-5' is not a number of bytes"),
        ("https://app.example/share", "share link has no query string"),
        ("https://app.example/share?x=1", "share link has no seeds=<magnet> parameter"),
        ("https://app.example/share?seeds=magnet%3A%3Fdn%3Dx", "share link seeds= value: magnet link has no info hash"),
        ("https://app.example/share?seeds=%G0", "share link seeds= value has a bad percent-encoding"),
        ("", "not a magnet link or a share link"),
    ])
    func refusalsNameWhatIsWrong(text: String, expected: String) {
        #expect {
            try MagnetLink.parseLinks(text)
        } throws: { error in
            (error as? MagnetError)?.message.contains(expected) == true
        }
    }

    @Test func readsShareLinksWithSeveralSeeds() throws {
        let first = "magnet:?xt=urn:btih:\(hashHex)&dn=one&tr=http%3A%2F%2F127.0.0.1%3A1%2Fa"
        let second = "magnet:?xt=urn:btih:\(String(repeating: "b", count: 40))&dn=two"
        let share = "https://app.example/share?lang=en&seeds=\(PercentEncoding.encode(first))"
            + "&seeds=\(PercentEncoding.encode(second))#top"
        let links = try MagnetLink.parseLinks(share)
        #expect(links.map(\.displayName) == ["one", "two"])
        #expect(links[0].trackers == ["http://127.0.0.1:1/a"])
    }

    @Test func trimsSurroundingWhitespace() throws {
        #expect(try MagnetLink.parseLinks("  magnet:?xt=urn:btih:\(hashHex)\n").count == 1)
    }

    @Test func printAndParseRoundTripOnRandomLinks() throws {
        var state: UInt64 = 99
        func next(_ bound: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int(state >> 33) % bound
        }
        let pool = Array("abcXYZ019 &=%+?#/:éü🎙.-_~")
        for _ in 0..<500 {
            let name = String((0..<(1 + next(12))).map { _ in pool[next(pool.count)] })
            let hash = InfoHash(bytes: (0..<20).map { _ in UInt8(next(256)) })!
            let link = MagnetLink(infoHash: hash, displayName: name,
                                  trackers: ["http://127.0.0.1:\(1 + next(60000))/a?n=\(name.count)"],
                                  peers: [PeerAddress(host: .ipv4([127, 0, 0, UInt8(1 + next(200))]), port: UInt16(1 + next(60000)))],
                                  exactLength: Int64(next(1 << 30)))
            #expect(try MagnetLink(parsing: link.uri) == link)
        }
    }

    @Test func peerAddressesParseAndPrint() {
        #expect(PeerAddress("[2001:db8::1]:80")?.description == "[2001:db8::1]:80")
        #expect(PeerAddress("[::]:80")?.description == "[::]:80")
        #expect(PeerAddress("[1:2:3:4:5:6:7:8]:1")?.description == "[1:2:3:4:5:6:7:8]:1")
        #expect(PeerAddress("[1::2::3]:1") == nil)
        #expect(PeerAddress("01.2.3.4:5") == nil)
        #expect(PeerAddress("-bad-.host:5") == nil)
        #expect(PeerAddress("host:+5") == nil)
    }
}

@Suite struct HybridMagnetTests {
    static let v2 = String(repeating: "ab", count: 32)

    @Test func readsAndWritesTheV2Hash() throws {
        let link = try MagnetLink(parsing: "magnet:?xt=urn:btih:\(hashHex)&xt=urn:btmh:1220\(Self.v2)&dn=x")
        #expect(link.v2InfoHash.map(Hex.encode) == Self.v2)
        #expect(link.uri.hasPrefix("magnet:?xt=urn:btih:\(hashHex)&xt=urn:btmh:1220\(Self.v2)&dn=x"))
        #expect(try MagnetLink(parsing: link.uri) == link)
    }

    /// A v2 hash that is not SHA-256 is ignored: the v1 hash alone names the torrent.
    @Test func ignoresAV2HashItCannotUse() throws {
        for bad in ["1220abcd", "1114" + Self.v2, "1220" + Self.v2 + "00", "1220" + String(repeating: "zz", count: 32)] {
            let link = try MagnetLink(parsing: "magnet:?xt=urn:btih:\(hashHex)&xt=urn:btmh:\(bad)")
            #expect(link.v2InfoHash == nil)
            #expect(!link.uri.contains("btmh"))
        }
    }
}
