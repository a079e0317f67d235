/// The one data channel of a WebTorrent peer connection, on top of its SCTP association:
/// opened by the offerer with DCEP, accepted by the answerer, and from then on a byte stream
/// (the BitTorrent peer wire) cut into binary messages and joined back.
///
/// Pure: SCTP messages in, actions out. The socket side sends what it is told and hands
/// the bytes up. A peer connection carries exactly one channel; a second OPEN is refused by
/// resetting its stream, and anything on a stream that is not the channel's is ignored.
public struct DataChannelEndpoint: Sendable {
    public enum Role: Sendable, Equatable {
        /// The offerer opens the channel with this label (WebTorrent: 40 hex characters).
        case opener(label: String)
        /// The answerer takes the channel the offerer opens.
        case acceptor
    }

    public enum Action: Sendable, Equatable {
        case send(stream: UInt16, ppid: PayloadProtocolIdentifier, bytes: [UInt8])
        /// Close a stream the remote opened that we do not want (RFC 8831 §6.7: by resetting it).
        case resetStream(UInt16)
        /// The channel is open both ways: each side now sends its BitTorrent handshake.
        case opened
        /// Bytes of the stream, in order.
        case received([UInt8])
        /// The remote broke DCEP; the connection cannot be trusted.
        case failed(DataChannelFailure)
    }

    public private(set) var role: Role
    /// The stream of the channel, once opened or accepted.
    public private(set) var stream: UInt16?
    public private(set) var isOpen = false
    /// The size of the binary messages `send(_:)` cuts the stream into: no larger than the
    /// remote accepts (its `a=max-message-size`), and small enough that one message does not
    /// hold the association for long.
    public let messageSize: Int

    /// The largest message cut from the stream, whatever the remote accepts.
    public static let preferredMessageSize = 64 * 1024

    /// `isDTLSClient`: RFC 8832 §6 gives the DTLS client even stream ids and the server odd
    /// ones, so both sides can open channels without colliding. `remoteMaxMessageSize`: from
    /// the remote's SDP; 0 there means no limit.
    public init(role: Role, isDTLSClient: Bool, remoteMaxMessageSize: Int) {
        self.role = role
        let limit = remoteMaxMessageSize > 0 ? remoteMaxMessageSize : Self.preferredMessageSize
        messageSize = max(1, min(Self.preferredMessageSize, limit))
        if case .opener = role { stream = isDTLSClient ? 0 : 1 }
    }

    /// The association is up: the opener sends OPEN (and waits for ACK before saying `opened`).
    public mutating func associationEstablished() throws -> [Action] {
        guard case .opener(let label) = role, let stream else { return [] }
        let open = try DataChannelMessage.open(.webTorrent(label: label)).encoded()
        return [.send(stream: stream, ppid: .dcep, bytes: open)]
    }

    /// One message from the association.
    public mutating func receive(stream received: UInt16, ppid rawPPID: UInt32, bytes: [UInt8]) -> [Action] {
        guard let ppid = PayloadProtocolIdentifier(rawValue: rawPPID) else {
            // Deprecated and unknown PPIDs (partial string/binary, 52 and 54) carry nothing we use.
            return received == stream && isOpen ? [.failed(.unexpectedPayload(ppid: rawPPID))] : []
        }
        if ppid == .dcep { return receiveDCEP(stream: received, bytes: bytes) }
        guard received == stream, isOpen else { return [] }
        switch ppid {
        case .binary, .string: return bytes.isEmpty ? [] : [.received(bytes)]
        case .emptyBinary, .emptyString: return []
        case .dcep: return []
        }
    }

    private mutating func receiveDCEP(stream received: UInt16, bytes: [UInt8]) -> [Action] {
        let message: DataChannelMessage
        do {
            message = try DataChannelMessage(decoding: bytes)
        } catch let error as DCEPError {
            return [.failed(.malformed(error))]
        } catch {
            return [.failed(.unexpectedPayload(ppid: PayloadProtocolIdentifier.dcep.rawValue))]
        }
        switch (message, role) {
        case (.ack, .opener):
            guard received == stream, !isOpen else { return [] }
            isOpen = true
            return [.opened]
        case (.open(let open), .acceptor):
            guard stream == nil else { return received == stream ? [] : [.resetStream(received)] }
            guard open.channelType == .reliable else {
                return [.resetStream(received), .failed(.notReliableAndOrdered(open.channelType))]
            }
            stream = received
            isOpen = true
            return [.send(stream: received, ppid: .dcep, bytes: (try? DataChannelMessage.ack.encoded()) ?? [0x02]), .opened]
        case (.open, .opener):
            // Both sides opened: the remote should have answered ours; theirs is not wanted.
            return [.resetStream(received)]
        case (.ack, .acceptor):
            return []
        }
    }

    /// The stream's next bytes, as binary messages of at most `messageSize`.
    public func send(_ bytes: [UInt8]) -> [Action] {
        guard let stream, isOpen, !bytes.isEmpty else { return [] }
        // Most writes (a message, a block with its header) fit one message: sent as they are.
        if bytes.count <= messageSize { return [.send(stream: stream, ppid: .binary, bytes: bytes)] }
        return stride(from: 0, to: bytes.count, by: messageSize).map { start in
            .send(stream: stream, ppid: .binary, bytes: Array(bytes[start..<min(start + messageSize, bytes.count)]))
        }
    }

    /// The remote reset the channel's stream: the channel is closed.
    public mutating func streamReset(_ streams: [UInt16]) -> Bool {
        guard let stream, streams.contains(stream) else { return false }
        isOpen = false
        return true
    }
}

/// Why a data channel was given up.
public enum DataChannelFailure: Error, Equatable, Sendable, CustomStringConvertible {
    case malformed(DCEPError)
    case unexpectedPayload(ppid: UInt32)
    case notReliableAndOrdered(DataChannelType)

    public var description: String {
        switch self {
        case .malformed(let error): "\(error)"
        case .unexpectedPayload(let ppid): "a message with payload protocol \(ppid), which a data channel does not carry"
        case .notReliableAndOrdered(let type): "the remote opened a \(type) channel; the peer wire needs an ordered, reliable one"
        }
    }
}
