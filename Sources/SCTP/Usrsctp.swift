import CUsrsctp
import NIOConcurrencyHelpers
#if canImport(Glibc)
import Glibc
#endif

/// libusrsctp's process-wide side: its one-time initialisation with the settings WebRTC stacks
/// use, and the table that turns the opaque addresses usrsctp calls back with into associations.
///
/// usrsctp is told an association's address and `ulp_info` as small integers (its id), never as
/// pointers to Swift objects: usrsctp only compares and hands back these values, and a timer
/// thread may still hold one for a moment after `usrsctp_close` returns. A lookup of an id that
/// is no longer in the table finds nothing and the callback does nothing, so no callback can
/// reach freed memory, however late it comes (Firefox's data channel code keys usrsctp the same
/// way).
enum Usrsctp {
    /// usrsctp_init and the sysctls, run once per process on first use (a Swift lazy global,
    /// initialised exactly once even when threads race for it).
    ///
    /// The sysctls, and why (the values Firefox, libdatachannel and GStreamer set for WebRTC):
    /// - `ecn_enable 0`: no Explicit Congestion Notification; it needs IP-level ECN bits that SCTP
    ///   over DTLS over UDP never sees, and browsers do not negotiate it.
    /// - `blackhole 2`: no ABORT in answer to out-of-the-blue packets (stray or garbage packets
    ///   after a close must not provoke traffic).
    /// - `default_frag_interleave 2`: usrsctp may deliver parts of messages of different streams
    ///   interleaved, so one large message does not hold up other channels; `SCTPAssociation`
    ///   reassembles per stream.
    /// - `asconf_enable 0`, `auth_enable 0`: address reconfiguration and SCTP-AUTH are not used
    ///   by data channels (DTLS authenticates); off means fewer code paths and smaller INITs.
    /// - `pr_enable 1`: partial reliability (RFC 3758), which DCEP's partially reliable channel
    ///   types need.
    /// - `rto_initial_default 1000`, `rto_max_default 10000`, `init_rto_max_default 10000` (ms):
    ///   RFC 4960's 3 s initial and 60 s maximum retransmission timeouts stall a data channel for
    ///   a minute after a burst of loss; 1 s and 10 s as libdatachannel sets.
    /// - `delayed_sack_time_default 20` (ms, default 200): a sender with a small window waits on
    ///   SACKs; 20 ms as libdatachannel sets.
    /// - `initial_cwnd 10` (MTUs): RFC 6928's initial window, as TCP uses.
    /// - `max_chunks_on_queue 10240`: the send buffer (1 MiB) holds up to about 870 chunks of
    ///   small messages; usrsctp's default of 512 queued chunks would refuse sends long before.
    static let initialized: Void = {
        usrsctp_init(0, connOutput, nil)
        usrsctp_sysctl_set_sctp_ecn_enable(0)
        usrsctp_sysctl_set_sctp_blackhole(2)
        usrsctp_sysctl_set_sctp_default_frag_interleave(2)
        usrsctp_sysctl_set_sctp_asconf_enable(0)
        usrsctp_sysctl_set_sctp_auth_enable(0)
        usrsctp_sysctl_set_sctp_pr_enable(1)
        usrsctp_sysctl_set_sctp_rto_initial_default(1000)
        usrsctp_sysctl_set_sctp_rto_max_default(10_000)
        usrsctp_sysctl_set_sctp_init_rto_max_default(10_000)
        usrsctp_sysctl_set_sctp_delayed_sack_time_default(20)
        usrsctp_sysctl_set_sctp_initial_cwnd(10)
        usrsctp_sysctl_set_sctp_max_chunks_on_queue(10 * 1024)
    }()

    private struct Table {
        var nextID: UInt = 1
        var live: [UInt: SCTPAssociation] = [:]
    }

    private static let table = NIOLockedValueBox(Table())

    /// A fresh id, never reused in this process (so a late callback for an old id finds nothing).
    static func allocateID() -> UInt {
        table.withLockedValue { table in
            defer { table.nextID += 1 }
            return table.nextID
        }
    }

    static func register(_ association: SCTPAssociation) {
        table.withLockedValue { $0.live[association.id] = association }
    }

    static func unregister(id: UInt) {
        table.withLockedValue { _ = $0.live.removeValue(forKey: id) }
    }

    static func association(for address: UnsafeMutableRawPointer?) -> SCTPAssociation? {
        guard let address else { return nil }
        let id = UInt(bitPattern: address)
        return table.withLockedValue { $0.live[id] }
    }

    /// The value usrsctp knows an association by (its sconn_addr and ulp_info).
    static func address(of id: UInt) -> UnsafeMutableRawPointer {
        // Ids start at 1, so the pointer is never null.
        UnsafeMutableRawPointer(bitPattern: id)!
    }
}

/// usrsctp's packet output (`conn_output`): an SCTP packet for the association at `address`.
/// Called on the thread of `usrsctp_conninput`/`usrsctp_sendv`/`usrsctp_close` (with usrsctp's
/// association lock held) or on usrsctp's timer thread (retransmissions, SACKs, heartbeats).
private func connOutput(address: UnsafeMutableRawPointer?, buffer: UnsafeMutableRawPointer?, length: Int,
                        tos: UInt8, setDF: UInt8) -> Int32 {
    guard let buffer, length > 0, let association = Usrsctp.association(for: address) else { return 0 }
    association.emit(packet: Array(UnsafeRawBufferPointer(start: buffer, count: length)))
    return 0
}

/// usrsctp's receive callback: data (or a notification, `MSG_NOTIFICATION`) for the association
/// whose id is `ulpInfo`; a whole message or notification when `MSG_EOR` is set, else a part.
/// usrsctp allocated `data` and leaves it to us to free. Called without usrsctp's association
/// lock held, so the owner may send from its event handler.
func receiveCallback(socket: OpaquePointer?, address: sctp_sockstore, data: UnsafeMutableRawPointer?,
                     length: Int, info: sctp_rcvinfo, flags: Int32, ulpInfo: UnsafeMutableRawPointer?) -> Int32 {
    defer { free(data) }
    // No data: the peer shut its side down; the association-change notification says so.
    guard let data, let association = Usrsctp.association(for: ulpInfo) else { return 1 }
    let bytes = UnsafeRawBufferPointer(start: data, count: length)
    let complete = flags & Int32(MSG_EOR) != 0
    if flags & MSG_NOTIFICATION != 0 {
        association.received(notificationPart: bytes, complete: complete)
    } else {
        association.received(dataPart: bytes, stream: info.rcv_sid, ppid: UInt32(bigEndian: info.rcv_ppid),
                             complete: complete)
    }
    return 1
}

/// usrsctp's send-space callback: after a SACK freed send buffer, `free` bytes are free.
func sendSpaceCallback(socket: OpaquePointer?, free: UInt32, ulpInfo: UnsafeMutableRawPointer?) -> Int32 {
    Usrsctp.association(for: ulpInfo)?.sendSpaceFreed(Int(free))
    return 0
}
