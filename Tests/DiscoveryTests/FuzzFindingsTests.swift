@testable import Discovery
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
}
