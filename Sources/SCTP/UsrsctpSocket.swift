import CUsrsctp
import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

/// A usrsctp socket (`struct socket *`), with the options and calls `SCTPAssociation` makes on
/// it. usrsctp locks its sockets itself, so the pointer may be used from any thread.
struct UsrsctpSocket: @unchecked Sendable {
    let pointer: OpaquePointer

    /// The options a WebRTC data channel's association needs (those libdatachannel and Firefox
    /// set), each failure naming its option.
    func configure() throws(SCTPError) {
        guard usrsctp_set_non_blocking(pointer, 1) == 0 else {
            throw .system(call: "usrsctp_set_non_blocking", errno: Errno(rawValue: Glibc.errno))
        }
        // Close aborts at once: by then the DTLS transport under it is going away too.
        try set(SOL_SOCKET, SO_LINGER, linger(l_onoff: 1, l_linger: 0), "SO_LINGER")
        try set(SOL_SOCKET, SO_SNDBUF, Int32(SCTPAssociation.bufferSize), "SO_SNDBUF")
        try set(SOL_SOCKET, SO_RCVBUF, Int32(SCTPAssociation.bufferSize), "SO_RCVBUF")
        // Stream and PPID of each message, in the receive callback's sctp_rcvinfo.
        try set(Int32(IPPROTO_SCTP), SCTP_RECVRCVINFO, Int32(1), "SCTP_RECVRCVINFO")
        // No Nagle: RFC 8831 §6.6, data channel messages go out at once.
        try set(Int32(IPPROTO_SCTP), SCTP_NODELAY, Int32(1), "SCTP_NODELAY")
        // Closing a data channel resets its streams (RFC 8831 §6.7).
        try set(Int32(IPPROTO_SCTP), SCTP_ENABLE_STREAM_RESET,
                sctp_assoc_value(assoc_id: sctp_assoc_t(SCTP_ALL_ASSOC), assoc_value: UInt32(SCTP_ENABLE_RESET_STREAM_REQ)),
                "SCTP_ENABLE_STREAM_RESET")
        for (type, name) in [(SCTP_ASSOC_CHANGE, "SCTP_ASSOC_CHANGE"), (SCTP_STREAM_RESET_EVENT, "SCTP_STREAM_RESET_EVENT"),
                             (SCTP_SEND_FAILED_EVENT, "SCTP_SEND_FAILED_EVENT")] {
            try set(Int32(IPPROTO_SCTP), SCTP_EVENT,
                    sctp_event(se_assoc_id: sctp_assoc_t(SCTP_ALL_ASSOC), se_type: UInt16(type), se_on: 1),
                    "SCTP_EVENT \(name)")
        }
        try set(Int32(IPPROTO_SCTP), SCTP_INITMSG,
                sctp_initmsg(sinit_num_ostreams: SCTPAssociation.streamCount, sinit_max_instreams: SCTPAssociation.streamCount,
                             sinit_max_attempts: 0, sinit_max_init_timeo: 0),
                "SCTP_INITMSG")
        // usrsctp does not probe the path MTU (RFC 4821), so a fixed safe packet size, with
        // heartbeats on (a dead peer is noticed even when idle).
        var parameters = sctp_paddrparams()
        parameters.spp_assoc_id = sctp_assoc_t(SCTP_FUTURE_ASSOC)
        parameters.spp_flags = UInt32(SPP_HB_ENABLE | SPP_PMTUD_DISABLE)
        // The path MTU usrsctp takes is the room for chunks: the packet less its 12-byte common header.
        parameters.spp_pathmtu = UInt32(SCTPAssociation.packetSize - 12)
        try set(Int32(IPPROTO_SCTP), SCTP_PEER_ADDR_PARAMS, parameters, "SCTP_PEER_ADDR_PARAMS")
    }

