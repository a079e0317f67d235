import Foundation

/// The kernel's table of this process's mounts, `/proc/self/mountinfo`. memofs asks it, never
/// the mountpoint itself, whether something is mounted: a `stat` of a FUSE mount whose
/// daemon hangs would hang too.
struct MountTable {
    struct Entry {
        let mountpoint: String
        let fsType: String
        let source: String
    }

    let entries: [Entry]

    static func current() -> MountTable {
        let text = (try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? ""
        return MountTable(mountinfo: text)
    }

    /// Each line: "id parent major:minor root mountpoint options [optional fields…] - type source super-options".
    init(mountinfo: String) {
        entries = mountinfo.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ").map(String.init)
            guard fields.count > 4, let separator = fields.firstIndex(of: "-"), separator + 2 < fields.count else { return nil }
            return Entry(mountpoint: Self.unescaped(fields[4]), fsType: fields[separator + 1],
                         source: Self.unescaped(fields[separator + 2]))
        }
    }

    /// What is mounted at `path` now: the last of the mounts stacked there.
    func entry(at path: String) -> Entry? {
        entries.last { $0.mountpoint == path }
    }

    /// The kernel writes space, tab, newline and backslash as octal escapes (`\040`).
    static func unescaped(_ field: String) -> String {
        guard field.contains("\\") else { return field }
        var bytes: [UInt8] = []
        let raw = Array(field.utf8)
        var index = 0
        while index < raw.count {
            if raw[index] == UInt8(ascii: "\\"), index + 3 < raw.count,
               let value = UInt8(String(decoding: raw[(index + 1)...(index + 3)], as: UTF8.self), radix: 8) {
                bytes.append(value)
                index += 4
            } else {
                bytes.append(raw[index])
                index += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
