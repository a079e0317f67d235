/// The rule for file names that come from a torrent: a name that could leave the
/// torrent's folder, or that the disk would read as something else, is refused,
/// never rewritten. Refusing is simple to reason about: whatever name reaches
/// the disk is exactly the one the torrent gave.
///
/// A path component is refused when it is empty, `.` or `..`, holds `/` or NUL,
/// or is longer than 255 bytes (the longest name Linux filesystems store).
/// Names that are not valid UTF-8 are decoded with U+FFFD in place of the bad
/// bytes, unless the torrent gives a `name.utf-8` / `path.utf-8` form.
public enum SafePath {
    public static let maxComponentBytes = 255

    /// Nil when the component is safe, otherwise why not.
    public static func problem(with component: String) -> String? {
        if component.isEmpty { return "a path component is empty" }
        if component == "." || component == ".." { return "a path component is '\(component)'" }
        if component.utf8.contains(UInt8(ascii: "/")) { return "a path component contains '/'" }
        if component.utf8.contains(0) { return "a path component contains a NUL byte" }
        if component.utf8.count > maxComponentBytes {
            return "a path component is longer than \(maxComponentBytes) bytes"
        }
        return nil
    }

    /// A quoted, printable form of a path for error messages.
    static func show(_ components: [String]) -> String {
        let joined = components.joined(separator: "/")
        let printable = joined.unicodeScalars.map { scalar -> String in
            scalar.value < 0x20 || scalar.value == 0x7f ? "\\u{\(String(scalar.value, radix: 16))}" : String(scalar)
        }.joined()
        return "'\(printable)'"
    }
}
