#!/usr/bin/python3
"""Writes the seed corpus of every fuzz target into Fuzz/Corpus/<target>/.

Run with Debian's /usr/bin/python3 (it has python3-libtorrent): the .torrent seeds are made by
libtorrent 2.0.8, a v1-only and a hybrid one. The other seeds are the shapes real peers,
trackers and browsers send, several copied from the tests (Chromium's STUN checks and SDPs,
WebTorrent's tracker traffic). The corpus is checked in; run this only to remake it.
"""
import os, shutil, struct, tempfile, urllib.parse
import libtorrent as lt

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "Corpus")

def be32(n): return struct.pack(">I", n)
def be16(n): return struct.pack(">H", n)

def bencode(v):
    if isinstance(v, int): return b"i%de" % v
    if isinstance(v, str): v = v.encode()
    if isinstance(v, bytes): return b"%d:%s" % (len(v), v)
    if isinstance(v, list): return b"l" + b"".join(bencode(x) for x in v) + b"e"
    if isinstance(v, dict):
        items = sorted((k.encode() if isinstance(k, str) else k, x) for k, x in v.items())
        return b"d" + b"".join(bencode(k) + bencode(x) for k, x in items) + b"e"
    raise TypeError(v)

corpus = {}
def seed(target, name, data):
    corpus.setdefault(target, []).append((name, data if isinstance(data, bytes) else data.encode()))

INFO_HASH = bytes.fromhex("f98ccbf3fee2bf7b3133969964358f8e44bd5966")
PEER_ID = b"-lt2080-" + b"k8Hj2nQx3pLs"
V2_ROOT = bytes(range(32))

# --- torrents, made by libtorrent ---
with tempfile.TemporaryDirectory() as folder:
    os.makedirs(os.path.join(folder, "album", "cd1"))
    for path, size in [("album/cd1/01 track.opus", 40000), ("album/cd1/02 track.opus", 23456), ("album/cover.jpg", 5000)]:
        with open(os.path.join(folder, path), "wb") as f: f.write(bytes((i * 7 + size) % 251 for i in range(size)))
    with open(os.path.join(folder, "note.txt"), "wb") as f: f.write(b"a recording\n" * 1000)
    made = {}
    for name, path, flags in [("v1-multi", "album", lt.create_torrent.v1_only), ("hybrid-multi", "album", 0),
                              ("v1-single", "note.txt", lt.create_torrent.v1_only), ("hybrid-single", "note.txt", 0)]:
        fs = lt.file_storage()
        lt.add_files(fs, os.path.join(folder, path))
        ct = lt.create_torrent(fs, 16384, flags=flags)
        ct.add_tracker("udp://tracker.opentrackr.org:1337/announce", 0)
        ct.add_tracker("wss://tracker.webtorrent.dev", 1)
        ct.add_url_seed("https://example.org/files/")
        ct.set_creator("libtorrent 2.0.8")
        ct.set_comment("fuzz seed")
        lt.set_piece_hashes(ct, folder)
        data = lt.bencode(ct.generate())
        made[name] = data
        seed("metainfo", name + ".torrent", data)
    info = lt.bdecode(made["v1-single"])[b"info"]
    seed("metainfo", "v1-single-info-dict", lt.bencode(info))
    seed("bencode", "v1-single.torrent", made["v1-single"])
    hybrid = lt.torrent_info(made["hybrid-multi"])
    magnet = lt.make_magnet_uri(hybrid)

# --- bencode ---
seed("bencode", "int", b"i-42e")
seed("bencode", "nested", bencode({"a": [1, b"xy", {"b": []}], "c": 0}))
seed("bencode", "empty-string", b"0:")

# --- magnet and share links ---
seed("magnet", "libtorrent-hybrid", magnet)
seed("magnet", "hex-trackers", "magnet:?xt=urn:btih:f98ccbf3fee2bf7b3133969964358f8e44bd5966&dn=Big+Buck+Bunny"
     "&tr=udp%3A%2F%2Fexplodie.org%3A6969&tr.1=wss%3A%2F%2Ftracker.btorrent.xyz&ws=https%3A%2F%2Fwebtorrent.io%2Ftorrents%2F"
     "&x.pe=127.0.0.2:6881&x.pe=[::1]:51413&xl=276134947")
seed("magnet", "base32", "magnet:?xt=urn:btih:7GGMX477EK7XWMJTS2MWINMPRZCL2WLG")
seed("share-link", "instant-io", "https://instant.io/share?seeds=" + urllib.parse.quote(magnet, safe=""))
seed("share-link", "two-seeds", "https://example.org/share?seeds="
     + urllib.parse.quote("magnet:?xt=urn:btih:f98ccbf3fee2bf7b3133969964358f8e44bd5966&dn=a", safe="")
     + "&seeds=" + urllib.parse.quote("magnet:?xt=urn:btih:7GGMX477EK7XWMJTS2MWINMPRZCL2WLG", safe="") + "#top")
