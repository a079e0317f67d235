@testable import Discovery
import Testing

@Suite struct TrackerURLTests {
    @Test func httpWithDefaultPort() throws {
        let url = try #require(TrackerURL("http://tracker.example/announce"))
        #expect(url.scheme == .http)
        #expect(url.host == "tracker.example")
        #expect(url.port == 80)
        #expect(url.pathAndQuery == "/announce")
        #expect(url.text == "http://tracker.example/announce")
    }

    @Test func httpsWithDefaultPortAndQuery() throws {
        let url = try #require(TrackerURL("https://tracker.example/a/announce.php?passkey=abc&x=1#frag"))
        #expect(url.scheme == .https)
        #expect(url.port == 443)
        #expect(url.pathAndQuery == "/a/announce.php?passkey=abc&x=1")
    }

    @Test func explicitPortAndCaseInsensitiveScheme() throws {
        let url = try #require(TrackerURL("HTTP://Tracker.Example:6969"))
        #expect(url.scheme == .http)
        #expect(url.host == "tracker.example")
        #expect(url.port == 6969)
        #expect(url.pathAndQuery == "/")
    }

    @Test func udpNeedsAPort() throws {
        #expect(TrackerURL("udp://tracker.example/announce") == nil)
        let url = try #require(TrackerURL("udp://tracker.opentrackr.org:1337/announce"))
        #expect(url.scheme == .udp)
        #expect(url.port == 1337)
        #expect(url.pathAndQuery == "/announce")
        #expect(try #require(TrackerURL("udp://10.0.0.1:80")).pathAndQuery == "")
    }

    @Test func ipv6HostInBrackets() throws {
        let url = try #require(TrackerURL("http://[2001:db8::1]:6969/announce"))
        #expect(url.host == "2001:db8::1")
        #expect(url.port == 6969)
        let noPort = try #require(TrackerURL("https://[::1]/announce"))
        #expect(noPort.host == "::1")
        #expect(noPort.port == 443)
        #expect(TrackerURL("http://[::1/announce") == nil)
        #expect(TrackerURL("http://[not-v6]:80/") == nil)
        #expect(TrackerURL("http://[::1]x/") == nil)
    }

    @Test(arguments: [
        "", "tracker.example/announce", "ftp://tracker.example/", "ws://tracker.example:80/",
        "http://", "http:///announce", "http://user:pw@tracker.example/", "http://tracker.example:0/",
        "http://tracker.example:65536/", "http://tracker.example:12x/", "http://trac ker.example/",
        "http://tracker.example/an nounce", "http://tracker.example/\u{7f}", "http://tracker.exämple/",
        "http://tracker.example:/", "udp://tracker.example:/",
    ])
    func refused(_ text: String) {
        // An empty port after a colon is refused for UDP (no default) but accepted for HTTP.
        if text == "http://tracker.example:/" {
            #expect(TrackerURL(text)?.port == 80)
        } else {
            #expect(TrackerURL(text) == nil, "\(text) should be refused")
        }
    }

    @Test func queryWithoutPathGetsASlash() throws {
        #expect(try #require(TrackerURL("http://t.example?x=1")).pathAndQuery == "/?x=1")
    }
}
