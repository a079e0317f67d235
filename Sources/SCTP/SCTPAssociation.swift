import CUsrsctp
import NIOConcurrencyHelpers
import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

/// One SCTP association over libusrsctp's AF_CONN mode: SCTP packets come in through
/// `receive(packet:)` and go out through the `send` closure, as byte arrays, so the owner can
/// carry them over DTLS (WebRTC data channels, RFC 8261). Both sides connect at once (RFC 8841
/// §9.3: a simultaneous open that SCTP resolves), so init connects right away.
///
/// Threading contract:
/// - usrsctp calls back on its own timer thread and, inside `receive(packet:)`, `send(…)` and
///   `close()`, on the caller's thread. The `send` closure (an outgoing packet) may run on any of
///   these, with usrsctp's lock for this association held: it must hand the packet on (encrypt and
///   write it, or queue it) and return, and never call into any `SCTPAssociation` synchronously
///   (a packet fed straight into another association's `receive` can deadlock two usrsctp locks).
///   Do not hold a lock of your own there that you also hold while calling into this type.
/// - The `events` closure runs mostly on the thread of `receive(packet:)` (messages, stream
///   resets, send space, connected), sometimes on usrsctp's timer thread (`.closed` when
///   retransmissions ran out, `.sendFailed`), always without usrsctp's lock: it may call
///   `send(…)` (answer a DCEP OPEN there) or `close()`.
/// - Call `receive(packet:)` from one thread at a time (one DTLS read loop): messages are
///   delivered in the order packets are processed. `send(…)` may be called from any thread.
/// - `close()` aborts the association; the ABORT goes out through `send` before `close()`
///   returns, and after it returns neither closure runs again (it waits for callbacks running on
///   other threads to finish, so do not call it while holding a lock your closures take).
/// - An association lives until `close()`: usrsctp's table keeps it, so close every one.
public final class SCTPAssociation: Sendable {
    /// The SCTP port WebRTC data channels use on both sides (RFC 8841's default `a=sctp-port`).
    public static let webRTCPort: UInt16 = 5000
    /// Browsers' `a=max-message-size` (Chromium and Firefox advertise 256 KiB).
    public static let browserMaxMessageSize = 256 * 1024
    /// usrsctp's send and receive buffers, in bytes: its 256 KiB default would hold one largest
    /// message and stall a fast sender on the SACK round trip (Firefox and libdatachannel use 1 MiB).
    public static let bufferSize = 1024 * 1024
    /// The largest SCTP packet usrsctp sends. usrsctp does not probe the path MTU, and RFC 8261
    /// §5 then recommends a safe size of at most 1200 bytes; 1195 is what still fits IPv6's
    /// minimum 1280-byte MTU under 40 bytes of IPv6, 8 of UDP and 37 of a DTLS 1.2 AES-GCM
    /// record (13 header, 8 nonce, 16 tag), as libdatachannel computes it.
    public static let packetSize = 1195
    /// Streams negotiated each way; a WebTorrent peer opens one channel, browsers number from 0.
    public static let streamCount: UInt16 = 1024

    /// The largest message `send` takes: the peer's `a=max-message-size` (RFC 8841 §6: 64 KiB
    /// when its SDP has none), at most `bufferSize` (usrsctp's non-blocking sockets take a message
    /// whole or not at all, so one larger than the send buffer could never go; Firefox advertises
    /// about 1 GiB).
    public let maxMessageSize: Int
    /// The largest incoming message kept (what our SDP advertises as `a=max-message-size`); a
    /// larger one is dropped whole and counted in `droppedMessages`.
    public let maxIncomingMessageSize: Int
    let id: UInt
    private let socket: UsrsctpSocket
    private let output: @Sendable ([UInt8]) -> Void
    private let events: @Sendable (SCTPEvent) -> Void
    private let state = NIOLockedValueBox(State())

    private struct State {
        var phase = Phase.open
        /// Threads inside the owner's closures right now (one entry per call), for `close()`.
        var inCallback: [pthread_t] = []
        /// Parts of a message not yet ended by MSG_EOR, per stream (with frag_interleave 2,
        /// parts of different streams' messages can alternate).
        var partialMessages: [UInt16: [UInt8]] = [:]
        /// Streams whose current message grew past `maxIncomingMessageSize`: the rest is dropped.
        var droppingStreams: Set<UInt16> = []
        var droppedMessages = 0
        var partialNotification: [UInt8] = []
        /// Size of the message last refused with `.wouldBlock`, until `.sendSpaceAvailable`.
        var waitingForSpace: Int?
        /// Send buffer free at the last SACK (usrsctp's figure), and bytes accepted since.
        var sendBufferFreeAtLastSACK = SCTPAssociation.bufferSize
        var acceptedSinceLastSACK = 0
    }

    private enum Phase {
        case open
        /// `close()` is under way: the ABORT may still go out, no event reaches the owner.
        case closing
        case closed
    }

