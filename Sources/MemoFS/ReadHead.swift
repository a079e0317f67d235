/// One open file's reading position, for readahead: the window after a read doubles
/// while reads stay sequential and falls back to its start on a seek.
struct ReadHead: Sendable {
    static let initialWindow: Int64 = 1 << 20
    static let maximumWindow: Int64 = 32 << 20

    private(set) var expectedOffset: Int64 = 0
    private(set) var window: Int64 = initialWindow

    /// Records a read and returns the range to fetch ahead of it.
    mutating func advance(offset: Int64, length: Int, fileLength: Int64) -> Range<Int64> {
        if offset == expectedOffset {
            window = min(window * 2, Self.maximumWindow)
        } else {
            window = Self.initialWindow
        }
        let end = min(offset + Int64(length), fileLength)
        expectedOffset = end
        return end..<min(end + window, fileLength)
    }
}
