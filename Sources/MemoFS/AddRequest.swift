import TorrentModel

/// What a write into `shared/.add` asks for: one magnet link or share link per line.
struct AddRequest {
    var magnets: [MagnetLink] = []
    var problems: [String] = []

    init(text: String) {
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: " \t\r")
            if line.isEmpty || line.hasPrefix("#") { continue }
            do {
                magnets += try MagnetLink.parseLinks(line)
            } catch {
                problems.append("line \(number + 1): \(error)")
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
