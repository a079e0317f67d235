@testable import Engine
import Foundation
import PeerHarness
import Testing
import TestSupport
import TorrentModel

/// Readers that move: the pieces each open reader wants, and the priorities the torrent
/// gives pieces from them, recomputed when a reader seeks or closes.
@Suite struct ReaderWindowsTests {
    @Test func aMoveHandsBackWhatItNoLongerWantsAndWhatItNowWants() {
        var windows = ReaderWindows()
        let (reader, opened) = windows.open()
        #expect(opened.isEmpty)
        #expect(windows.move(reader, read: 0..<1, ahead: 1..<5) == Set(0..<5))
        #expect((0..<5).allSatisfy { windows.priority(of: $0) == ReaderWindows.priority })
        // Sequential: the window slides; only the pieces at its edges change.
        #expect(windows.move(reader, read: 1..<2, ahead: 2..<7) == [0, 5, 6])
        // A seek: the whole old window is handed back, the new one wanted.
        #expect(windows.move(reader, read: 40..<41, ahead: 0..<0) == Set(1..<7).union([40]))
        #expect((1..<7).allSatisfy { windows.priority(of: $0) == PiecePicker.skip })
        #expect(windows.priority(of: 40) == ReaderWindows.priority)
        #expect(windows.close(reader) == [40])
        #expect(windows.priority(of: 40) == PiecePicker.skip)
        #expect(windows.count == 0)
    }

    @Test func aPieceTwoReadersWantStaysWantedUntilBothLetGo() {
        var windows = ReaderWindows()
        let (first, _) = windows.open()
        let (second, _) = windows.open()
        #expect(first != second)
        _ = windows.move(first, read: 10..<11, ahead: 11..<14)
        _ = windows.move(second, read: 12..<13, ahead: 13..<16)
        _ = windows.move(first, read: 50..<51, ahead: 0..<0)
        #expect(windows.priority(of: 10) == PiecePicker.skip)
        #expect(windows.priority(of: 12) == ReaderWindows.priority)
        #expect(windows.priority(of: 13) == ReaderWindows.priority)
        _ = windows.close(second)
        #expect(windows.priority(of: 13) == PiecePicker.skip)
        #expect(windows.priority(of: 50) == ReaderWindows.priority)
    }

    @Test func aMediaFilesEdgesStayWantedUntilItsReaderCloses() {
        var windows = ReaderWindows()
        let (reader, wanted) = windows.open(edges: [0..<2, 98..<100, 5..<5])
        #expect(wanted == [0, 1, 98, 99])
        _ = windows.move(reader, read: 50..<51, ahead: 51..<53)
        _ = windows.move(reader, read: 70..<71, ahead: 0..<0)
        #expect([0, 1, 98, 99, 70].allSatisfy { windows.priority(of: $0) == ReaderWindows.priority })
        #expect(windows.priority(of: 51) == PiecePicker.skip)
        #expect(windows.close(reader) == [0, 1, 70, 98, 99])
    }

    @Test func rangesAreSubtractedPieceForPiece() {
        let cases: [([Range<Int>], [Range<Int>])] = [
            ([0..<10], [3..<5]), ([0..<10], [0..<10]), ([0..<10], [8..<20, 0..<2]), ([0..<4, 6..<9], [3..<7]),
            ([5..<5, 2..<3], [0..<1]), ([0..<10], []), ([], [0..<3]), ([0..<3, 2..<6], [1..<2]),
        ]
        for (ranges, removed) in cases {
            let expected = Set(ranges.flatMap { $0 }).subtracting(removed.flatMap { $0 })
            let found = ReaderWindows.subtract(ranges, removed).flatMap { $0 }
            #expect(Set(found) == expected, "\(ranges) - \(removed)")
        }
    }

    /// A window sliding along a long file hands back only its two ends, and the same read
    /// again hands back nothing.
    @Test func aSlidingWindowChangesOnlyAtItsEnds() {
        var windows = ReaderWindows()
        let (reader, _) = windows.open()
        _ = windows.move(reader, read: 0..<1, ahead: 1..<129)
        #expect(windows.move(reader, read: 1..<2, ahead: 2..<130) == [0, 129])
        #expect(windows.move(reader, read: 1..<2, ahead: 2..<130).isEmpty)
        // The window grows: only the new end.
        #expect(windows.move(reader, read: 1..<2, ahead: 2..<200) == Set(130..<200))
    }

    @Test func anUnknownReaderChangesNothing() {
        var windows = ReaderWindows()
        let (reader, _) = windows.open()
        _ = windows.close(reader)
        #expect(windows.move(reader, read: 0..<3, ahead: 3..<4).isEmpty)
        #expect(windows.close(reader).isEmpty)
        #expect(windows.priority(of: 0) == PiecePicker.skip)
    }

    /// The same, through a torrent's picker: a seek lowers the old window, a close releases
    /// it, a pinned torrent keeps wanting everything, and MemoFS names no priority.
    @Test func aTorrentsPrioritiesFollowItsReaders() async throws {
        let folder = try TemporaryFolder()
        let pieceLength = 16384
        try folder.write("memo.webm", count: 200 * pieceLength, seed: 5)
        let metainfo = try TorrentCreator.createBlocking(from: folder.path + "/memo.webm", options: .init(pieceLength: pieceLength))
        try await withSession(testConfiguration(folder.path + "/data")) { session in
            let torrent = try await session.add(metainfo: metainfo)
            func priorities(_ pieces: some Sequence<Int>) async -> Set<UInt8> {
                var found: Set<UInt8> = []
                for piece in pieces { found.insert(await torrent.picker!.priority(of: piece)) }
                return found
            }
            let bytes = { (pieces: Range<Int>) in Int64(pieces.lowerBound * pieceLength)..<Int64(pieces.upperBound * pieceLength) }
            // A media file's reader wants its first and last MiB (64 pieces each) from its open.
            let player = await torrent.openReader(file: 0, fetchEdges: true)
            #expect(await priorities(0..<64) == [PiecePicker.high])
            #expect(await priorities(136..<200) == [PiecePicker.high])
            #expect(await priorities(64..<136) == [PiecePicker.skip])

            let reader = await torrent.openReader(file: 0)
            #expect(await torrent.moveReader(reader, read: bytes(70..<71), ahead: bytes(71..<80)))
            #expect(await priorities(70..<80) == [PiecePicker.high])
            // A seek: the old window goes back to waiting for a reader.
            #expect(await torrent.moveReader(reader, read: bytes(100..<101), ahead: bytes(101..<104)))
            #expect(await priorities(70..<100) == [PiecePicker.skip])
            #expect(await priorities(100..<104) == [PiecePicker.high])
            // The same pieces again: nothing new is wanted.
            #expect(await !torrent.moveReader(reader, read: bytes(100..<101), ahead: bytes(101..<104)))
            await torrent.closeReader(reader)
            #expect(await priorities(64..<136) == [PiecePicker.skip])
            #expect(await priorities(0..<64) == [PiecePicker.high], "the player still has the file open")

            // Pinned: what no reader wants is still wanted whole, and closing changes nothing of that.
            try await session.setPinned(metainfo.infoHash, true)
            #expect(await priorities(64..<136) == [PiecePicker.normal])
            await torrent.closeReader(player)
            #expect(await priorities(0..<200) == [PiecePicker.normal])
            try await session.setPinned(metainfo.infoHash, false)
            #expect(await priorities(0..<200) == [PiecePicker.skip])
            #expect(await torrent.openReaders == 0)
        }
    }
}
