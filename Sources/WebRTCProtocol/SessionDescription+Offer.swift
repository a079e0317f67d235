extension SessionDescription {
    /// Our offer, for a WebSocket tracker to relay to a peer, non-trickle like a browser's: every
    /// candidate is in it, and it leaves the DTLS role to the answerer (`actpass`; a browser
    /// answers `active`). Written as Chromium writes its own, so a WebTorrent peer reads nothing
    /// unusual.
    ///
    /// - Parameters:
    ///   - sessionID: a random number below 2^63, new for each offer (RFC 8866 `o=`).
    ///   - candidates: our addresses; the first is the default one on the `m=` and `c=` lines.
    public static func offer(credentials: ICECredentials, fingerprint: DTLSFingerprint, candidates: [ICECandidate],
                             sessionID: UInt64, maxMessageSize: UInt64 = defaultMaxMessageSize) -> SessionDescription {
        let defaultCandidate = candidates.first
        let addressType = defaultCandidate.map { $0.address.contains(":") ? "IP6" : "IP4" } ?? "IP4"
        let media = DataChannelMedia(
            port: defaultCandidate?.port ?? 9, connectionAddressType: addressType,
            connectionAddress: defaultCandidate?.address ?? "0.0.0.0",
            iceUfrag: credentials.ufrag, icePwd: credentials.pwd, fingerprint: fingerprint,
            setup: .actpass, mid: "0", sctpPort: 5000, maxMessageSize: maxMessageSize,
            candidates: candidates, endOfCandidates: true)
        return SessionDescription(origin: Origin(sessionID: String(sessionID & UInt64(Int64.max))),
                                  attributes: [SDPAttribute("group", "BUNDLE 0"), SDPAttribute("extmap-allow-mixed"),
                                               SDPAttribute("msid-semantic", " WMS")],
                                  media: media)
    }
}
