/// An open file of a torrent that reads: a player, `cat`, `cp`. See ``ReaderWindows``.
public struct ReaderID: Hashable, Sendable, CustomStringConvertible {
    let value: Int
    public var description: String { "reader \(value)" }
}

/// The pieces each open reader wants now, and so what priority readers give each piece.
///
/// A reader wants the pieces under its last read and its readahead after it, and for a
/// media file its first and last pieces (headers, cues, `moov`) until it closes. A piece's
/// reader priority is the highest any reader gives it; when a reader moves (a seek) or
/// closes, the pieces it no longer wants are handed back, so the torrent can lower what
/// nobody wants any more, as anacrolix/torrent's `Reader` does. Before, reads only ever
/// raised priorities: every window a player ever seeked away from was downloaded anyway.
/// Pure: pieces in, pieces out.
struct ReaderWindows: Sendable {
    private struct Reader: Sendable {
        var edges: [Range<Int>] = []
        var read: Range<Int> = 0..<0
        var ahead: Range<Int> = 0..<0
        /// A file complete when it was opened: the kernel may read it straight from disk
        /// (FUSE passthrough), past any window, so all of it is held until the close.
        var whole: Range<Int> = 0..<0

        /// What must stay on disk while the reader is open: what it reads, reads ahead, its
        /// edges, and a complete file it may be reading from disk.
        var held: [Range<Int>] { ([read, ahead, whole] + edges).filter { !$0.isEmpty } }

        func wants(_ piece: Int) -> Bool {
            read.contains(piece) || ahead.contains(piece) || edges.contains { $0.contains(piece) }
        }

        var pieces: Set<Int> {
            var all = Set(read).union(ahead)
            for range in edges { all.formUnion(range) }
            return all
        }
    }

    /// What a reader's wanted pieces get: ahead of whole downloads, behind a waiting read's deadline.
    static let priority = PiecePicker.high

    private var readers: [ReaderID: Reader] = [:]
    private var nextID = 0

    var count: Int { readers.count }

    /// A new reader, wanting `edges` (a media file's ends) until it closes, and holding
    /// `whole` (a file complete at its open, which it may read straight from disk) on disk.
    mutating func open(edges: [Range<Int>] = [], whole: Range<Int> = 0..<0) -> (ReaderID, changed: Set<Int>) {
        nextID += 1
        let id = ReaderID(value: nextID)
        readers[id] = Reader(edges: edges.filter { !$0.isEmpty }, whole: whole)
        return (id, readers[id]!.pieces)
    }

    /// The reader now reads `read` and wants `ahead` after it; returns every piece whose
    /// reader priority may have changed (wanted before or now).
    ///
    /// Worked out on ranges, not on sets of pieces: every read moves its reader, and a
    /// sliding window of hundreds of pieces changes only at its two ends.
    mutating func move(_ id: ReaderID, read: Range<Int>, ahead: Range<Int>) -> Set<Int> {
        guard var reader = readers[id] else { return [] }
        guard reader.read != read || reader.ahead != ahead else { return [] }
        let before = [reader.read, reader.ahead], after = [read, ahead]
        reader.read = read
        reader.ahead = ahead
        readers[id] = reader
        var changed = Set<Int>()
        for range in Self.subtract(before, after) + Self.subtract(after, before) { changed.formUnion(range) }
        return changed
    }

    /// The pieces of `ranges` that are in none of `removed`, as ranges.
    static func subtract(_ ranges: [Range<Int>], _ removed: [Range<Int>]) -> [Range<Int>] {
        var remaining = ranges.filter { !$0.isEmpty }
        for cut in removed where !cut.isEmpty {
            remaining = remaining.flatMap { range -> [Range<Int>] in
                guard range.overlaps(cut) else { return [range] }
                let below = range.lowerBound..<max(range.lowerBound, cut.lowerBound)
                let above = min(range.upperBound, cut.upperBound)..<range.upperBound
                return [below, above].filter { !$0.isEmpty }
            }
        }
        return remaining
    }

    /// The reader is gone; returns the pieces it wanted.
    mutating func close(_ id: ReaderID) -> Set<Int> {
        readers.removeValue(forKey: id)?.pieces ?? []
    }

    /// The pieces open readers need kept on disk (see ``CachePolicy/setHeld(_:of:)``).
    var heldRanges: [Range<Int>] { readers.values.flatMap(\.held) }

    /// Whether an open reader needs `piece` kept on disk.
    func holds(_ piece: Int) -> Bool {
        readers.values.contains { reader in reader.held.contains { $0.contains(piece) } }
    }

    /// The highest priority any reader gives `piece` (`skip` when none wants it).
    func priority(of piece: Int) -> UInt8 {
        readers.values.contains { $0.wants(piece) } ? Self.priority : PiecePicker.skip
    }
}