seed("share-link", "plain-magnet", "magnet:?xt=urn:btih:f98ccbf3fee2bf7b3133969964358f8e44bd5966")

# --- peer wire: messages ---
ext_handshake_lt = (b"d12:complete_agoi-1e1:md11:ut_metadatai2e6:ut_pexi1ee13:metadata_sizei31235e"
                    b"1:pi6881e4:reqqi500e1:v14:libtorrent 2.06:yourip4:\x7f\x00\x00\x01e")
ext_handshake_wt = bencode({"m": {"ut_metadata": 1, "ut_pex": 2}, "metadata_size": 1202, "v": "WebTorrent 3.0.21"})
pex = bencode({"added": bytes([127, 0, 0, 2, 0x1a, 0xe1, 10, 0, 0, 7, 0xc8, 0xd5]), "added.f": b"\x12\x02",
               "added6": bytes(15) + b"\x01" + be16(51413), "added6.f": b"\x10",
               "dropped": bytes([192, 168, 1, 9, 0x1a, 0xe1])})
meta_request = bencode({"msg_type": 0, "piece": 0})
meta_data = bencode({"msg_type": 1, "piece": 0, "total_size": 1202}) + bytes(range(256)) * 2
meta_reject = bencode({"msg_type": 2, "piece": 3})
hash_request = V2_ROOT + be32(0) + be32(0) + be32(4) + be32(2)
bodies = {
    "choke": b"\x00", "unchoke": b"\x01", "interested": b"\x02", "not-interested": b"\x03",
    "have": b"\x04" + be32(17), "bitfield": b"\x05\xff\xff\xe0", "request": b"\x06" + be32(3) + be32(16384) + be32(16384),
    "piece": b"\x07" + be32(3) + be32(0) + bytes(range(256)) * 4, "cancel": b"\x08" + be32(3) + be32(16384) + be32(16384),
    "port": b"\x09" + be16(6881), "suggest": b"\x0d" + be32(9), "have-all": b"\x0e", "have-none": b"\x0f",
    "reject": b"\x10" + be32(3) + be32(0) + be32(16384), "allowed-fast": b"\x11" + be32(5),
    "extension-handshake": b"\x14\x00" + ext_handshake_lt, "ut-metadata-data": b"\x14\x02" + meta_data,
    "ut-pex": b"\x14\x01" + pex, "hash-request": b"\x15" + hash_request,
    "hashes": b"\x16" + hash_request + bytes(range(32)) * 6, "hash-reject": b"\x17" + hash_request,
}
for name, body in bodies.items(): seed("peer-message", name, body)
seed("hash-messages", "request", b"\x00" + hash_request)
seed("hash-messages", "hashes", b"\x01" + hash_request + bytes(range(32)) * 6)
seed("hash-messages", "reject", b"\x02" + hash_request)
seed("extension-handshake", "libtorrent", ext_handshake_lt)
seed("extension-handshake", "webtorrent", ext_handshake_wt)
seed("ut-metadata", "request", meta_request)
seed("ut-metadata", "data", meta_data)
seed("ut-metadata", "reject", meta_reject)
seed("pex", "v4-v6", pex)
seed("pex", "dropped-only", bencode({"added": b"", "added.f": b"", "dropped": bytes([10, 0, 0, 7, 0xc8, 0xd5])}))

# --- peer wire: streams (first byte: how many read sizes follow, then the sizes) ---
handshake = b"\x13BitTorrent protocol" + bytes([0, 0, 0, 0, 0, 0x10, 0, 0x05]) + INFO_HASH + PEER_ID
frames = lambda *names: b"".join(be32(len(bodies[n])) + bodies[n] for n in names)
seed("peer-wire", "greeting", b"\x00" + handshake + frames("extension-handshake", "bitfield", "unchoke"))
seed("peer-wire", "download-cut", b"\x03\x07\x43\x00" + handshake + b"\x00\x00\x00\x00"
     + frames("have-all", "unchoke", "piece", "piece", "reject", "hashes"))
seed("peer-wire", "metadata-cut-1", b"\x01\x00" + handshake + frames("extension-handshake", "ut-metadata-data", "ut-pex"))

# --- trackers ---
seed("http-tracker", "compact", bencode({"complete": 3, "incomplete": 1, "interval": 1800, "min interval": 900,
                                         "peers": bytes([127, 0, 0, 2, 0x1a, 0xe1, 10, 0, 0, 7, 0xc8, 0xd5]),
                                         "peers6": bytes(15) + b"\x01" + be16(6881)}))
