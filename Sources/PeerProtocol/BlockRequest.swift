/// One block of a piece, as `request`, `cancel` and `reject request` name it (BEP 3, BEP 6).
///
/// Hashable because the engine keys its in-flight requests by it: a `piece`
/// message is matched back to its request by the same three numbers.
public struct BlockRequest: Hashable, Sendable, CustomStringConvertible {
    public var piece: UInt32
    /// Byte offset of the block within the piece.
    public var begin: UInt32
    public var length: UInt32

    public init(piece: UInt32, begin: UInt32, length: UInt32) {
        self.piece = piece
        self.begin = begin
        self.length = length
    }

    public var description: String { "piece \(piece) bytes \(begin)+\(length)" }
}
