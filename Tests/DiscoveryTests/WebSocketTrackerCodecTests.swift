@testable import Discovery
import Foundation
import Testing
import TorrentModel

/// Bytes from the 40 hex digits the tracker log shows.
func hexBytes(_ hex: String) -> [UInt8] {
    let digits = Array(hex.utf8)
    return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(decoding: digits[$0..<$0 + 2], as: UTF8.self), radix: 16)! }
}

/// The case of an error, without its payload.
func caseName(_ error: WebSocketTrackerError) -> String {
    error == .missingAction ? "missingAction" : Mirror(reflecting: error).children.first?.label ?? "\(error)"
}

let capturedInfoHash = InfoHash(bytes: hexBytes("f98ccbf3fee2bf7b3133969964358f8e44bd5966"))!
let seederPeerID = PeerID(bytes: hexBytes("2d5757303330302d714d574837456f47587a3455"))!
let leecherPeerID = PeerID(bytes: hexBytes("2d5757303330302d6d7137776362627937784c73"))!
let capturedOfferID = WebRTCOfferID(bytes: hexBytes("1d56dccdcfcc4c3b9b1cb9927f7f10c50b6dfa90"))!

/// The WebTorrent tracker JSON codecs against traffic a real browser sent and received.
@Suite struct WebSocketTrackerCodecTests {
    @Test func browserAnnounceDecodesAndOurEncodingReadsBackEqual() throws {
        let announce = try WebSocketTrackerAnnounce(decoding: CapturedWebTorrentTraffic.browserStartedAnnounce)
        #expect(announce.infoHash == capturedInfoHash)
        #expect(announce.peerID == leecherPeerID)
        #expect(announce.numWant == 5)
        #expect(announce.uploaded == 0 && announce.downloaded == 0)
        #expect(announce.left == nil, "left is null until the size is known")
        #expect(announce.event == .started)
        #expect(announce.offers.map(\.offerID.description) == [
            "1d56dccdcfcc4c3b9b1cb9927f7f10c50b6dfa90", "a8ead2a6ab54d80b0f7fb2671680935688423f7f",
            "f1f98b2840555726197af7ca9c8215f3375c2977", "393ea7831b6694718bc1b84d81aefc61a581525d",
            "3b0104fda875c6c8944c9d3ed2d07d728cf3069a",
        ], "the last one holds 0x01 and 0x04, which the browser escaped as \\u0001, \\u0004")
        #expect(announce.offers.allSatisfy { $0.sdp.hasPrefix("v=0\r\n") && $0.sdp.contains("a=setup:actpass") })
        let ours = try announce.encoded()
        #expect(try WebSocketTrackerAnnounce(decoding: ours) == announce)
        // Same members as the browser's, whatever the order.
        let theirs = try JSONSerialization.jsonObject(with: Data(CapturedWebTorrentTraffic.browserStartedAnnounce.utf8)) as! NSDictionary
        let mine = try JSONSerialization.jsonObject(with: Data(ours.utf8)) as! NSDictionary
        #expect(mine == theirs)
    }

    @Test func announceReplyDecodes() throws {
        let message = try WebSocketTrackerMessage(decoding: CapturedWebTorrentTraffic.announceReply)
        #expect(message == .announceReply(.init(infoHash: capturedInfoHash, complete: 2, incomplete: 0, interval: 120)))
        let withExtras = #"{"action":"announce","info_hash":"\#(BinaryString.string(from: capturedInfoHash.digest.bytes))","interval":300,"min interval":60,"warning message":"busy"}"#
        #expect(try WebSocketTrackerMessage(decoding: withExtras)
            == .announceReply(.init(infoHash: capturedInfoHash, interval: 300, minInterval: 60, warning: "busy")))
    }

    @Test func relayedOfferDecodes() throws {
        guard case .offer(let offer) = try WebSocketTrackerMessage(decoding: CapturedWebTorrentTraffic.relayedOffer)
        else { Issue.record("not an offer"); return }
        #expect(offer.infoHash == capturedInfoHash)
        #expect(offer.peerID == leecherPeerID, "the offering peer, to answer to")
        #expect(offer.offerID == capturedOfferID)
        #expect(offer.sdp.contains("m=application 46539 UDP/DTLS/SCTP webrtc-datachannel"))
    }

    @Test func browserAnswerAndRelayedAnswerDecode() throws {
        let answer = try WebSocketTrackerAnswer(decoding: CapturedWebTorrentTraffic.browserAnswer)
        #expect(answer.peerID == seederPeerID && answer.toPeerID == leecherPeerID && answer.offerID == capturedOfferID)
        #expect(answer.sdp.contains("a=setup:active"))
        #expect(try WebSocketTrackerAnswer(decoding: answer.encoded()) == answer)
        guard case .answer(let relayed) = try WebSocketTrackerMessage(decoding: CapturedWebTorrentTraffic.relayedAnswer)
        else { Issue.record("not an answer"); return }
        #expect(relayed == .init(infoHash: capturedInfoHash, peerID: seederPeerID, offerID: capturedOfferID, sdp: answer.sdp))
    }

    @Test func failureReasonWithAndWithoutAction() throws {
        #expect(try WebSocketTrackerMessage(decoding: #"{"failure reason":"invalid info_hash"}"#)
            == .failure(reason: "invalid info_hash", infoHash: nil))
        let hash = BinaryString.string(from: capturedInfoHash.digest.bytes)
        #expect(try WebSocketTrackerMessage(decoding: #"{"action":"announce","failure reason":"no","info_hash":"\#(hash)"}"#)
            == .failure(reason: "no", infoHash: capturedInfoHash))
    }

    @Test func scrapeReplyDecodes() throws {
        let hash = JSONText.quoted(BinaryString.string(from: capturedInfoHash.digest.bytes))
        let text = #"{"action":"scrape","files":{\#(hash):{"complete":3,"incomplete":1,"downloaded":9}}}"#
        #expect(try WebSocketTrackerMessage(decoding: text)
            == .scrapeReply([.init(infoHash: capturedInfoHash, complete: 3, incomplete: 1, downloaded: 9)]))
    }

    @Test func awkwardBytesRoundTrip() throws {
        let awkward: [UInt8] = [0x00, 0x22, 0x5C, 0xFF, 0x01, 0x1F, 0x7F, 0x80, 0x0A, 0x0D] + Array(repeating: 0x41, count: 10)
        let peerID = PeerID(bytes: awkward)!
        let announce = WebSocketTrackerAnnounce(infoHash: InfoHash(bytes: awkward.reversed())!, peerID: peerID, numWant: 7,
                                                uploaded: 1, downloaded: 2, left: 3, event: .completed, offers: [])
        let text = try announce.encoded()
        #expect(text.contains(#""peer_id":"\u0000\"\\ÿ\u0001\u001f"#), "control characters as \\u00XX, quote and backslash escaped")
        #expect(try WebSocketTrackerAnnounce(decoding: text) == announce)
        #expect(!text.contains("offers"), "completed carries no offers")
    }

    @Test(arguments: [
        ("{not json", "malformedJSON"),
        ("[1,2]", "notAnObject"),
        (#""announce""#, "notAnObject"),
        (#"{"info_hash":"x"}"#, "missingAction"),
        (#"{"action":"hello"}"#, "unknownAction"),
        (#"{"action":"announce"}"#, "missingField"),
        (#"{"action":"announce","info_hash":"short"}"#, "wrongLength"),
        (#"{"action":"announce","info_hash":"ĀAAAAAAAAAAAAAAAAAAA"}"#, "notBinaryString"),
        (#"{"action":"announce","info_hash":12}"#, "wrongType"),
    ])
    func badInputIsATypedError(text: String, expected: String) {
        do {
            _ = try WebSocketTrackerMessage(decoding: text)
            Issue.record("\(text) decoded")
        } catch {
            #expect(caseName(error) == expected, "\(error)")
            #expect(error.description.contains("WebSocket tracker message"))
        }
    }

    @Test func oversizedInputsAreRefused() throws {
        let huge = String(repeating: " ", count: WebSocketTrackerLimits.maxMessageBytes) + "{}"
        #expect(throws: WebSocketTrackerError.messageTooLarge(bytes: huge.utf8.count, limit: WebSocketTrackerLimits.maxMessageBytes)) {
            try WebSocketTrackerMessage(decoding: huge)
        }
        let bigSDP = String(repeating: "a", count: WebSocketTrackerLimits.maxSDPBytes + 1)
        let relayed = CapturedWebTorrentTraffic.relayedOffer.replacingOccurrences(of: #""sdp":"v=0"#, with: #""sdp":"\#(bigSDP)v=0"#)
        #expect(throws: WebSocketTrackerError.self) { try WebSocketTrackerMessage(decoding: relayed) }
        do { _ = try WebSocketTrackerMessage(decoding: relayed) } catch {
            guard case .sdpTooLarge(let field, _, _) = error else { Issue.record("\(error)"); return }
            #expect(field == "offer.sdp")
        }
        let ours = WebSocketTrackerAnswer(infoHash: capturedInfoHash, peerID: seederPeerID, toPeerID: leecherPeerID,
                                          offerID: capturedOfferID, sdp: bigSDP)
        #expect(throws: WebSocketTrackerError.sdpTooLarge(field: "answer.sdp", bytes: bigSDP.utf8.count,
                                                           limit: WebSocketTrackerLimits.maxSDPBytes)) { try ours.encoded() }
    }
}

@Suite struct WebSocketTrackerScrapeTests {
    /// What a tracker reads back: the action and each info hash as 20 one-byte characters.
    @Test func aScrapeNamesEveryInfoHashInBinaryForm() throws {
        let other = InfoHash(bytes: [UInt8](repeating: 0xFF, count: 20))!
        let text = WebSocketTrackerScrape(infoHashes: [capturedInfoHash, other]).encoded()
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(object["action"] as? String == "scrape")
        let hashes = try #require(object["info_hash"] as? [String])
        #expect(hashes.map { Array($0.unicodeScalars.map { UInt8($0.value) }) } == [capturedInfoHash.digest.bytes, other.digest.bytes])
    }
}