    /// Opens the association and sends its INIT (through `send`, before init returns).
    /// - Parameters:
    ///   - send: called with each outgoing SCTP packet (see the threading contract on the type).
    ///   - events: called with what happens on the association.
    public init(localPort: UInt16 = webRTCPort, remotePort: UInt16 = webRTCPort,
                maxMessageSize: Int = browserMaxMessageSize, maxIncomingMessageSize: Int = browserMaxMessageSize,
                send: @escaping @Sendable ([UInt8]) -> Void,
                events: @escaping @Sendable (SCTPEvent) -> Void) throws(SCTPError) {
        guard maxMessageSize > 0 else { throw .invalidMaxMessageSize(maxMessageSize) }
        guard maxIncomingMessageSize > 0 else { throw .invalidMaxMessageSize(maxIncomingMessageSize) }
        Usrsctp.initialized
        let id = Usrsctp.allocateID()
        let address = Usrsctp.address(of: id)
        usrsctp_register_address(address)
        guard let socket = usrsctp_socket(AF_CONN, Int32(SOCK_STREAM.rawValue), Int32(IPPROTO_SCTP),
                                          receiveCallback, sendSpaceCallback, 1, address) else {
            let error = SCTPError.system(call: "usrsctp_socket", errno: Errno(rawValue: Glibc.errno))
            usrsctp_deregister_address(address)
            throw error
        }
        self.id = id
        self.socket = UsrsctpSocket(pointer: socket)
        self.maxMessageSize = min(maxMessageSize, Self.bufferSize)
        self.maxIncomingMessageSize = maxIncomingMessageSize
        self.output = send
        self.events = events
        Usrsctp.register(self)
        do {
            try self.socket.configure()
            try self.socket.bindAndConnect(address: address, localPort: localPort, remotePort: remotePort)
        } catch {
            close()
            throw error
        }
    }

    /// Feeds one SCTP packet from the peer (a decrypted DTLS record) to usrsctp. Anything that is
    /// not a valid SCTP packet for this association is dropped by usrsctp (checksum, tags).
    public func receive(packet: [UInt8]) {
        guard !packet.isEmpty, state.withLockedValue({ $0.phase == .open }) else { return }
        packet.withUnsafeBytes { bytes in
            usrsctp_conninput(Usrsctp.address(of: id), bytes.baseAddress, bytes.count, 0)
        }
    }

    /// Queues one message on `stream` with payload protocol identifier `ppid`. A message is sent
    /// whole (SCTP_EOR) or not at all: `.wouldBlock` when the send buffer cannot take it now
    /// (keep it, and send it again on `.sendSpaceAvailable`).
    public func send(_ message: [UInt8], stream: UInt16, ppid: UInt32, ordered: Bool = true) throws(SCTPError) -> SCTPSendResult {
        guard !message.isEmpty else { throw .emptyMessage }
        guard message.count <= maxMessageSize else {
            throw .messageTooLarge(size: message.count, limit: maxMessageSize)
        }
        // Waiting is armed before the call, so a SACK that frees space while usrsctp refuses
        // the message cannot slip between the refusal and the arming (at worst one extra
        // `.sendSpaceAvailable`).
        let open = state.withLockedValue { state in
            guard state.phase == .open else { return false }
            state.waitingForSpace = message.count
            return true
        }
        guard open else { throw .closed }
        var info = sctp_sendv_spa()
        info.sendv_flags = UInt32(SCTP_SEND_SNDINFO_VALID)
        info.sendv_sndinfo.snd_sid = stream
        info.sendv_sndinfo.snd_ppid = ppid.bigEndian
        info.sendv_sndinfo.snd_flags = UInt16(SCTP_EOR) | (ordered ? 0 : UInt16(SCTP_UNORDERED))
        let result = message.withUnsafeBytes { bytes in
            usrsctp_sendv(socket.pointer, bytes.baseAddress, bytes.count, nil, 0, &info,
                          socklen_t(MemoryLayout<sctp_sendv_spa>.size), UInt32(SCTP_SENDV_SPA), 0)
        }
        let errno = Glibc.errno
        if result >= 0 {
            state.withLockedValue { state in
                state.waitingForSpace = nil
                state.acceptedSinceLastSACK += message.count
            }
            return .sent
        }
        if errno == EAGAIN || errno == EWOULDBLOCK { return .wouldBlock }
        state.withLockedValue { $0.waitingForSpace = nil }
        throw .system(call: "usrsctp_sendv", errno: Errno(rawValue: errno))
    }

    /// Asks the peer to reset these outgoing streams (RFC 6525): how a WebRTC side closes a data
    /// channel. The peer sees `.streamReset` for them.
    public func resetOutgoing(streams: [UInt16]) throws(SCTPError) {
        guard !streams.isEmpty else { return }
        guard state.withLockedValue({ $0.phase == .open }) else { throw .closed }
        try socket.resetOutgoing(streams: streams)
    }

