/// Finding peers: tracker messages (HTTP per BEP 3/7/23, UDP per BEP 15), BEP 12 tiers,
/// and later DHT and LSD, as pure codecs and state machines. No sockets and no clock:
/// the engine does the I/O and passes the time in.
public enum Discovery: Sendable {}
