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
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        // TLS for wss:// WebTorrent trackers (BoringSSL inside).
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        // OpenSSL's libcrypto, for hardware-accelerated SHA-1 and STUN's HMAC-SHA1.
        .systemLibrary(name: "CCrypto", path: "Sources/CCrypto", pkgConfig: "libcrypto",
                       providers: [.apt(["libssl-dev"])]),
        // OpenSSL's libssl (with libcrypto), for DTLS 1.2 under WebRTC data channels.
        .systemLibrary(name: "COpenSSL", path: "Sources/COpenSSL", pkgConfig: "openssl",
                       providers: [.apt(["libssl-dev"])]),
        // libfuse3's low-level API.
        .systemLibrary(name: "CFuse", path: "Sources/CFuse", pkgConfig: "fuse3", providers: [.apt(["libfuse3-dev"])]),
        // <sys/xattr.h>, which Glibc's module does not include.
        .systemLibrary(name: "CXattr", path: "Sources/CXattr"),
        .target(name: "Bencode"),
        // The file calls swift-system does not wrap (mkdir, rename, chmod, xattrs, flock…),
        // wrapped as it wraps the others: errno becomes a typed `Errno` there and nowhere else.
        .target(name: "SystemCalls", dependencies: ["CXattr", .product(name: "SystemPackage", package: "swift-system")]),
        .target(name: "TorrentModel", dependencies: [
            "Bencode", "CCrypto", "SystemCalls", .product(name: "SystemPackage", package: "swift-system"),
        ]),
        .target(name: "PeerProtocol", dependencies: ["TorrentModel", "Bencode"]),
        .target(name: "Discovery", dependencies: ["TorrentModel", "Bencode"]),
        // WebRTC data channels' pure parts: SDP offers and answers, DCEP, STUN and the ICE agent
        // (browser peers, issue 15). CCrypto only for STUN's HMAC-SHA1.
        .target(name: "WebRTCProtocol", dependencies: ["CCrypto"]),
        // DTLS 1.2 as WebRTC uses it, over OpenSSL: datagrams in and out, fingerprint-checked peers.
        .target(name: "DTLS", dependencies: ["COpenSSL", "WebRTCProtocol"]),
        // libusrsctp, the SCTP stack under WebRTC data channels (its AF_CONN mode: packets as bytes).
        .systemLibrary(name: "CUsrsctp", path: "Sources/CUsrsctp", pkgConfig: "usrsctp",
                       providers: [.apt(["libusrsctp-dev"])]),
        // One SCTP association over libusrsctp, packets in and out as byte arrays (carried over DTLS).
        .target(name: "SCTP", dependencies: [
            "CUsrsctp",
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "SystemPackage", package: "swift-system"),
        ]),
        // WebRTC peer connections: ICE over UDP sockets, DTLS, SCTP and the data channel put
        // together on a SwiftNIO event loop (the I/O side of WebRTCProtocol, DTLS and SCTP).
        .target(name: "WebRTC", dependencies: [
            "WebRTCProtocol", "DTLS", "SCTP",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "Engine", dependencies: [
            "TorrentModel", "Bencode", "PeerProtocol", "Discovery", "WebRTC", "WebRTCProtocol", "DTLS",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOWebSocket", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "GRDB", package: "GRDB.swift"),
            "SystemCalls", .product(name: "SystemPackage", package: "swift-system"),
        ], exclude: ["STATE.md"]),
        .target(name: "FUSEKit", dependencies: [
            "CFuse",
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "SystemPackage", package: "swift-system"),
        ]),
        .target(name: "MemoFS", dependencies: [
            "FUSEKit", "Engine", "TorrentModel", "CXattr", "SystemCalls",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "SystemPackage", package: "swift-system"),
        ]),
        .executableTarget(name: "memofs", dependencies: [
            "TorrentModel", "Engine", "WebRTC", "FUSEKit", "MemoFS", "CXattr", "SystemCalls",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "SystemPackage", package: "swift-system"),
        ]),
        // Real peers (libtorrent, opentracker) as child processes, for tests and benchmarks.
        .target(name: "PeerHarness", dependencies: [
            "Engine", "TorrentModel", "TestSupport",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOWebSocket", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
        ]),
        // Benchmarks print figures; they are run in release mode, never as tests.
        .executableTarget(name: "memofs-bench", dependencies: [
            "TorrentModel", "CCrypto", "Engine", "PeerHarness", "TestSupport", .product(name: "NIOPosix", package: "swift-nio"),
        ]),
        // Helpers shared by the test targets (a seeded generator, temporary folders, sample
        // peer messages); not part of the product.
        .target(name: "TestSupport", dependencies: ["PeerProtocol", "TorrentModel"]),
        .testTarget(name: "BencodeTests", dependencies: ["Bencode", "TestSupport"]),
        .testTarget(name: "TorrentModelTests", dependencies: ["TorrentModel", "Bencode", "TestSupport"]),
        .testTarget(name: "PeerProtocolTests", dependencies: ["PeerProtocol", "TorrentModel", "Bencode", "TestSupport"]),
        .testTarget(name: "WebRTCProtocolTests", dependencies: ["WebRTCProtocol"]),
        .testTarget(name: "DTLSTests", dependencies: ["DTLS", "WebRTCProtocol"]),
        .testTarget(name: "SCTPTests", dependencies: [
            "SCTP", "WebRTCProtocol", .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
        ]),
        .testTarget(name: "WebRTCTests", dependencies: [
            "WebRTC", "WebRTCProtocol", "DTLS", "PeerHarness",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "DiscoveryTests", dependencies: ["Discovery", "TorrentModel", "Bencode", "TestSupport"]),
        .testTarget(name: "EngineTests", dependencies: [
            "Engine", "TorrentModel", "PeerProtocol", "PeerHarness", "TestSupport", "WebRTC", "WebRTCProtocol", "DTLS",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOWebSocket", package: "swift-nio"),
            .product(name: "SystemPackage", package: "swift-system"),
        ]),
        .testTarget(name: "FUSEKitTests", dependencies: ["FUSEKit", .product(name: "SystemPackage", package: "swift-system")]),
        .testTarget(name: "MountTests", dependencies: [
            "PeerHarness", "TorrentModel", "MemoFS", "TestSupport", .product(name: "NIOPosix", package: "swift-nio"),
        ]),
    ],
    swiftLanguageModes: [.v6]
)

// libFuzzer targets over every decoder that takes outside bytes (README, "Fuzzing"). Declared only
// when MEMOFS_FUZZ is set, as mount-scripts/fuzz does with its own build folder and
// `--sanitize fuzzer --sanitize address`: without libFuzzer's `main` it would not link, and the
// default `swift build` and `swift test` stay as they are.
if Context.environment["MEMOFS_FUZZ"] != nil {
    package.products.append(.executable(name: "memofs-fuzz", targets: ["memofs-fuzz"]))
    package.targets.append(.executableTarget(
        name: "memofs-fuzz",
        dependencies: ["Bencode", "TorrentModel", "PeerProtocol", "Discovery", "WebRTCProtocol", "Engine",
                       .product(name: "NIOCore", package: "swift-nio")],
        path: "Fuzz/Sources"))
}
