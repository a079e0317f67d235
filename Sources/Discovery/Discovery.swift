/// Finding peers: tracker (and later DHT and LSD) messages as pure codecs and state machines.
public enum Discovery {}
