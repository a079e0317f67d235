import DTLS
import Testing

/// The last flight (the server's ChangeCipherSpec and Finished) is the one no timer of the
/// server's covers: the client's timer resends its own flight, and the server answers it.
@Suite struct LossAndReorderTests {
    @Test func aLostFinalFlightIsRecovered() async throws {
        let link = try DatagramLink(initialTimeout: .milliseconds(100))
        var lost = 0
        link.drop = { [unowned link] to, _ in
            // Everything the server sends once it has finished, the first time round.
            guard to == .client, link.serverSaw.handshakeCompleted, lost < 100, !link.clientSaw.handshakeCompleted else { return false }
            lost += 1
            return true
        }
        link.handshake()
        #expect(lost > 0)
        #expect(link.serverSaw.handshakeCompleted && !link.clientSaw.handshakeCompleted)
        lost = 100
        try await link.recoverWithTimers()
        #expect(link.clientSaw.handshakeCompleted)
        #expect(link.clientSaw.failure == nil && link.serverSaw.failure == nil)
        try link.send([[7, 7]], from: .client)
        #expect(link.serverSaw.applicationData == [[7, 7]])
    }

    /// The server may send data as soon as it has sent its Finished; if that record overtakes
    /// the Finished, the client keeps it (a record of the next epoch is buffered) and hands it
    /// over when the handshake completes.
    @Test func dataOvertakingTheServersFinishedIsKept() throws {
        let link = try DatagramLink()
        var held: [[UInt8]] = []
        link.drop = { [unowned link] to, datagram in
            guard to == .client, link.serverSaw.handshakeCompleted, !link.clientSaw.handshakeCompleted else { return false }
            held.append(datagram)
            return true
        }
        link.handshake()
        #expect(!held.isEmpty && !link.clientSaw.handshakeCompleted)
        link.drop = { _, _ in false }
        let early = try link.server.send(applicationData: [1, 2, 3])
        for datagram in early + held { link.absorb(link.client.receive(datagram: datagram), from: .client) }
        link.run()
        #expect(link.clientSaw.handshakeCompleted)
        #expect(link.clientSaw.applicationData == [[1, 2, 3]])
    }
}
