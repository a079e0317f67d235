import TorrentModel

/// The torrent's open readers and the priorities they give pieces (see ``ReaderWindows``):
/// the filesystem opens a reader per open file, each read moves it, a close releases it.
extension Torrent {
    /// How much of each end of a media file a reader wants from its open (players read
    /// headers, Matroska cues and MP4 `moov` first).
    static let mediaEdgeBytes: Int64 = 1 << 20

    /// A reader opens file `fileIndex`; with `fetchEdges` (media files) both ends of the
    /// file are wanted at once.
    public func openReader(file fileIndex: Int, fetchEdges: Bool = false) -> ReaderID {
        var edges: [Range<Int>] = []
        if fetchEdges, let info, info.files.indices.contains(fileIndex), info.files[fileIndex].length > 0 {
            let file = info.files[fileIndex]
            let edge = min(Self.mediaEdgeBytes, file.length)
            edges = [pieces(under: file.offset..<(file.offset + edge)),
                     pieces(under: (file.offset + file.length - edge)..<(file.offset + file.length))]
        }
        // A file complete now may be handed to the kernel to read from disk (passthrough),
        // past any window of ours: all of it stays on disk while it is open.
        var whole = 0..<0
        if let info, let picker, info.files.indices.contains(fileIndex), info.files[fileIndex].length > 0 {
            let file = info.files[fileIndex]
            let pieces = pieces(under: file.offset..<(file.offset + file.length))
            if pieces.allSatisfy({ picker.have[$0] }) { whole = pieces }
        }
        let (id, wanted) = readers.open(edges: edges, whole: whole)
        lastReaderActivity = context.now
        applyReaderPriorities(wanted)
        publishHeldPieces()
        // The first reader makes every peer with a missing piece interesting (keepsInterest).
        updateInterestAndRequests()
        return id
    }

    /// The reader is gone: what only it wanted is no longer fetched.
    public func closeReader(_ id: ReaderID) {
        let released = readers.close(id)
        lastReaderActivity = context.now
        applyReaderPriorities(released)
        publishHeldPieces(released: true)
    }

    /// Files of the torrent open for reading.
    var openReaders: Int { readers.count }

    /// The reader now reads the bytes `read` (of the torrent's stream) and wants `ahead`;
    /// returns whether a piece became wanted.
    func moveReader(_ id: ReaderID, read: Range<Int64>, ahead: Range<Int64>) -> Bool {
        let changed = readers.move(id, read: pieces(under: read), ahead: pieces(under: ahead))
        lastReaderActivity = context.now
        if !changed.isEmpty { publishHeldPieces() }
        return applyReaderPriorities(changed)
    }

    /// The pieces under a range of the torrent's bytes (empty for an empty range).
    func pieces(under range: Range<Int64>) -> Range<Int> {
        guard let info, !range.isEmpty else { return 0..<0 }
        let upper = min(range.upperBound, info.totalLength)
        guard range.lowerBound < upper else { return 0..<0 }
        return Int(range.lowerBound / Int64(info.pieceLength))..<Int((upper - 1) / Int64(info.pieceLength) + 1)
    }

    /// Sets each piece's priority to what the readers and a whole download want of it; a
    /// waiting read's deadline is left alone. A piece a reader left half-downloaded stays
    /// wanted (at `normal`) so its buffer is finished and written rather than held.
    /// Returns whether a piece was raised.
    @discardableResult
    func applyReaderPriorities(_ pieces: Set<Int>) -> Bool {
        guard picker != nil else { return false }
        let base = downloadWhole ? PiecePicker.normal : PiecePicker.skip
        var raised = false
        for piece in pieces where piece >= 0 && piece < picker!.pieceCount && !picker!.have[piece] && !picker!.hasDeadline(piece) {
            let started = pipeline?.stage(of: piece) == .partial ? PiecePicker.normal : PiecePicker.skip
            let wanted = max(base, started, readers.priority(of: piece))
            if wanted > picker!.priority(of: piece) { raised = true }
            picker!.setPriority(wanted, of: piece)
        }
        return raised
    }
}
