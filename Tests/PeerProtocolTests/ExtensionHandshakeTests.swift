import Bencode
import Testing
@testable import PeerProtocol

@Suite struct ExtensionHandshakeTests {
    /// What libtorrent sends, written by hand (keys sorted, as libtorrent sorts them),
    /// plus a key memofs does not know.
    let libtorrentStyle: [UInt8] = Array("d12:complete_agoi-1e1:md11:ut_metadatai2e6:ut_pexi1ee13:metadata_sizei31235e1:pi6881e4:reqqi500e1:v14:libtorrent 2.06:yourip4:".utf8)
        + [0x7f, 0, 0, 1] + Array("e".utf8)

    @Test func parsesALibtorrentHandshake() throws {
        let handshake = try ExtensionHandshake(decoding: libtorrentStyle)
        #expect(handshake.extensions == ["ut_metadata": 2, "ut_pex": 1])
        #expect(handshake.messageID(for: "ut_metadata") == 2)
        #expect(handshake.messageID(for: "lt_donthave") == nil)
        #expect(handshake.metadataSize == 31235)
        #expect(handshake.listenPort == 6881)
        #expect(handshake.requestQueueLength == 500)
        #expect(handshake.client == "libtorrent 2.0")
        #expect(handshake.yourIP == [127, 0, 0, 1])
    }

    @Test func roundTrips() throws {
        let full = ExtensionHandshake(extensions: ["ut_metadata": 3, "ut_pex": 0], client: "memofs 0.1", listenPort: 51413,
                                      requestQueueLength: 250, metadataSize: 16 << 20,
                                      yourIP: [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [1])
        #expect(try ExtensionHandshake(decoding: full.encoded()) == full)
        let empty = ExtensionHandshake()
        #expect(empty.encoded() == Array("d1:mdee".utf8))
        #expect(try ExtensionHandshake(decoding: empty.encoded()) == empty)
    }

    @Test func encodesSortedKeys() {
        let handshake = ExtensionHandshake(extensions: ["ut_pex": 1, "ut_metadata": 2], client: "x", listenPort: 1,
                                           requestQueueLength: 2, metadataSize: 3, yourIP: [1, 2, 3, 4])
        #expect(handshake.encoded() == Array("d1:md11:ut_metadatai2e6:ut_pexi1ee13:metadata_sizei3e1:pi1e4:reqqi2e1:v1:x6:yourip4:".utf8) + [1, 2, 3, 4, UInt8(ascii: "e")])
    }

    @Test func disabledExtensionsAreKept() throws {
        let handshake = try ExtensionHandshake(decoding: Array("d1:md6:ut_pexi0eee".utf8))
        #expect(handshake.extensions == ["ut_pex": 0])
        #expect(handshake.messageID(for: "ut_pex") == nil)
    }

    @Test func missingMIsEmpty() throws {
        #expect(try ExtensionHandshake(decoding: Array("d1:pi1ee".utf8)) == ExtensionHandshake(listenPort: 1))
    }

    @Test(arguments: [
        "d1:pi0ee", "d1:pi65536ee", "d1:pi-1ee", "d1:p4:6881e",              // port
        "d1:vi5ee",                                                          // client
        "d4:reqqi0ee", "d4:reqqi-5ee", "d4:reqq3:500e",                      // request queue
        "d13:metadata_sizei0ee", "d13:metadata_sizei-1ee", "d13:metadata_size1:5e",
        "d6:yourip5:abcdee", "d6:youripi1ee", "d6:yourip0:e",                // yourip
        "d3:fool1:xee", "d1:xd1:ai1eee",                                     // unknown keys
    ])
    func ignoresWrongTypedOrOutOfRangeOptionalFields(text: String) throws {
        #expect(try ExtensionHandshake(decoding: Array(text.utf8)) == ExtensionHandshake())
    }

    @Test func skipsExtensionNamesThatAreNotUTF8() throws {
        let payload = Array("d1:md6:ut_pexi1e2:".utf8) + [0xff, 0xfe] + Array("i1eee".utf8)
        #expect(try ExtensionHandshake(decoding: payload).extensions == ["ut_pex": 1])
    }

    @Test func largestMetadataSizeIsKept() throws {
        let handshake = try ExtensionHandshake(decoding: Array("d13:metadata_sizei16777216ee".utf8))
        #expect(handshake.metadataSize == ExtensionHandshake.maxMetadataSize)
    }

    /// A size past the limit is no size to fetch, but is kept apart: the engine bans the
    /// peer that says it (it would sit there forever, never asked for anything).
    @Test func aMetadataSizePastTheLimitIsKeptApart() throws {
        let handshake = try ExtensionHandshake(decoding: Array("d13:metadata_sizei524288000ee".utf8))
        #expect(handshake.metadataSize == nil)
        #expect(handshake.oversizedMetadataSize == 524_288_000)
        #expect(try ExtensionHandshake(decoding: Array("d13:metadata_sizei16777217ee".utf8)).oversizedMetadataSize == 16_777_217)
        #expect(try ExtensionHandshake(decoding: Array("d13:metadata_sizei16777216ee".utf8)).oversizedMetadataSize == nil)
    }

    @Test func nonUTF8ClientIsReadLossily() throws {
        let handshake = try ExtensionHandshake(decoding: Array("d1:v2:".utf8) + [0xff, 0x41] + [UInt8(ascii: "e")])
        #expect(handshake.client == "\u{FFFD}A")
    }

    @Test func refusesWhatCannotBeUsed() {
        func reason(_ text: String) -> String? {
            do {
                _ = try ExtensionHandshake(decoding: Array(text.utf8))
                return nil
            } catch {
                guard case .invalidExtensionHandshake(let reason) = error else { return "wrong case: \(error)" }
                return reason
            }
        }
        #expect(reason("le") == "the payload is a list, not a dictionary")
        #expect(reason("i1e") == "the payload is an integer, not a dictionary")
        #expect(reason("d1:mi1ee") == "\"m\" is an integer, not a dictionary")
        #expect(reason("d1:md6:ut_pexi256eee") == "the id of extension \"ut_pex\" is 256, not between 0 and 255")
        #expect(reason("d1:md6:ut_pexi-1eee") == "the id of extension \"ut_pex\" is -1, not between 0 and 255")
        #expect(reason("d1:md6:ut_pex1:1ee") == "the id of extension \"ut_pex\" is a byte string, not an integer")
        #expect(reason("d1:md6:ut_pexi1eee")  == nil)
        #expect(reason("")?.hasPrefix("invalid bencode") == true)
        #expect(reason("d1:pi1e1:mdee")?.contains("not sorted") == true)
        #expect(reason("d1:mdeexx")?.contains("bytes follow") == true)
    }
}
