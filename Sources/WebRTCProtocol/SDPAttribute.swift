/// One `a=` line: `a=name` (a flag such as `extmap-allow-mixed`) or `a=name:value`.
public struct SDPAttribute: Equatable, Sendable {
    public var name: String
    public var value: String?

    public init(_ name: String, _ value: String? = nil) {
        self.name = name
        self.value = value
    }

    /// The text after `a=`.
    public var text: String {
        value.map { "\(name):\($0)" } ?? name
    }

    init(parsing text: Substring) {
        if let colon = text.firstIndex(of: ":") {
            name = String(text[..<colon])
            value = String(text[text.index(after: colon)...])
        } else {
            name = String(text)
            value = nil
        }
    }
}