    /// Bytes of messages usrsctp has taken but the peer has not yet acknowledged (what a data
    /// channel's `bufferedAmount` counts below the owner's own queue).
    ///
    /// Counted here rather than asked of usrsctp, which has no public call for it: usrsctp reports
    /// the free send buffer with every SACK (the send-space callback), and the bytes accepted by
    /// `send` since that report are added. Exact after each SACK; in between it may count a
    /// message twice or late for one round trip, never drift.
    public var bufferedAmount: Int {
        state.withLockedValue { state in
            max(0, Self.bufferSize - state.sendBufferFreeAtLastSACK + state.acceptedSinceLastSACK)
        }
    }

    /// Incoming messages dropped because they grew past `maxIncomingMessageSize`.
    public var droppedMessages: Int {
        state.withLockedValue { $0.droppedMessages }
    }

    /// Aborts the association (an ABORT goes out through `send` before this returns) and frees
    /// its usrsctp socket. Afterwards neither closure is called again; calling it twice is fine.
    public func close() {
        let first = state.withLockedValue { state in
            guard state.phase == .open else { return false }
            state.phase = .closing
            return true
        }
        guard first else { return }
        // The ABORT is sent explicitly: usrsctp_close alone (SO_LINGER 0) aborts only when no
        // callback of this association is running, so a close from an event handler would
        // leave the peer waiting for heartbeats to fail. Then deregistering makes usrsctp stop
        // matching incoming packets to this address, and usrsctp_close frees the socket. Late
        // timer callbacks carrying this id find no association once it leaves the table below.
        socket.abort()
        usrsctp_deregister_address(Usrsctp.address(of: id))
        usrsctp_close(socket.pointer)
        state.withLockedValue { state in
            state.phase = .closed
            state.partialMessages = [:]
            state.partialNotification = []
        }
        Usrsctp.unregister(id: id)
        waitForCallbacksOnOtherThreads()
    }

    /// Waits until no other thread is inside one of the owner's closures for this association
    /// (this thread may be: `close()` called from an event handler).
    private func waitForCallbacksOnOtherThreads() {
        let me = pthread_self()
        while state.withLockedValue({ $0.inCallback.contains { pthread_equal($0, me) == 0 } }) {
            usleep(200)
        }
    }

    // MARK: Called by usrsctp's callbacks

    /// An outgoing packet, from `conn_output`.
    func emit(packet: [UInt8]) {
        callOwner(allowWhileClosing: true) { output(packet) }
    }

    func received(dataPart bytes: UnsafeRawBufferPointer, stream: UInt16, ppid: UInt32, complete: Bool) {
        let limit = maxIncomingMessageSize
        let message: [UInt8]? = state.withLockedValue { state in
            guard state.phase == .open else { return nil }
            if state.droppingStreams.contains(stream) {
                if complete { state.droppingStreams.remove(stream) }
                return nil
            }
            var buffer = state.partialMessages.removeValue(forKey: stream) ?? []
            guard buffer.count + bytes.count <= limit else {
                state.droppedMessages += 1
                if !complete { state.droppingStreams.insert(stream) }
                return nil
            }
            buffer.append(contentsOf: bytes)
            guard complete else {
                state.partialMessages[stream] = buffer
                return nil
            }
            return buffer
        }
        if let message { deliver(.message(stream: stream, ppid: ppid, bytes: message)) }
    }

    func received(notificationPart bytes: UnsafeRawBufferPointer, complete: Bool) {
        let notification: [UInt8]? = state.withLockedValue { state in
            guard state.phase == .open else { return nil }
            state.partialNotification.append(contentsOf: bytes)
            guard complete else { return nil }
            defer { state.partialNotification = [] }
            return state.partialNotification
        }
        if let notification, let event = SCTPNotification.event(from: notification) { deliver(event) }
    }

    func sendSpaceFreed(_ free: Int) {
        let wake = state.withLockedValue { state in
            state.sendBufferFreeAtLastSACK = free
            state.acceptedSinceLastSACK = 0
            guard state.phase == .open, let waiting = state.waitingForSpace, free >= waiting else { return false }
            state.waitingForSpace = nil
            return true
        }
        if wake { deliver(.sendSpaceAvailable) }
    }

    private func deliver(_ event: SCTPEvent) {
        callOwner(allowWhileClosing: false) { events(event) }
    }

    /// Runs one of the owner's closures unless the association is closed, recording this thread
    /// as inside it so `close()` can wait for it; never with a lock held.
    private func callOwner(allowWhileClosing: Bool, _ body: () -> Void) {
        let me = pthread_self()
        let admitted = state.withLockedValue { state in
            switch state.phase {
            case .open: break
            case .closing where allowWhileClosing: break
            case .closing, .closed: return false
            }
            state.inCallback.append(me)
            return true
        }
        guard admitted else { return }
        body()
        state.withLockedValue { state in
            if let index = state.inCallback.firstIndex(where: { pthread_equal($0, me) != 0 }) {
                state.inCallback.remove(at: index)
            }
        }
    }
}
