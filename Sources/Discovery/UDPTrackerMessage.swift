/// The requests of the UDP tracker protocol (BEP 15), as the exact datagrams to send.
public enum UDPTrackerMessage: Sendable {
    /// BEP 15's magic `protocol_id` that opens a connect request.
    public static let protocolID: UInt64 = 0x417_2710_1980

    /// BEP 15 action codes.
    public enum Action: UInt32, Sendable {
        case connect = 0, announce = 1, scrape = 2, error = 3
    }

    /// A connect request: protocol id, action 0, transaction id (16 bytes).
    public static func connectRequest(transactionID: UInt32) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(16)
        bytes.appendBigEndian(protocolID)
        bytes.appendBigEndian(Action.connect.rawValue)
        bytes.appendBigEndian(transactionID)
        return bytes
    }

    /// An IPv4/IPv6 announce request (98 bytes), laid out as BEP 15's table.
    ///
    /// `ipv4` fills the `IP address` field, which trackers mostly ignore; it must be 4
    /// bytes or is sent as 0 ("use the sender's address"), which is also what IPv6
    /// announces must send. `numWant` nil is sent as -1 (the tracker's default); counts
    /// are sent as 0 when negative. No BEP 41 options are appended.
    public static func announceRequest(connectionID: UInt64, transactionID: UInt32, request: AnnounceRequest,
                                       ipv4: [UInt8]? = nil) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(98)
        bytes.appendBigEndian(connectionID)
        bytes.appendBigEndian(Action.announce.rawValue)
        bytes.appendBigEndian(transactionID)
        bytes += request.infoHash.bytes
        bytes += request.peerID.bytes
        bytes.appendBigEndian(max(0, request.downloaded))
        bytes.appendBigEndian(max(0, request.left))
        bytes.appendBigEndian(max(0, request.uploaded))
        bytes.appendBigEndian(request.event.udpCode)
        if let ipv4, ipv4.count == 4 { bytes += ipv4 } else { bytes.appendBigEndian(UInt32(0)) }
        bytes.appendBigEndian(request.key)
        let numWant: Int32 = request.numWant.map { Int32(clamping: max(0, $0)) } ?? -1
        bytes.appendBigEndian(numWant)
        bytes.appendBigEndian(request.port)
        return bytes
    }
}
