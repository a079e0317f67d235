import Discovery

/// A UDP tracker's datagram (BEP 15). The first byte picks the address family the tracker was
/// reached over (even: IPv4, 6-byte peers; odd: IPv6, 18-byte peers); the rest is the datagram.
let udpTrackerResponseTarget = FuzzTarget(name: "udp-tracker") { bytes in
    var input = FuzzInput(bytes)
    let peerAddressLength = input.byte() & 1 == 0 ? 6 : 18
    let datagram = Array(input.rest)
    guard let response = try? UDPTrackerResponse(decoding: datagram, peerAddressLength: peerAddressLength) else { return }
    if case .announce(_, _, _, _, let peers) = response {
        require(peers.count <= AnnounceResponse.maxPeers, "\(peers.count) peers")
        require(Set(peers).count == peers.count, "a peer listed twice")
        require(!peers.contains { $0.port == 0 }, "a peer on port 0")
    }
}
