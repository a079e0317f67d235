@testable import Engine
import Testing

/// How many requests memofs keeps in flight to a peer, from the `reqq` it advertised.
struct RequestLimitTests {
    /// Transmission 3.00 advertises reqq 512 but rejects the request that would be its 512th
    /// pending one, and sends that reject up to 10 s late: 511 in flight at most.
    @Test func staysOneBelowTheAdvertisedQueue() {
        #expect(PeerState.requestLimit(reqq: 512) == 511)
        #expect(PeerState.requestLimit(reqq: 250) == 249)
        #expect(PeerState.requestLimit(reqq: 2) == 1)
    }

    @Test func keepsOneRequestForATinyQueue() {
        #expect(PeerState.requestLimit(reqq: 1) == 1)
    }

    @Test func defaultsTo250AndNeverExceeds1000() {
        #expect(PeerState.requestLimit(reqq: nil) == 250)
        #expect(PeerState.requestLimit(reqq: 5000) == 1000)
    }
}
