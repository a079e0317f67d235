import Foundation
import TorrentModel

/// Size limits for what crosses a WebSocket tracker connection. A browser's non-trickle SDP with
/// a few host candidates is about 1 KB; one with many interfaces stays well under 16 KiB. An
/// announce holds at most 10 offers, so 256 KiB bounds every honest message with room to spare.
public enum WebSocketTrackerLimits {
    public static let maxMessageBytes = 256 * 1024
    public static let maxSDPBytes = 16 * 1024
}

/// One decoded JSON object from a tracker, with typed field access that names the field at fault.
struct WebSocketTrackerJSON {
    let object: [String: Any]

    init(parsing text: String) throws(WebSocketTrackerError) {
        let data = Data(text.utf8)
        guard data.count <= WebSocketTrackerLimits.maxMessageBytes else {
            throw .messageTooLarge(bytes: data.count, limit: WebSocketTrackerLimits.maxMessageBytes)
        }
        let value: Any
        do {
            value = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            throw .malformedJSON(String(describing: error))
        }
        guard let object = value as? [String: Any] else { throw .notAnObject(found: Self.kind(of: value)) }
        self.object = object
    }

    init(object: [String: Any]) { self.object = object }

    static func kind(of value: Any) -> String {
        switch value {
        case is [Any]: "array"
        case is String: "string"
        case is NSNull: "null"
        case is NSNumber: "number"
        default: "value"
        }
    }

    /// A message a peer sends the tracker: only announces (ours, and our answers) have an
    /// encoding here, so any other action is refused.
    init(parsingAnnounce text: String) throws(WebSocketTrackerError) {
        try self.init(parsing: text)
        guard has("action") else { throw .missingAction }
        let action = try string("action")
        guard action == "announce" else { throw .unknownAction(action) }
    }

    func has(_ field: String) -> Bool { object[field] != nil && !(object[field] is NSNull) }

    func string(_ field: String) throws(WebSocketTrackerError) -> String {
        guard let value = object[field] else { throw .missingField(field) }
        guard let text = value as? String else { throw .wrongType(field: field, expected: "string") }
        return text
    }

    func optionalString(_ field: String) throws(WebSocketTrackerError) -> String? {
        has(field) ? try string(field) : nil
    }

    func integer(_ field: String) throws(WebSocketTrackerError) -> Int64 {
        guard let value = object[field] else { throw .missingField(field) }
        guard let number = value as? NSNumber, let integer = Int64(exactly: number.doubleValue)
        else { throw .wrongType(field: field, expected: "whole number") }
        return integer
    }

    func optionalInteger(_ field: String) throws(WebSocketTrackerError) -> Int64? {
        has(field) ? try integer(field) : nil
    }

    func binary(_ field: String) throws(WebSocketTrackerError) -> [UInt8] {
        try BinaryString.bytes(of: try string(field), field: field)
    }

    func infoHash(_ field: String = "info_hash") throws(WebSocketTrackerError) -> InfoHash {
        InfoHash(bytes: try binary(field))!
    }

    func peerID(_ field: String) throws(WebSocketTrackerError) -> PeerID {
        PeerID(bytes: try binary(field))!
    }

    func offerID(_ field: String = "offer_id") throws(WebSocketTrackerError) -> WebRTCOfferID {
        WebRTCOfferID(bytes: try binary(field))!
    }

    func nested(_ field: String) throws(WebSocketTrackerError) -> WebSocketTrackerJSON {
        guard let value = object[field] else { throw .missingField(field) }
        guard let nested = value as? [String: Any] else { throw .wrongType(field: field, expected: "object") }
        return WebSocketTrackerJSON(object: nested)
    }

    /// The SDP of an `offer` or `answer` object (`{"type": kind, "sdp": …}`), size-checked.
    func sessionDescription(_ field: String, type kind: String) throws(WebSocketTrackerError) -> String {
        let description = try nested(field)
        if let type = try description.optionalString("type"), type != kind {
            throw .wrongType(field: "\(field).type", expected: "'\(kind)'")
        }
        let sdp = try description.string("sdp")
        try WebSocketTrackerJSON.checkSDP(sdp, field: "\(field).sdp")
        return sdp
    }

    static func checkSDP(_ sdp: String, field: String) throws(WebSocketTrackerError) {
        let bytes = sdp.utf8.count
        guard bytes <= WebSocketTrackerLimits.maxSDPBytes else {
            throw .sdpTooLarge(field: field, bytes: bytes, limit: WebSocketTrackerLimits.maxSDPBytes)
        }
    }

    /// `{"type": kind, "sdp": …}` as JSON text.
    static func sessionDescriptionText(type kind: String, sdp: String) -> String {
        var json = JSONText()
        json.add("type", kind)
        json.add("sdp", sdp)
        return json.closed()
    }
}
