/// Why a magnet link or share link was refused, in words that name the part at fault.
public struct MagnetError: Error, Equatable, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
