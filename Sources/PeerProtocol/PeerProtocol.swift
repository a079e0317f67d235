/// The BitTorrent peer wire protocol as pure codecs: bytes in, values out, no sockets.
public enum PeerProtocol {}
