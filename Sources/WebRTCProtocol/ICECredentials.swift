/// Our side's ICE username fragment and password (`a=ice-ufrag`, `a=ice-pwd`), which the peer's
/// STUN checks must carry. RFC 8839 §5.4: ufrag 4 to 256, pwd 22 to 256 ice-chars
/// (letters, digits, `+`, `/`); browsers refuse a description whose credentials break that.
public struct ICECredentials: Equatable, Sendable {
    public var ufrag: String
    public var pwd: String

    public init(ufrag: String, pwd: String) throws {
        guard Self.isValid(ufrag: ufrag) else { throw SDPError.malformedAttribute(name: "ice-ufrag", value: ufrag) }
        guard Self.isValid(pwd: pwd) else { throw SDPError.malformedAttribute(name: "ice-pwd", value: pwd) }
        self.ufrag = ufrag
        self.pwd = pwd
    }

    static func isValid(ufrag: String) -> Bool {
        (4...256).contains(ufrag.utf8.count) && ufrag.utf8.allSatisfy(isICEChar)
    }

    static func isValid(pwd: String) -> Bool {
        (22...256).contains(pwd.utf8.count) && pwd.utf8.allSatisfy(isICEChar)
    }

    private static func isICEChar(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "+"), UInt8(ascii: "/"): true
        default: false
        }
    }
}

extension ICECredentials {
    /// New credentials for one peer connection: 8 and 24 ice-chars, above RFC 8839's minimums
    /// (the password keys the checks' HMAC, so it comes from the system's secure generator
    /// unless a test passes its own).
    public static func random<G: RandomNumberGenerator>(using generator: inout G) -> ICECredentials {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/")
        func draw(_ count: Int) -> String { String((0..<count).map { _ in alphabet.randomElement(using: &generator)! }) }
        // Both are made of ice-chars in the allowed lengths, so the checks cannot fail.
        return try! ICECredentials(ufrag: draw(8), pwd: draw(24))
    }

    public static func random() -> ICECredentials {
        var generator = SystemRandomNumberGenerator()
        return random(using: &generator)
    }
}
