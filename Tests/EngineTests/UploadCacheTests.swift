@testable import Engine
import NIOCore
import Testing

@Suite struct UploadCacheTests {
    func piece(_ size: Int, _ fill: UInt8) -> ByteBuffer { ByteBuffer(bytes: [UInt8](repeating: fill, count: size)) }

    @Test func holdsNoMoreThanItsCapacityDroppingTheLeastRecentlyUsed() {
        var cache = UploadCache(capacity: 3000)
        cache.keep(0, piece(1000, 0))
        cache.keep(1, piece(1000, 1))
        cache.keep(2, piece(1000, 2))
        let hit = cache.take(0)  // 0 is now the most recently used
        #expect(hit == piece(1000, 0))
        cache.keep(3, piece(1000, 3))
        #expect(cache.pieces == [2, 0, 3])
        #expect(cache.totalBytes == 3000)
        let dropped = cache.take(1)
        #expect(dropped == nil)
    }

    @Test func keepsTheNewestPieceEvenWhenItAloneIsTooBig() {
        var cache = UploadCache(capacity: 3000)
        cache.keep(0, piece(1000, 0))
        cache.keep(1, piece(5000, 1))
        #expect(cache.pieces == [1])
        #expect(cache.totalBytes == 5000)
        cache.keep(2, piece(1000, 2))
        #expect(cache.pieces == [2])
    }

    @Test func aPieceKeptTwiceCountsOnce() {
        var cache = UploadCache(capacity: 3000)
        cache.keep(0, piece(1000, 0))
        cache.keep(0, piece(1000, 9))
        #expect(cache.pieces == [0])
        #expect(cache.totalBytes == 1000)
        let newest = cache.take(0)
        #expect(newest == piece(1000, 9))
    }

    @Test func thePipelinesCacheHoldsSixtyFourMiB() {
        #expect(PiecePipeline.uploadCacheBytes == 64 << 20)
    }
}
