import DTLS
import WebRTCProtocol

/// Two connections joined by an in-process "network" that carries datagrams between them in
/// rounds, with a hook to drop some, and a record of what each side saw.
final class DatagramLink {
    struct Seen {
        var handshakeCompleted = false
        var applicationData: [[UInt8]] = []
        var closed = false
        var failure: DTLSError?
        var datagramSizes: [Int] = []
    }

    enum Side { case client, server }

    let client: DTLSConnection
    let server: DTLSConnection
    var toClient: [[UInt8]] = []
    var toServer: [[UInt8]] = []
    var clientSaw = Seen()
    var serverSaw = Seen()
    /// Return true to lose a datagram on its way to `Side` (called for each, in order).
    var drop: (Side, [UInt8]) -> Bool = { _, _ in false }

    init(client: DTLSConnection, server: DTLSConnection) {
        self.client = client
        self.server = server
    }

    /// A client and a server with fresh certificates, each expecting the other's fingerprint
    /// unless told otherwise.
    convenience init(mtu: Int = 1200, initialTimeout: Duration = .seconds(1),
                     clientExpects: DTLSFingerprint? = nil, serverExpects: DTLSFingerprint? = nil) throws {
        let clientCertificate = try DTLSCertificate()
        let serverCertificate = try DTLSCertificate()
        self.init(
            client: try DTLSConnection(role: .client, certificate: clientCertificate,
                                       expectedRemoteFingerprint: clientExpects ?? serverCertificate.fingerprint,
                                       mtu: mtu, initialRetransmissionTimeout: initialTimeout),
            server: try DTLSConnection(role: .server, certificate: serverCertificate,
                                       expectedRemoteFingerprint: serverExpects ?? clientCertificate.fingerprint,
                                       mtu: mtu, initialRetransmissionTimeout: initialTimeout))
    }

    func absorb(_ output: DTLSOutput, from side: Side) {
        var seen = side == .client ? clientSaw : serverSaw
        if output.handshakeCompleted { seen.handshakeCompleted = true }
        seen.applicationData += output.applicationData
        if output.closed { seen.closed = true }
        if let failure = output.failure { seen.failure = failure }
        seen.datagramSizes += output.datagrams.map(\.count)
        if side == .client {
            clientSaw = seen
            toServer += output.datagrams
        } else {
            serverSaw = seen
            toClient += output.datagrams
        }
    }

    /// Carries datagrams both ways until none are left (or `rounds` pass).
    func run(rounds: Int = 50) {
        for _ in 0..<rounds where !toClient.isEmpty || !toServer.isEmpty {
            let forServer = toServer
            toServer = []
            for datagram in forServer where !drop(.server, datagram) {
                absorb(server.receive(datagram: datagram), from: .server)
            }
            let forClient = toClient
            toClient = []
            for datagram in forClient where !drop(.client, datagram) {
                absorb(client.receive(datagram: datagram), from: .client)
            }
        }
    }

    /// Drives both timers until both sides complete or 5 s pass.
    func recoverWithTimers() async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(5)
        while !(clientSaw.handshakeCompleted && serverSaw.handshakeCompleted) && clock.now < deadline {
            let now = clock.now
            guard let wake = [client.nextTimeout(now: now), server.nextTimeout(now: now)].compactMap({ $0 }).min()
            else { break }
            try await Task.sleep(until: wake, clock: clock)
            absorb(client.handleTimeout(), from: .client)
            absorb(server.handleTimeout(), from: .server)
            run()
        }
    }

    func handshake() {
        absorb(client.start(), from: .client)
        run()
    }

    /// Sends each message as one record from `side` and delivers it.
    func send(_ messages: [[UInt8]], from side: Side) throws {
        let sender = side == .client ? client : server
        for message in messages {
            let datagrams = try sender.send(applicationData: message)
            if side == .client { toServer += datagrams } else { toClient += datagrams }
        }
        run()
    }
}

/// SplitMix64, so the garbage is the same on every run.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func bytes(count: Int, seed: UInt64) -> [UInt8] {
    var generator = SeededGenerator(state: seed)
    return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
}