    func bindAndConnect(address: UnsafeMutableRawPointer, localPort: UInt16, remotePort: UInt16) throws(SCTPError) {
        var local = sockaddr_conn(sconn_family: UInt16(AF_CONN), sconn_port: localPort.bigEndian, sconn_addr: address)
        let bound = withUnsafeMutableBytes(of: &local) { bytes in
            usrsctp_bind(pointer, bytes.baseAddress!.assumingMemoryBound(to: sockaddr.self),
                         socklen_t(MemoryLayout<sockaddr_conn>.size))
        }
        guard bound == 0 else { throw .system(call: "usrsctp_bind", errno: Errno(rawValue: Glibc.errno)) }
        var remote = sockaddr_conn(sconn_family: UInt16(AF_CONN), sconn_port: remotePort.bigEndian, sconn_addr: address)
        let connected = withUnsafeMutableBytes(of: &remote) { bytes in
            usrsctp_connect(pointer, bytes.baseAddress!.assumingMemoryBound(to: sockaddr.self),
                            socklen_t(MemoryLayout<sockaddr_conn>.size))
        }
        // Non-blocking: the INIT is out, the association comes up later (`.connected`).
        guard connected == 0 || Glibc.errno == EINPROGRESS else {
            throw .system(call: "usrsctp_connect", errno: Errno(rawValue: Glibc.errno))
        }
    }

    /// Sends an ABORT to the peer (a send with SCTP_ABORT and no data, RFC 6458 §5.3.4), at
    /// once and on this thread. Fails harmlessly when there is no association to abort.
    func abort() {
        var info = sctp_sendv_spa()
        info.sendv_flags = UInt32(SCTP_SEND_SNDINFO_VALID)
        info.sendv_sndinfo.snd_flags = UInt16(SCTP_ABORT)
        // usrsctp refuses a null buffer (EFAULT) even for no data.
        var noData: UInt8 = 0
        _ = usrsctp_sendv(pointer, &noData, 0, nil, 0, &info, socklen_t(MemoryLayout<sctp_sendv_spa>.size),
                          UInt32(SCTP_SENDV_SPA), 0)
    }

    /// SCTP_RESET_STREAMS with `streams` as outgoing: `struct sctp_reset_streams` ends in a
    /// variable-length stream list, so it is built in raw bytes.
    func resetOutgoing(streams: [UInt16]) throws(SCTPError) {
        let header = MemoryLayout<sctp_reset_streams>.size
        var bytes = [UInt8](repeating: 0, count: header + streams.count * MemoryLayout<UInt16>.stride)
        let result = bytes.withUnsafeMutableBytes { raw in
            var request = sctp_reset_streams()
            request.srs_assoc_id = sctp_assoc_t(SCTP_ALL_ASSOC)
            request.srs_flags = UInt16(SCTP_STREAM_RESET_OUTGOING)
            request.srs_number_streams = UInt16(streams.count)
            raw.storeBytes(of: request, as: sctp_reset_streams.self)
            for (index, stream) in streams.enumerated() {
                raw.storeBytes(of: stream, toByteOffset: header + index * 2, as: UInt16.self)
            }
            return usrsctp_setsockopt(pointer, Int32(IPPROTO_SCTP), SCTP_RESET_STREAMS, raw.baseAddress, socklen_t(raw.count))
        }
        guard result == 0 else {
            throw .system(call: "usrsctp_setsockopt(SCTP_RESET_STREAMS)", errno: Errno(rawValue: Glibc.errno))
        }
    }

    private func set<Value>(_ level: Int32, _ option: Int32, _ value: Value, _ name: String) throws(SCTPError) {
        let result = withUnsafeBytes(of: value) { bytes in
            usrsctp_setsockopt(pointer, level, option, bytes.baseAddress, socklen_t(bytes.count))
        }
        guard result == 0 else {
            throw .system(call: "usrsctp_setsockopt(\(name))", errno: Errno(rawValue: Glibc.errno))
        }
    }
}
