import Discovery

/// An HTTP tracker's announce reply body (bencoded, compact or dictionary peers). What parses
/// keeps the limits the engine relies on.
let httpTrackerResponseTarget = FuzzTarget(name: "http-tracker") { bytes in
    guard let response = try? HTTPTracker.parseAnnounceResponse(bytes) else { return }
    checkAnnounce(response)
}

/// What every tracker reply promises once decoded (``AnnounceResponse``): bounded peers, none
/// twice, none on port 0, an interval within the accepted range.
func checkAnnounce(_ response: AnnounceResponse) {
    require(response.peers.count <= AnnounceResponse.maxPeers, "\(response.peers.count) peers")
    require(Set(response.peers).count == response.peers.count, "a peer listed twice")
    require(!response.peers.contains { $0.port == 0 }, "a peer on port 0")
    require(AnnounceResponse.acceptedIntervals.contains(response.interval), "interval \(response.interval)")
    if let minInterval = response.minInterval {
        require(AnnounceResponse.acceptedIntervals.contains(minInterval), "min interval \(minInterval)")
    }
}
