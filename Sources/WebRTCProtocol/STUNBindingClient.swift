/// Asks a STUN server what address it sees us at (a server-reflexive candidate, RFC 8445 §5.1.1.2):
/// one Binding request without credentials from `base`, retransmitted as `retransmission` says,
/// answered by XOR-MAPPED-ADDRESS (or the old MAPPED-ADDRESS). Pure: the socket side sends, feeds
/// responses in, and calls ``tick(now:)`` at ``nextDeadline``.
public struct STUNBindingClient: Sendable {
    public enum Action: Equatable, Sendable {
        case send([UInt8], from: ICETransportAddress, to: ICETransportAddress)
        /// The server saw us at this address: make ``ICELocalCandidate/serverReflexive(mapped:base:localPreference:)``.
        case mapped(ICETransportAddress)
        /// No usable answer: the reason, for the log. The client is finished.
        case failed(String)
        /// Input that was not acted on, and why, for the log.
        case ignored(String)
    }

    public let server: ICETransportAddress
    public let base: ICETransportAddress
    public let transactionID: STUNTransactionID
    public let retransmission: STUNRetransmission
    private var request: [UInt8] = []
    private var attempts = 0
    private var deadline: ContinuousClock.Instant?
    public private(set) var isFinished = false

    /// `transactionID` from the system's generator in production (`STUNTransactionID(using:)`).
    public init(server: ICETransportAddress, base: ICETransportAddress, transactionID: STUNTransactionID,
                retransmission: STUNRetransmission = .init(initialRTO: .milliseconds(250), attempts: 5, finalWaitMultiplier: 8)) {
        self.server = server
        self.base = base
        self.transactionID = transactionID
        self.retransmission = retransmission
    }

    public var nextDeadline: ContinuousClock.Instant? { isFinished ? nil : deadline }

    public mutating func start(now: ContinuousClock.Instant) -> [Action] {
        guard attempts == 0, !isFinished else { return [] }
        // A plain request: a server cannot know our credentials, and FINGERPRINT lets it tell STUN
        // from other traffic on a shared port.
        guard let bytes = try? STUNMessage(.request, transactionID: transactionID).encoded() else {
            return finish("Binding request could not be encoded")
        }
        request = bytes
        attempts = 1
        deadline = now + retransmission.wait(afterAttempt: 1)
        return [.send(request, from: base, to: server)]
    }

    public mutating func tick(now: ContinuousClock.Instant) -> [Action] {
        guard !isFinished, let deadline, now >= deadline else { return [] }
        guard attempts < retransmission.attempts else {
            return finish("no answer from STUN server \(server) after \(attempts) Binding requests")
        }
        attempts += 1
        self.deadline = now + retransmission.wait(afterAttempt: attempts)
        return [.send(request, from: base, to: server)]
    }

    /// A datagram that arrived on `base`'s socket from `source`.
    public mutating func receive(_ datagram: [UInt8], from source: ICETransportAddress, now: ContinuousClock.Instant) -> [Action] {
        guard !isFinished, attempts > 0 else { return [.ignored("STUN from \(source) while no request is out")] }
        guard source == server else { return [.ignored("STUN from \(source), not the server \(server)")] }
        let message: STUNMessage
        do {
            message = try STUNMessage(decoding: datagram)
        } catch {
            return [.ignored("from \(source): \(error)")]
        }
        guard message.transactionID == transactionID, message.method == STUNMessage.bindingMethod else {
            return [.ignored("STUN from \(source) is not the answer to our Binding request")]
        }
        switch message.messageClass {
        case .successResponse:
            guard let mapped = message.xorMappedAddress ?? message.mappedAddress else {
                return finish("STUN server \(server) answered without (XOR-)MAPPED-ADDRESS")
            }
            isFinished = true
            return [.mapped(mapped)]
        case .errorResponse:
            let (code, reason) = message.errorCode ?? (0, "no ERROR-CODE")
            return finish("STUN server \(server) answered \(code) \(reason)")
        case .request, .indication:
            return [.ignored("STUN \(message.messageClass) from \(source) is not a response")]
        }
    }

    private mutating func finish(_ reason: String) -> [Action] {
        isFinished = true
        return [.failed(reason)]
    }
}
