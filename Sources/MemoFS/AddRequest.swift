import TorrentModel

/// A line written into `shared/.add`, numbered from the first line written since the file
/// was opened.
struct AddLine: Equatable {
    let number: Int
    let text: String
}

/// The text written into one open `shared/.add`, cut into lines as they complete. A writer
/// may send a line per `write()` (a shell loop, a program that flushes each line) or cut a
/// line across two writes (stdio's buffer), so lines are numbered across the writes of one
/// open file, and a line is taken only once its newline (or the close) has come.
struct AddInput {
    /// The end of the text written so far that is not a whole line yet.
    private var partial: [UInt8] = []
    private var linesTaken = 0
    /// A line longer than this is taken as it is (it fails to parse, naming its number)
    /// rather than held without bound.
    static let longestLine = 1 << 20

    /// The lines `bytes` completes.
    mutating func take(_ bytes: [UInt8]) -> [AddLine] {
        var lines: [AddLine] = []
        for byte in bytes {
            if byte == UInt8(ascii: "\n") {
                lines.append(takePartial())
            } else {
                partial.append(byte)
                if partial.count > Self.longestLine { lines.append(takePartial()) }
            }
        }
        return lines
    }

    /// The last line, when the text did not end with a newline; called when the file is closed.
    mutating func finish() -> [AddLine] {
        partial.isEmpty ? [] : [takePartial()]
    }

    private mutating func takePartial() -> AddLine {
        linesTaken += 1
        defer { partial = [] }
        return AddLine(number: linesTaken, text: String(decoding: partial, as: UTF8.self))
    }
}

/// What lines written into `shared/.add` ask for: one magnet link or share link per line;
/// blank lines and `#` comments are skipped. Each problem names its line's number.
struct AddRequest {
    var magnets: [(line: Int, magnet: MagnetLink)] = []
    var problems: [String] = []

    init(lines: [AddLine]) {
        for line in lines {
            let text = line.text[...].trimmingCharacters(in: " \t\r")
            if text.isEmpty || text.hasPrefix("#") { continue }
            do {
                let found = try MagnetLink.parseLinks(text)
                if found.isEmpty { problems.append("line \(line.number): no magnet link in it") }
                magnets += found.map { (line.number, $0) }
            } catch {
                problems.append("line \(line.number): \(error)")
            }
        }
    }
}

extension Substring {
    func trimmingCharacters(in set: String) -> String {
        var view = self[...]
        while let first = view.first, set.contains(first) { view = view.dropFirst() }
        while let last = view.last, set.contains(last) { view = view.dropLast() }
        return String(view)
    }
}
