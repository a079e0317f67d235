import ArgumentParser
import Engine
import WebRTC

/// Browser peers: WebRTC data channels found through `ws://`/`wss://` (WebTorrent) trackers.
struct WebRTCOptions: ParsableArguments {
    @Flag(name: .customLong("no-webrtc"), help: "Reach no browser peers: ws:// and wss:// trackers are skipped (default: WebRTC on).")
    var noWebRTC = false
    @Option(name: .customLong("stun"), help: ArgumentHelp(
        "A STUN server, IP:port, that tells us our address behind a NAT so browser peers elsewhere reach us (repeatable; default: none).",
        valueName: "ip:port"))
    var stun: [String] = []
    @Option(name: .customLong("webrtc-address"), help: ArgumentHelp(
        "Offer browser peers only this local address (repeatable; default: every interface's).", valueName: "ip"))
    var addresses: [String] = []
    @Option(name: .customLong("tracker-certificate"), help: ArgumentHelp(
        "Trust only this PEM certificate for wss:// trackers instead of the system's (a tracker with a self-signed certificate).",
        valueName: "file"))
    var trackerCertificate: String?

    func validate() throws {
        try Self.check(stun: stun, addresses: addresses)
    }

    static func check(stun: [String], addresses: [String]) throws {
        for server in stun where !WebRTCConfiguration.isSTUNServer(server) {
            throw ValidationError("STUN server '\(server)' is not ip:port (a numeric IPv4 address, or [IPv6]:port)")
        }
        for address in addresses where !WebRTCConfiguration.isIPAddress(address) {
            throw ValidationError("WebRTC address '\(address)' is not a numeric IP address")
        }
    }

    var settings: WebRTCSettings {
        WebRTCSettings(enabled: !noWebRTC, stun: stun, addresses: addresses, trackerCertificate: trackerCertificate)
    }
}

/// The WebRTC choices of a mount, from flags or `-o`.
struct WebRTCSettings {
    var enabled = true
    var stun: [String] = []
    var addresses: [String] = []
    var trackerCertificate: String?

    /// The session's WebRTC configuration; nil with `--no-webrtc`. Browser peers are offered
    /// the `--webrtc-address`es, else the `--listen` address when it names one, else every
    /// interface's: a memofs told to take peers on one address takes them there only.
    func configuration(listen: String) -> WebRTCConfiguration? {
        guard enabled else { return nil }
        let specific = listen == "0.0.0.0" || listen == "::" || !WebRTCConfiguration.isIPAddress(listen) ? nil : [listen]
        return WebRTCConfiguration(stunServers: stun, addresses: addresses.isEmpty ? specific : addresses)
    }

    var trackerOptions: WebSocketTrackerConnectionOptions {
        WebSocketTrackerConnectionOptions(trust: trackerCertificate.map { .certificate(pemFile: $0) } ?? .system)
    }
}
