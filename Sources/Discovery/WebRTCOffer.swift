/// The random 20-byte id that ties a WebRTC offer to the answer the tracker relays back.
public struct WebRTCOfferID: Hashable, Sendable, CustomStringConvertible {
    public static let byteCount = 20
    public let bytes: [UInt8]

    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == Self.byteCount else { return nil }
        self.bytes = Array(bytes)
    }

    public static func random(using generator: inout some RandomNumberGenerator) -> WebRTCOfferID {
        WebRTCOfferID(bytes: (0..<byteCount).map { _ in UInt8.random(in: .min ... .max, using: &generator) })!
    }

    public var description: String { bytes.map { String($0, radix: 16).leftPadded(to: 2) }.joined() }
}

/// One of our offers in an announce: the engine's SDP (non-trickle, every candidate in it) and
/// the id the answer will come back with.
public struct WebRTCOffer: Equatable, Sendable {
    public var offerID: WebRTCOfferID
    public var sdp: String

    public init(offerID: WebRTCOfferID, sdp: String) {
        self.offerID = offerID
        self.sdp = sdp
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: max(0, width - count)) + self
    }
}
