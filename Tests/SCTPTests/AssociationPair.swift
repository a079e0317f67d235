import NIOConcurrencyHelpers
import SCTP
#if canImport(Glibc)
import Glibc
#endif

/// What one association told its owner, in order.
final class EventLog: Sendable {
    private let events = NIOLockedValueBox<[SCTPEvent]>([])

    func append(_ event: SCTPEvent) { events.withLockedValue { $0.append(event) } }
    var all: [SCTPEvent] { events.withLockedValue { $0 } }
    var isConnected: Bool { all.contains(.connected) }
    var messages: [(stream: UInt16, ppid: UInt32, bytes: [UInt8])] {
        all.compactMap { event in
            if case .message(let stream, let ppid, let bytes) = event { (stream, ppid, bytes) } else { nil }
        }
    }
    var closeReason: SCTPCloseReason? {
        all.lazy.compactMap { event in if case .closed(let reason) = event { reason } else { nil } }.first
    }
}

/// The wire between two associations: each one's outgoing packets wait in a queue until the
/// test's thread feeds them to the other (never from inside usrsctp's output callback), and
/// every `dropEvery`-th packet is lost on the way.
final class Wire: Sendable {
    private struct Queues {
        var toA: [[UInt8]] = []
        var toB: [[UInt8]] = []
        var sent = 0
        var sentByA = 0
        var dropped = 0
        var largestPacket = 0
        var captured: [[UInt8]] = []
    }
    private let queues = NIOLockedValueBox(Queues())
    let dropEvery: Int?

    init(dropEvery: Int? = nil) { self.dropEvery = dropEvery }

    func carry(_ packet: [UInt8], toA: Bool) {
        queues.withLockedValue { queues in
            queues.sent += 1
            if !toA { queues.sentByA += 1 }
            queues.largestPacket = max(queues.largestPacket, packet.count)
            if queues.captured.count < 4 { queues.captured.append(packet) }
            if let dropEvery, queues.sent % dropEvery == 0 {
                queues.dropped += 1
                return
            }
            if toA { queues.toA.append(packet) } else { queues.toB.append(packet) }
        }
    }

    func take() -> (toA: [[UInt8]], toB: [[UInt8]]) {
        queues.withLockedValue { queues in
            defer { queues.toA = []; queues.toB = [] }
            return (queues.toA, queues.toB)
        }
    }

    var dropped: Int { queues.withLockedValue { $0.dropped } }
    var sentByA: Int { queues.withLockedValue { $0.sentByA } }
    var largestPacket: Int { queues.withLockedValue { $0.largestPacket } }
    /// The first packets that crossed (the INITs first).
    var captured: [[UInt8]] { queues.withLockedValue { $0.captured } }
}

/// Two associations in this process wired back to back, as two WebRTC peers over DTLS would be.
final class AssociationPair {
    let wire: Wire
    let a: SCTPAssociation
    let b: SCTPAssociation
    let eventsA = EventLog()
    let eventsB = EventLog()

    /// `onEventAtB` runs in B's event handler after the event is logged (on usrsctp's callback).
    init(dropEvery: Int? = nil, maxMessageSize: Int = SCTPAssociation.browserMaxMessageSize,
         maxIncomingMessageSizeAtB: Int = SCTPAssociation.browserMaxMessageSize,
         onEventAtB: @escaping @Sendable (SCTPEvent) -> Void = { _ in }) throws {
        let wire = Wire(dropEvery: dropEvery)
        let (eventsA, eventsB) = (eventsA, eventsB)
        self.wire = wire
        a = try SCTPAssociation(maxMessageSize: maxMessageSize,
                                send: { wire.carry($0, toA: false) }, events: { eventsA.append($0) })
        b = try SCTPAssociation(maxMessageSize: maxMessageSize, maxIncomingMessageSize: maxIncomingMessageSizeAtB,
                                send: { wire.carry($0, toA: true) },
                                events: { eventsB.append($0); onEventAtB($0) })
    }

    deinit {
        a.close()
        b.close()
    }

    /// Moves queued packets across once; whether any moved.
    @discardableResult
    func pumpOnce() -> Bool {
        let (toA, toB) = wire.take()
        for packet in toB { b.receive(packet: packet) }
        for packet in toA { a.receive(packet: packet) }
        return !toA.isEmpty || !toB.isEmpty
    }

    /// Pumps packets until `condition` holds or `timeout` passes; whether it held.
    func pump(timeout: Duration = .seconds(10), until condition: () -> Bool) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if condition() { return true }
            if !pumpOnce() { usleep(500) }
        }
        return condition()
    }

    func connect(timeout: Duration = .seconds(10)) -> Bool {
        pump(timeout: timeout) { eventsA.isConnected && eventsB.isConnected }
    }

    /// Sends `message`, pumping while the send buffer is full; false if it never fit in time.
    func send(_ message: [UInt8], from sender: SCTPAssociation, stream: UInt16, ppid: UInt32,
              timeout: Duration = .seconds(20)) throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while try sender.send(message, stream: stream, ppid: ppid) == .wouldBlock {
            guard ContinuousClock.now < deadline else { return false }
            if !pumpOnce() { usleep(500) }
        }
        return true
    }
}

/// Bytes that differ from message to message (so a swapped or truncated one shows).
func pattern(count: Int, seed: UInt8) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed)) }
}
