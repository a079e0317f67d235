// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "memofs",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "memofs", targets: ["memofs"]),
        .library(name: "TorrentModel", targets: ["TorrentModel"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // OpenSSL's libcrypto, for hardware-accelerated SHA-1.
        .systemLibrary(name: "CCrypto", path: "Sources/CCrypto", pkgConfig: "libcrypto",
                       providers: [.apt(["libssl-dev"])]),
        .target(name: "Bencode"),
        .target(name: "TorrentModel", dependencies: ["Bencode", "CCrypto"]),
        .target(name: "PeerProtocol", dependencies: ["TorrentModel", "Bencode"]),
        .target(name: "Discovery", dependencies: ["TorrentModel", "Bencode"]),
        .executableTarget(name: "memofs", dependencies: [
            "TorrentModel",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // Benchmarks print figures; they are run in release mode, never as tests.
        .executableTarget(name: "memofs-bench", dependencies: ["TorrentModel", "CCrypto"]),
        .testTarget(name: "BencodeTests", dependencies: ["Bencode"]),
        .testTarget(name: "TorrentModelTests", dependencies: ["TorrentModel", "Bencode"]),
        .testTarget(name: "PeerProtocolTests", dependencies: ["PeerProtocol", "TorrentModel", "Bencode"]),
        .testTarget(name: "DiscoveryTests", dependencies: ["Discovery", "TorrentModel", "Bencode"]),
    ],
    swiftLanguageModes: [.v6]
)
