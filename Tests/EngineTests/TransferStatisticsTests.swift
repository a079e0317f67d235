@testable import Engine
import Testing

@Suite struct TransferStatisticsTests {
    @Test func countsWhatMovedAndWhatWasWasted() {
        var statistics = TransferStatistics()
        statistics.downloaded(16384)
        statistics.downloaded(100)
        statistics.uploaded(5)
        statistics.wasted(7)
        statistics.rechecked(3)
        #expect(statistics.downloadedBytes == 16484)
        #expect(statistics.uploadedBytes == 5)
        #expect(statistics.wastedBytes == 7)
        #expect(statistics.recheckedPieces == 3)
        #expect(statistics.hashFailures == 0)
    }

    /// A piece that fails its hash check wastes every byte of it.
    @Test func aHashFailureWastesTheWholePiece() {
        var statistics = TransferStatistics()
        statistics.wasted(10)
        statistics.hashFailed(pieceLength: 65536)
        statistics.hashFailed(pieceLength: 1000)
        #expect(statistics.hashFailures == 2)
        #expect(statistics.wastedBytes == 10 + 65536 + 1000)
        #expect(statistics.downloadedBytes == 0)
    }
}