seed("http-tracker", "dictionary-peers", bencode({"interval": 1800, "tracker id": "abc", "warning message": "slow down",
                                                  "peers": [{"ip": "127.0.0.2", "port": 6881, "peer id": PEER_ID},
                                                            {"ip": "::1", "port": 51413}]}) + b"\n")
seed("http-tracker", "failure", bencode({"failure reason": "Requested download is not authorized for use with this tracker."}))
connect = be32(0) + be32(0x1234abcd) + struct.pack(">Q", 0x41727101980)
seed("udp-tracker", "connect-v4", b"\x00" + connect)
seed("udp-tracker", "announce-v4", b"\x00" + be32(1) + be32(0x1234abcd) + be32(1800) + be32(1) + be32(3)
     + bytes([127, 0, 0, 2, 0x1a, 0xe1, 10, 0, 0, 7, 0xc8, 0xd5]))
seed("udp-tracker", "announce-v6", b"\x01" + be32(1) + be32(0x1234abcd) + be32(1800) + be32(0) + be32(2)
     + bytes(15) + b"\x01" + be16(6881))
seed("udp-tracker", "error", b"\x00" + be32(3) + be32(0x1234abcd) + b"not authorized")

# --- DHT KRPC (BEP 5's examples, with compact nodes and peers) ---
node_id = bytes.fromhex("abcdefghij0123456789".encode().hex())
nodes = b"".join(bytes([i] * 20) + bytes([127, 0, 0, i + 1, 0x1a, 0xe1]) for i in range(1, 4))
seed("krpc", "ping", bencode({"t": "aa", "y": "q", "q": "ping", "a": {"id": node_id}}))
seed("krpc", "ping-reply", bencode({"t": "aa", "y": "r", "r": {"id": b"mnopqrstuvwxyz123456"}, "v": b"LT\x02\x08"}))
seed("krpc", "find-node", bencode({"t": "aa", "y": "q", "q": "find_node", "a": {"id": node_id, "target": INFO_HASH}}))
seed("krpc", "get-peers", bencode({"t": "aa", "y": "q", "q": "get_peers", "a": {"id": node_id, "info_hash": INFO_HASH}}))
seed("krpc", "get-peers-values", bencode({"t": "aa", "y": "r", "r": {"id": node_id, "token": "aoeusnth",
                                                                   "values": [bytes([127, 0, 0, 2, 0x1a, 0xe1])]}}))
seed("krpc", "get-peers-nodes", bencode({"t": "aa", "y": "r", "r": {"id": node_id, "token": "aoeusnth", "nodes": nodes,
                                                                  "nodes6": bytes([9] * 20) + bytes(15) + b"\x01" + be16(6881)}}))
seed("krpc", "announce-peer", bencode({"t": "aa", "y": "q", "q": "announce_peer",
                                       "a": {"id": node_id, "implied_port": 1, "info_hash": INFO_HASH, "port": 6881, "token": "aoeusnth"}}))
seed("krpc", "error", bencode({"t": "aa", "y": "e", "e": [201, "A Generic Error Ocurred"]}))

# --- LSD ---
seed("lsd", "libtorrent", "BT-SEARCH * HTTP/1.1\r\nHost: 239.192.152.143:6771\r\nPort: 6881\r\n"
     "Infohash: f98ccbf3fee2bf7b3133969964358f8e44bd5966\r\nInfohash: 0123456789abcdef0123456789abcdef01234567\r\n"
     "cookie: 5d2a7c\r\n\r\n\r\n")
seed("lsd", "ipv6", "BT-SEARCH * HTTP/1.1\nHost: [ff15::efc0:988f]:6771\nPort: 51413\n"
     "Infohash: F98CCBF3FEE2BF7B3133969964358F8E44BD5966\n\n\n")

