// Benchmarks that print figures. Run in release mode:
//   swift run -c release memofs-bench hash
import Foundation
import TorrentModel

/// Bytes per second as MB/s (10^6, as `openssl speed` counts).
func megabytesPerSecond(_ bytes: Int, _ duration: Duration) -> Double {
    let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    return Double(bytes) / seconds / 1e6
}

func median(_ values: [Double]) -> Double { values.isEmpty ? .nan : values.sorted()[values.count / 2] }

/// One line of a figures table: a name, then min / median / max.
func row(_ name: String, _ values: [Double], format: String = "%7.0f") {
    let text = values.isEmpty ? "n/a"
        : String(format: "\(format) / \(format) / \(format)", values.min()!, median(values), values.max()!)
    print(name.padding(toLength: 44, withPad: " ", startingAt: 0) + text)
}

func measure(rounds: Int, bytes: Int, _ body: () throws -> Void) rethrows -> [Double] {
    let clock = ContinuousClock()
    var rates: [Double] = []
    for _ in 0..<rounds {
        let elapsed = try clock.measure(body)
        rates.append(megabytesPerSecond(bytes, elapsed))
    }
    return rates
}

/// `openssl speed -evp sha1` on one core with the same block size, in MB/s.
func opensslSpeed(blockSize: Int) throws -> Double {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
    process.arguments = ["speed", "-evp", "sha1", "-bytes", String(blockSize), "-seconds", "3"]
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    try process.run()
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    // The last line reads "sha1   2250000.00k": thousands of bytes per second.
    guard let line = output.split(separator: "\n").last(where: { $0.hasPrefix("sha1") }),
          let field = line.split(separator: " ").last, field.hasSuffix("k"),
          let kilobytes = Double(field.dropLast()) else {
        throw NSError(domain: "memofs-bench", code: 1, userInfo: [NSLocalizedDescriptionKey: "cannot read openssl speed output"])
    }
    return kilobytes * 1000 / 1e6
}

func hashBenchmark() throws {
    let pieceLength = 256 << 10
    let total = 1 << 30
    let rounds = 3
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: total, alignment: 64)
    defer { buffer.deallocate() }
    var state: UInt64 = 0x1234_5678_9abc_def1
    for index in stride(from: 0, to: total, by: 8) {
        state ^= state << 13; state ^= state >> 7; state ^= state << 17
        buffer.storeBytes(of: state, toByteOffset: index, as: UInt64.self)
    }
    let input = UnsafeRawBufferPointer(buffer)

    print("SHA-1 piece hashing, 1 GiB in 256 KiB pieces, \(rounds) rounds (MB/s: min / median / max)")
    let single = measure(rounds: rounds, bytes: total) {
        var offset = 0
        while offset < total {
            _ = SHA1.hash(UnsafeRawBufferPointer(rebasing: input[offset..<(offset + pieceLength)]))
            offset += pieceLength
        }
    }
    let parallel = measure(rounds: rounds, bytes: total) {
        _ = PieceHasher.hashPieces(input, pieceLength: pieceLength)
    }

    let folder = NSTemporaryDirectory() + "memofs-bench-\(getpid())"
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let fileBytes = 512 << 20
    try Data(bytes: buffer.baseAddress!, count: fileBytes).write(to: URL(fileURLWithPath: folder + "/memo.bin"))
    let create = try measure(rounds: rounds, bytes: fileBytes) {
        _ = try TorrentCreator.createBlocking(from: folder + "/memo.bin", options: .init(pieceLength: pieceLength))
    }
    let openssl = (0..<rounds).compactMap { _ in try? opensslSpeed(blockSize: pieceLength) }

    row("memofs SHA1.hash, one core", single)
    row("openssl speed -evp sha1 -bytes 262144", openssl)
    row("memofs PieceHasher, all \(ProcessInfo.processInfo.activeProcessorCount) cores", parallel)
    row("memofs TorrentCreator, 512 MiB file (cached)", create)
    if !openssl.isEmpty {
        print(String(format: "ratio memofs one core / openssl (median): %.2f  (goal >= 0.90)", median(single) / median(openssl)))
    }
}

let arguments = Array(CommandLine.arguments.dropFirst())
func option(_ name: String, default value: Int) -> Int {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count, let number = Int(arguments[index + 1]) else {
        return value
    }
    return number
}

switch arguments.first {
case "hash", nil:
    try hashBenchmark()
case "mount":
    try await mountBenchmark(sizeMiB: option("--size", default: 256), rounds: option("--rounds", default: 3))
case "dht":
    try await dhtBenchmark(rounds: option("--rounds", default: 5))
case "webrtc":
    try await webRTCBenchmark(sizeMiB: option("--size", default: 64), rounds: option("--rounds", default: 3))
case "readers":
    try await readersBenchmark(readers: option("--readers", default: 200), rateMB: option("--rate", default: 4),
                               sizeMiB: option("--size", default: 256), rounds: option("--rounds", default: 3))
case "crowd":
    try await crowdBenchmark(peers: option("--peers", default: 500), readers: option("--readers", default: 1000))
case "swarm":
    try await swarmBenchmark(sizeMiB: option("--size", default: 256), rounds: option("--rounds", default: 3))
default:
    print("usage: memofs-bench hash | crowd [--peers N] [--readers N] | readers [--readers N] [--rate MB/s] [--size MiB] [--rounds N] | swarm [--size MiB] [--rounds N] | mount [--size MiB] [--rounds N] | dht [--rounds N] | webrtc [--size MiB] [--rounds N]")
    exit(2)
}
