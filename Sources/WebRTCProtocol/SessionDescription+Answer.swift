extension SessionDescription {
    /// The largest message we take on a data channel; what Chromium announces.
    public static let defaultMaxMessageSize: UInt64 = 262_144

    /// Our answer to a browser's offer, non-trickle: every candidate we have is in it and it ends
    /// with `a=end-of-candidates`, since WebTorrent relays one answer and no candidate messages.
    /// It mirrors the answer Chromium writes itself (session lines, `a=group:BUNDLE <mid>`,
    /// `a=msid-semantic: WMS`, `a=extmap-allow-mixed` when the offer has it, then the section),
    /// and takes the DTLS role the offer leaves us (`active` to `actpass`).
    ///
    /// - Parameters:
    ///   - sessionID: a random number below 2^63, new for each answer (RFC 8866 `o=`).
    ///   - candidates: our addresses; the first is the default one on the `m=` and `c=` lines.
    public static func answer(to offer: SessionDescription, credentials: ICECredentials,
                              fingerprint: DTLSFingerprint, candidates: [ICECandidate], sessionID: UInt64,
                              maxMessageSize: UInt64 = defaultMaxMessageSize) -> SessionDescription {
        let mid = offer.media.mid ?? "0"
        var attributes = [SDPAttribute("group", "BUNDLE \(mid)")]
        if offer.has("extmap-allow-mixed") { attributes.append(SDPAttribute("extmap-allow-mixed")) }
        attributes.append(SDPAttribute("msid-semantic", " WMS"))
        let defaultCandidate = candidates.first
        let addressType = defaultCandidate.map { $0.address.contains(":") ? "IP6" : "IP4" } ?? "IP4"
        let media = DataChannelMedia(
            port: defaultCandidate?.port ?? 9, transport: offer.media.transport,
            connectionAddressType: addressType, connectionAddress: defaultCandidate?.address ?? "0.0.0.0",
            iceUfrag: credentials.ufrag, icePwd: credentials.pwd, fingerprint: fingerprint,
            setup: (offer.media.setup ?? .active).answer, mid: mid, sctpPort: 5000, maxMessageSize: maxMessageSize,
            candidates: candidates, endOfCandidates: true)
        return SessionDescription(origin: Origin(sessionID: String(sessionID & UInt64(Int64.max))),
                                  attributes: attributes, media: media)
    }
}
