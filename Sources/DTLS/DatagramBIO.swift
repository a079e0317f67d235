import COpenSSL

/// Datagrams between a connection and OpenSSL. A memory BIO would run the records of a flight
/// together into one stream; this BIO keeps each write as one datagram and hands each received
/// datagram to OpenSSL as one read, as a UDP socket does.
final class DatagramQueues {
    /// Received datagrams OpenSSL has not read yet (one, normally: `receive` feeds one at a time).
    var incoming: [[UInt8]] = []
    /// Datagrams OpenSSL wrote, to be handed to the caller.
    var outgoing: [[UInt8]] = []

    func takeOutgoing() -> [[UInt8]] {
        defer { outgoing.removeAll(keepingCapacity: true) }
        return outgoing
    }
}

/// The BIO method, made once per process. `@unchecked Sendable`: the table is filled in once,
/// inside this initializer, and OpenSSL only reads it afterwards.
struct DatagramBIOMethod: @unchecked Sendable {
    let method: OpaquePointer

    /// nil only if OpenSSL could not allocate the table (connections then fail to set up).
    static let shared = DatagramBIOMethod()

    private init?() {
        let type = BIO_get_new_index() | BIO_TYPE_SOURCE_SINK
        guard let method = BIO_meth_new(type, "memofs datagrams") else { return nil }
        BIO_meth_set_create(method) { bio in
            BIO_set_init(bio, 1)
            return 1
        }
        BIO_meth_set_destroy(method) { bio in
            BIO_set_data(bio, nil)
            return 1
        }
        BIO_meth_set_write(method) { bio, data, length in
            guard let bio, let queues = DatagramBIOMethod.queues(of: bio), length >= 0 else { return -1 }
            memofs_BIO_clear_retry_flags(bio)
            queues.outgoing.append(data.map { [UInt8](UnsafeRawBufferPointer(start: $0, count: Int(length))) } ?? [])
            return length
        }
        BIO_meth_set_read(method) { bio, buffer, capacity in
            guard let bio, let queues = DatagramBIOMethod.queues(of: bio), let buffer else { return -1 }
            memofs_BIO_clear_retry_flags(bio)
            guard !queues.incoming.isEmpty else {
                // "Would block": OpenSSL returns SSL_ERROR_WANT_READ and waits for the next datagram.
                memofs_BIO_set_retry_read(bio)
                return -1
            }
            let datagram = queues.incoming.removeFirst()
            // Like recv on a UDP socket: what does not fit is lost. OpenSSL reads with a buffer
            // larger than any record, so this cuts only oversized garbage.
            let count = min(datagram.count, Int(capacity))
            datagram.withUnsafeBytes { bytes in
                UnsafeMutableRawPointer(buffer).copyMemory(from: bytes.baseAddress!, byteCount: count)
            }
            return Int32(count)
        }
        BIO_meth_set_ctrl(method) { _, command, _, _ in
            switch command {
            // Writes go out at once: nothing to flush, nothing pending.
            case BIO_CTRL_FLUSH: 1
            // The MTU is set on the SSL (SSL_OP_NO_QUERY_MTU); there is no socket to ask, and
            // no UDP/IP overhead to subtract: the MTU we are given is the datagram payload's.
            default: 0
            }
        }
        self.method = method
    }

    /// A new BIO over `queues`, which must outlive it (the connection owns both and frees the
    /// BIO, through SSL_free, first).
    func makeBIO(over queues: DatagramQueues) -> OpaquePointer? {
        guard let bio = BIO_new(method) else { return nil }
        BIO_set_data(bio, Unmanaged.passUnretained(queues).toOpaque())
        return bio
    }

    private static func queues(of bio: OpaquePointer) -> DatagramQueues? {
        guard let data = BIO_get_data(bio) else { return nil }
        return Unmanaged<DatagramQueues>.fromOpaque(data).takeUnretainedValue()
    }
}
