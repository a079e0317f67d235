import ArgumentParser
import Engine
import Foundation
import TorrentModel

/// How memofs finds peers without a tracker: the DHT and its bootstrap nodes, and local
/// peer discovery on the LAN.
///
/// With `MEMOFS_NO_PUBLIC_NETWORK` set in the environment (the test scripts set it), the
/// defaults change so that nothing leaves the machine unless a flag asks: the DHT has no
/// bootstrap nodes and local peer discovery is off.
struct DiscoveryOptions: ParsableArguments {
    @Option(name: .customLong("dht-bootstrap"), help: ArgumentHelp(
        "A DHT node to join through, host:port (repeatable; default: the public routers).", valueName: "host:port"))
    var dhtBootstrap: [String] = []
    @Flag(name: .customLong("no-dht"), help: "Run no DHT node (default: one runs; without it, magnets with no tracker and no peer find nobody).")
    var noDHT = false
    @Option(name: .customLong("dht-port"), help: ArgumentHelp("The DHT's UDP port (default: the peer port's number).", valueName: "port"))
    var dhtPort: Int?
    @Flag(inversion: .prefixedNo, help: "Find peers on the local network by multicast (BEP 14; default: on).")
    var lsd: Bool?

    func validate() throws {
        try Self.check(bootstrap: dhtBootstrap, port: dhtPort)
    }

    static func check(bootstrap: [String], port: Int?) throws {
        for node in bootstrap where PeerAddress(node) == nil {
            throw ValidationError("DHT bootstrap node '\(node)' is not host:port")
        }
        if let port, !(0...65535).contains(port) { throw ValidationError("DHT port \(port) is not 0–65535") }
    }

    var dht: DHTSettings? {
        Self.dht(enabled: !noDHT, bootstrap: dhtBootstrap, port: dhtPort)
    }

    static var noPublicNetwork: Bool {
        !(ProcessInfo.processInfo.environment["MEMOFS_NO_PUBLIC_NETWORK"] ?? "").isEmpty
    }

    var localPeerDiscovery: Bool { Self.localPeerDiscovery(lsd) }

    /// On unless switched off, or unless the environment asks for no public network.
    static func localPeerDiscovery(_ choice: Bool?) -> Bool {
        choice ?? !noPublicNetwork
    }

    static func dht(enabled: Bool, bootstrap: [String], port: Int?) -> DHTSettings? {
        guard enabled else { return nil }
        let nodes = bootstrap.isEmpty ? (noPublicNetwork ? [] : DHTSettings.publicRouters) : bootstrap
        return DHTSettings(bootstrapNodes: nodes, port: port)
    }
}
