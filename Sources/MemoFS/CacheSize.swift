import Foundation

/// `--cache-size`: the most bytes the verified pieces of shares (`shared/`, not pinned) may
/// hold on disk before the least recently read are evicted; pure, so the parsing and the
/// default are tested without a mount.
public enum CacheSize {
    /// A size as a person writes it: `0`, `1048576`, `500M`, `2G`, `1.5GiB`, `750MB` (K, M,
    /// G, T count in 1024s, with or without `B`/`iB`), or `unlimited` (also `none`): no limit,
    /// returned as nil. `0` keeps nothing a reader does not hold at the moment.
    public static func parse(_ text: String) throws(CacheSizeError) -> Int64? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        if trimmed == "unlimited" || trimmed == "none" { return nil }
        var number = Substring(trimmed)
        var unit = Substring("")
        while let last = number.last, last.isLetter {
            unit.insert(last, at: unit.startIndex)
            number.removeLast()
        }
        let multipliers: [Substring: Int64] = [
            "": 1, "b": 1,
            "k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10,
            "m": 1 << 20, "mb": 1 << 20, "mib": 1 << 20,
            "g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30,
            "t": 1 << 40, "tb": 1 << 40, "tib": 1 << 40,
        ]
        guard let multiplier = multipliers[unit] else {
            throw CacheSizeError(text: text, reason: "'\(unit)' is not a unit (K, M, G or T)")
        }
        guard !number.isEmpty, number.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
              let value = Double(number) else {
            throw CacheSizeError(text: text, reason: "not a size such as 500M, 2G or 0, nor unlimited")
        }
        let bytes = (value * Double(multiplier)).rounded(.down)
        guard bytes < Double(Int64.max / 2) else { throw CacheSizeError(text: text, reason: "too large") }
        return Int64(bytes)
    }

    /// The limit when none is given: a tenth of the space free on the data folder's file
    /// system at mount, at least 256 MiB (a few hours of streamed recordings, on a nearly
    /// full disk) and at most 32 GiB. Spotify's desktop client caches up to 10 % of the free
    /// space the same way; a tenth leaves the rest of the disk to the user, and the limit is
    /// taken once, so it does not shrink as the cache itself fills the disk.
    public static func defaultLimit(availableBytes: Int64) -> Int64 {
        min(max(availableBytes / 10, minimumDefault), maximumDefault)
    }

    public static let minimumDefault: Int64 = 256 << 20
    public static let maximumDefault: Int64 = 32 << 30

    /// "512.0 MiB", "2.0 GiB": how `memofs status` and the log show a size.
    public static func describe(_ bytes: Int64) -> String {
        let units: [(String, Int64)] = [("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)]
        for (name, size) in units where bytes >= size {
            return String(format: "%.1f", Double(bytes) / Double(size)) + " " + name
        }
        return "\(bytes) B"
    }
}

public struct CacheSizeError: Error, CustomStringConvertible, Sendable {
    public let text: String
    public let reason: String
    public var description: String { "cache size '\(text)': \(reason)" }
}
