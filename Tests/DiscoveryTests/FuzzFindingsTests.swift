@testable import Discovery
import Foundation
import Testing
import TorrentModel

/// Inputs libFuzzer found (`mount-scripts/fuzz`), each of which once broke a decoder's property;
/// kept as they were found, reduced to what matters.
@Suite struct FuzzFindingsTests {
    /// An LSD header cut to 64 characters ended in tabs; encoding and decoding it again dropped
    /// them, so a decoded announce did not survive its own round trip.
    @Test func lsdHeaderCutInsideTrailingBlanksRoundTrips() throws {
        let hash = InfoHash(bytes: Array(repeating: 7, count: 20))!
        let host = "239.192.152.143:6771" + String(repeating: "x", count: 40) + String(repeating: "\t", count: 30) + "end"
        let text = "BT-SEARCH * HTTP/1.1\r\nHost: \(host)\r\nPort: 6881\r\nInfohash: \(hash.hex)\r\n"
            + "cookie: \(String(repeating: "c", count: 62))  \t tail\r\n\r\n\r\n"
        let message = try LocalDiscoveryMessage(decoding: Array(text.utf8))
        #expect(message.host == "239.192.152.143:6771" + String(repeating: "x", count: 40))
        #expect(message.cookie == String(repeating: "c", count: 62))
        #expect(try LocalDiscoveryMessage(decoding: message.encoded()) == message)
    }

    /// Past 64 header lines the split stopped, so the last "line" held the rest of the
    /// datagram, line breaks and all: a cookie read from it came back as other headers after
    /// an encode and decode. Headers past the 64th are now ignored.
    @Test func lsdHeadersPastTheLimitAreIgnoredAndRoundTrip() throws {
        let hash = InfoHash(bytes: Array(repeating: 9, count: 20))!
        let padding = (0..<(LocalDiscoveryMessage.maxLines - 2)).map { "X-Pad: \($0)\r\n" }.joined()
        let text = "BT-SEARCH * HTTP/1.1\r\nPort: 6881\r\nInfohash: \(hash.hex)\r\n" + padding
            + "cookie: 5d\nInfohash: \(String(repeating: "ab", count: 20))\r\ncookie: late\r\n\r\n"
        let message = try LocalDiscoveryMessage(decoding: Array(text.utf8))
        #expect(message.cookie == nil)
        #expect(message.infoHashes == [hash])
        #expect(try LocalDiscoveryMessage(decoding: message.encoded()) == message)
        let found = try LocalDiscoveryMessage(decoding: Array(try Data(contentsOf: URL(fileURLWithPath: Self.corpus + "/lsd/long-after-limit"))))
        #expect(try LocalDiscoveryMessage(decoding: found.encoded()) == found)
    }

    /// The seed corpus, where the inputs the fuzzer found live on.
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path + "/Fuzz/Corpus"
}
