import CUsrsctp

/// usrsctp's notifications (`union sctp_notification`, RFC 6458 §6.1), read into the events the
/// owner sees. Each is checked against its length before a field is read.
enum SCTPNotification {
    static func event(from bytes: [UInt8]) -> SCTPEvent? {
        bytes.withUnsafeBytes { raw -> SCTPEvent? in
            guard raw.count >= MemoryLayout<sctp_tlv>.size else { return nil }
            let header = raw.loadUnaligned(as: sctp_tlv.self)
            switch Int32(header.sn_type) {
            case SCTP_ASSOC_CHANGE:
                guard raw.count >= MemoryLayout<sctp_assoc_change>.size else { return nil }
                let change = raw.loadUnaligned(as: sctp_assoc_change.self)
                return associationChange(state: Int32(change.sac_state), error: change.sac_error)
            case SCTP_STREAM_RESET_EVENT:
                let listOffset = MemoryLayout<sctp_stream_reset_event>.size
                guard raw.count >= listOffset else { return nil }
                let reset = raw.loadUnaligned(as: sctp_stream_reset_event.self)
                let flags = Int32(reset.strreset_flags)
                // Only the peer's resets of its outgoing (our incoming) streams close channels.
                guard flags & SCTP_STREAM_RESET_INCOMING_SSN != 0,
                      flags & (SCTP_STREAM_RESET_DENIED | SCTP_STREAM_RESET_FAILED) == 0 else { return nil }
                let end = min(raw.count, Int(reset.strreset_length))
                let streams = stride(from: listOffset, to: end - 1, by: 2).map {
                    raw.loadUnaligned(fromByteOffset: $0, as: UInt16.self)
                }
                return .streamReset(streams: streams)
            case SCTP_SEND_FAILED_EVENT:
                guard raw.count >= MemoryLayout<sctp_send_failed_event>.size else { return nil }
                let failed = raw.loadUnaligned(as: sctp_send_failed_event.self)
                return .sendFailed(stream: failed.ssfe_info.snd_sid, ppid: UInt32(bigEndian: failed.ssfe_info.snd_ppid))
            default:
                return nil
            }
        }
    }

    private static func associationChange(state: Int32, error: UInt16) -> SCTPEvent? {
        switch state {
        case SCTP_COMM_UP: .connected
        case SCTP_COMM_LOST: .closed(.lost(errorCause: error))
        case SCTP_SHUTDOWN_COMP: .closed(.shutdown)
        case SCTP_CANT_STR_ASSOC: .closed(.cannotStart)
        default: nil // SCTP_RESTART: the peer restarted; the association goes on.
        }
    }
}
