/// One open file's reading position, for readahead: the window after a read starts at
/// 1 MiB and doubles while reads stay sequential; a seek drops it to nothing until reads
/// are sequential again, so random reads fetch only what they read and never queue
/// readahead in front of the next random read.
struct ReadHead: Sendable {
    static let initialWindow: Int64 = 1 << 20
    static let maximumWindow: Int64 = 32 << 20

    private(set) var expectedOffset: Int64 = 0
    private(set) var window: Int64 = 0

    /// Records a read and returns the range to fetch ahead of it (empty after a seek).
    mutating func advance(offset: Int64, length: Int, fileLength: Int64) -> Range<Int64> {
        if offset == expectedOffset {
            window = window == 0 ? Self.initialWindow : min(window * 2, Self.maximumWindow)
        } else {
            window = 0
        }
        let end = min(offset + Int64(length), fileLength)
        expectedOffset = end
        return end..<min(end + window, fileLength)
    }
}
