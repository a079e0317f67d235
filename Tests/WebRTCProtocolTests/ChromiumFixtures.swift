/// Real session descriptions of Chromium (headless, WebTorrent 3.0.21), captured from a local
/// WebSocket tracker's log (/work/wt-fixtures/tracker.jsonl, issue 15): the offer with offer_id
/// 1d56dccd… that the tracker relayed at t=1.705, and the answer the other browser sent back to
/// it at t=1.727. Copied byte for byte (CRLF line endings as on the wire).
enum ChromiumFixtures {
    static let offer = "v=0\r\no=- 6558806480255803118 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\na=extmap-allow-mixed\r\na=msid-semantic: WMS\r\nm=application 46539 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 127.0.0.1\r\na=candidate:1203325634 1 udp 2122260223 127.0.0.1 46539 typ host generation 0 network-id 1 network-cost 50\r\na=candidate:964077658 1 tcp 1518280447 127.0.0.1 9 typ host tcptype active generation 0 network-id 1 network-cost 50\r\na=ice-ufrag:8GuC\r\na=ice-pwd:oeTDyZL0Vuflx8gmq0l4Pwh6\r\na=fingerprint:sha-256 A2:D4:12:93:74:9E:5B:C8:0F:59:F5:D0:FE:B3:0D:E1:19:66:CC:C4:C9:A6:5B:61:B9:A9:BE:03:08:B7:D5:DB\r\na=setup:actpass\r\na=mid:0\r\na=sctp-port:5000\r\na=max-message-size:262144\r\n"

    static let answer = "v=0\r\no=- 2115356078408578214 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\na=extmap-allow-mixed\r\na=msid-semantic: WMS\r\nm=application 42543 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 127.0.0.1\r\na=candidate:3636289116 1 udp 2122260223 127.0.0.1 42543 typ host generation 0 network-id 1 network-cost 50\r\na=ice-ufrag:149I\r\na=ice-pwd:vrvPtW8Zlyhpva6Y5HVfLPeU\r\na=fingerprint:sha-256 C2:A0:94:F7:0E:6D:DA:C9:B0:B5:75:48:07:26:47:54:84:B0:3B:B0:51:92:F3:F3:64:51:C3:4D:CC:B0:F2:4A\r\na=setup:active\r\na=mid:0\r\na=sctp-port:5000\r\na=max-message-size:262144\r\n"

    /// The offer's fingerprint, read by hand from its `a=fingerprint` line.
    static let offerFingerprint: [UInt8] = [
        0xA2, 0xD4, 0x12, 0x93, 0x74, 0x9E, 0x5B, 0xC8, 0x0F, 0x59, 0xF5, 0xD0, 0xFE, 0xB3, 0x0D, 0xE1,
        0x19, 0x66, 0xCC, 0xC4, 0xC9, 0xA6, 0x5B, 0x61, 0xB9, 0xA9, 0xBE, 0x03, 0x08, 0xB7, 0xD5, 0xDB,
    ]
}
