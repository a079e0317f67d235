import DTLS
import Testing

/// Figures for the report (printed), with the checks that make them mean something.
@Suite struct FigureTests {
    @Test func handshakeTimeAndRecordThroughput() throws {
        let clock = ContinuousClock()
        let handshakes = 20
        var links: [DatagramLink] = []
        let handshakeTime = try clock.measure {
            for _ in 0..<handshakes {
                let link = try DatagramLink()
                link.handshake()
                links.append(link)
            }
        }
        #expect(links.allSatisfy { $0.clientSaw.handshakeCompleted && $0.serverSaw.handshakeCompleted })

        let link = links[0]
        let record = bytes(count: 1200, seed: 7)
        let count = 10_000
        var received = 0
        let transferTime = try clock.measure {
            for _ in 0..<count {
                for datagram in try link.client.send(applicationData: record) {
                    let output = link.server.receive(datagram: datagram)
                    received += output.applicationData.reduce(0) { $0 + ($1 == record ? 1 : 0) }
                }
            }
        }
        #expect(received == count)
        let seconds = Double(transferTime.components.seconds) + Double(transferTime.components.attoseconds) / 1e18
        let perHandshake = handshakeTime / handshakes
        print("DTLS figures: handshake (two certificates made, both sides, in process) \(perHandshake) each; "
              + "\(count) records of 1200 B sent and received in \(transferTime): "
              + "\(Int(Double(count) / seconds)) records/s, \(Int(Double(count * 1200) / seconds / 1e6)) MB/s")
    }
}
