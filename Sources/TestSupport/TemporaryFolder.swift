import Foundation

/// A fresh temporary folder, removed when the test's scope ends.
public final class TemporaryFolder: @unchecked Sendable {
    public let path: String

    public init() throws {
        path = NSTemporaryDirectory() + "memofs-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// Writes `count` deterministic pseudo-random bytes (xorshift from `seed`, eight bytes a
    /// step, so benchmark-sized files are quick) to `relative` and returns them.
    @discardableResult
    public func write(_ relative: String, count: Int, seed: UInt64 = 1) throws -> [UInt8] {
        var state = seed &* 0x9e37_79b9_7f4a_7c15 | 1
        var bytes = [UInt8](repeating: 0, count: count)
        bytes.withUnsafeMutableBytes { buffer in
            var index = 0
            while index + 8 <= count {
                state ^= state << 13; state ^= state >> 7; state ^= state << 17
                buffer.storeBytes(of: state, toByteOffset: index, as: UInt64.self)
                index += 8
            }
            while index < count {
                state ^= state << 13; state ^= state >> 7; state ^= state << 17
                buffer[index] = UInt8(truncatingIfNeeded: state)
                index += 1
            }
        }
        let full = path + "/" + relative
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: full))
        return bytes
    }
}