# --- WebRTC: Chromium's STUN checks and SDPs, WebTorrent's DCEP open (from the tests' captures) ---
seed("stun", "chromium-nomination", bytes.fromhex("000100502112a4424948316c4d4c7843714c6f74000600094d5543673a36524f49000000c057000400010032802a00081ee9de1e964b4f3c00250000002400046e7f1eff000800147935c10a6efa187b99da18ab4ebe32da5d39993580280004b70cf470"))
seed("stun", "chromium-success", bytes.fromhex("0101002c2112a4424948316c4d4c7843714c6f74002000080001c2fd5e12a4430008001415f43cc5917d967fb3a5711cd73d174ac6015d70802800045baf0628"))
seed("stun", "chromium-controlled", bytes.fromhex("0001004c2112a4424e5873444f4f44344d752f310006000936524f493a4d554367000000c05700040001003280290008bf71bef9dfae8b85002400046e7f1eff00080014a6a07c168b7965ca420bc6ad2b8e6ae1c0f9c65a80280004ba836ed6"))
seed("stun", "binding-error", bytes.fromhex("0111001c2112a4424948316c4d4c7843714c6f7400090010000004" "01") + b"Unauthorized" + bytes.fromhex("000a00040024c057"))
offer = ("v=0\r\no=- 6558806480255803118 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\na=extmap-allow-mixed\r\n"
         "a=msid-semantic: WMS\r\nm=application 46539 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 127.0.0.1\r\n"
         "a=candidate:1203325634 1 udp 2122260223 127.0.0.1 46539 typ host generation 0 network-id 1 network-cost 50\r\n"
         "a=candidate:964077658 1 tcp 1518280447 127.0.0.1 9 typ host tcptype active generation 0 network-id 1 network-cost 50\r\n"
         "a=ice-ufrag:8GuC\r\na=ice-pwd:oeTDyZL0Vuflx8gmq0l4Pwh6\r\n"
         "a=fingerprint:sha-256 A2:D4:12:93:74:9E:5B:C8:0F:59:F5:D0:FE:B3:0D:E1:19:66:CC:C4:C9:A6:5B:61:B9:A9:BE:03:08:B7:D5:DB\r\n"
         "a=setup:actpass\r\na=mid:0\r\na=sctp-port:5000\r\na=max-message-size:262144\r\n")
answer = ("v=0\r\no=- 2115356078408578214 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\na=extmap-allow-mixed\r\n"
          "a=msid-semantic: WMS\r\nm=application 42543 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 127.0.0.1\r\n"
          "a=candidate:3636289116 1 udp 2122260223 127.0.0.1 42543 typ host generation 0 network-id 1 network-cost 50\r\n"
          "a=ice-ufrag:149I\r\na=ice-pwd:vrvPtW8Zlyhpva6Y5HVfLPeU\r\n"
          "a=fingerprint:sha-256 C2:A0:94:F7:0E:6D:DA:C9:B0:B5:75:48:07:26:47:54:84:B0:3B:B0:51:92:F3:F3:64:51:C3:4D:CC:B0:F2:4A\r\n"
          "a=setup:active\r\na=mid:0\r\na=sctp-port:5000\r\na=max-message-size:262144\r\n")
seed("sdp", "chromium-offer", offer)
seed("sdp", "chromium-answer", answer)
label = b"0"
seed("dcep", "webtorrent-open", b"\x03\x00\x00\x00" + be32(0) + be16(len(label)) + be16(0) + label)
seed("dcep", "open-partial-reliable", b"\x03\x81\x01\x00" + be32(3000) + be16(4) + be16(6) + b"chatbinary")
seed("dcep", "ack", b"\x02")

# --- WebSocket tracker (WebTorrent 3.0.21's tracker traffic, as the tests captured it) ---
def wire_json(obj):
    import json
    # The browser sends binary ids as one code point per byte: JSON.stringify leaves U+0080-U+00FF literal.
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
latin = lambda b: b.decode("latin-1")
offer_id = bytes.fromhex("1d56dccdcfcc4c3b9b1cb9927f7f10c50b6dfa90")
seed("websocket-tracker", "announce-reply", wire_json({"complete": 2, "incomplete": 0, "action": "announce",
                                                       "info_hash": latin(INFO_HASH), "interval": 120}))
seed("websocket-tracker", "relayed-offer", wire_json({"action": "announce", "offer": {"type": "offer", "sdp": offer},
                                                      "offer_id": latin(offer_id), "peer_id": "-WW0300-mq7wcbby7xLs",
                                                      "info_hash": latin(INFO_HASH)}))
seed("websocket-tracker", "relayed-answer", wire_json({"action": "announce", "answer": {"type": "answer", "sdp": answer},
                                                       "offer_id": latin(offer_id), "peer_id": "-WW0300-qMWH7EoGXz4U",
                                                       "info_hash": latin(INFO_HASH)}))
seed("websocket-tracker", "scrape-reply", wire_json({"action": "scrape", "files": {latin(INFO_HASH): {"complete": 2, "incomplete": 1, "downloaded": 7}}}))
seed("websocket-tracker", "failure", wire_json({"failure reason": "invalid info_hash", "info_hash": latin(INFO_HASH)}))

if os.path.isdir(ROOT): shutil.rmtree(ROOT)
for target, seeds in sorted(corpus.items()):
    os.makedirs(os.path.join(ROOT, target))
    for name, data in seeds:
        with open(os.path.join(ROOT, target, name), "wb") as f: f.write(data)
print(f"{sum(len(s) for s in corpus.values())} seeds for {len(corpus)} targets in {ROOT}")
