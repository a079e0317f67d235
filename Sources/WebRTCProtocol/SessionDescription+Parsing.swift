extension SessionDescription {
    /// Parses a browser's offer or answer. Lines may end in CRLF (as RFC 8866 says) or a bare LF;
    /// blank lines are skipped. Media-level ICE and DTLS attributes win over session-level ones.
    public init(parsing sdp: String, sizeLimit: Int = defaultSizeLimit, lineLimit: Int = defaultLineLimit) throws {
        let size = sdp.utf8.count
        guard size <= sizeLimit else { throw SDPError.tooLarge(size: size, limit: sizeLimit) }
        var origin: Origin?
        var sessionName = "-"
        var sessionAttributes: [SDPAttribute] = []
        var sessionDefaults = MediaFields()
        var media: MediaFields?
        var sawVersion = false

        // Split on bytes: to a String, CRLF is one Character, which "\n" would not match.
        for (index, rawLine) in sdp.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
            .enumerated() {
            let number = index + 1
            let line = Substring(rawLine.last == UInt8(ascii: "\r") ? rawLine.dropLast() : rawLine)
            if line.isEmpty { continue }
            guard line.utf8.count <= lineLimit else {
                throw SDPError.lineTooLong(line: number, length: line.utf8.count, limit: lineLimit)
            }
            let malformed = SDPError.malformedLine(line: number, text: String(line))
            guard line.count >= 2, let type = line.first, type.isASCII, type.isLetter,
                  line[line.index(after: line.startIndex)] == "=" else { throw malformed }
            let value = line.dropFirst(2)
            guard sawVersion || type == "v" else { throw malformed }
            switch type {
            case "v":
                guard !sawVersion, value == "0" else { throw malformed }
                sawVersion = true
            case "o" where media == nil:
                let fields = value.split(separator: " ")
                guard fields.count == 6, fields[3] == "IN", fields[1].allSatisfy(\.isNumber),
                      let version = UInt64(fields[2]) else { throw malformed }
                origin = Origin(username: String(fields[0]), sessionID: String(fields[1]), sessionVersion: version,
                                addressType: String(fields[4]), address: String(fields[5]))
            case "s" where media == nil:
                sessionName = String(value)
            case "m":
                let fields = value.split(separator: " ")
                guard fields.count >= 4 else { throw malformed }
                guard fields[0] == "application" else { throw SDPError.unsupportedMedia(String(fields[0])) }
                guard media == nil else { throw SDPError.unsupportedMedia("a second application section") }
                guard fields[2] == "UDP/DTLS/SCTP" || fields[2] == "TCP/DTLS/SCTP",
                      fields.count == 4, fields[3] == "webrtc-datachannel" else {
                    throw SDPError.unsupportedTransport(fields.dropFirst(2).joined(separator: " "))
                }
                guard let port = UInt16(fields[1]) else { throw malformed }
                var section = sessionDefaults
                section.port = port
                section.transport = String(fields[2])
                media = section
            case "c" where media != nil:
                let fields = value.split(separator: " ")
                guard fields.count == 3, fields[0] == "IN" else { throw malformed }
                media!.connection = (String(fields[1]), String(fields[2]))
            case "a":
                let attribute = SDPAttribute(parsing: value)
                if media != nil {
                    _ = try media!.take(attribute, line: number, mediaLevel: true)
                } else if try !sessionDefaults.take(attribute, line: number, mediaLevel: false) {
                    sessionAttributes.append(attribute)
                }
            default:
                // t=, b=, c= at session level, k=, …: nothing a data channel needs.
                break
            }
        }
        guard sawVersion, let origin else { throw SDPError.malformedLine(line: 1, text: "no 'v=0' and 'o=' lines") }
        guard let media else { throw SDPError.noApplicationSection }
        self.init(origin: origin, sessionName: sessionName, attributes: sessionAttributes, media: try media.validated())
    }
}

/// The application section's fields as the lines bring them, checked once the section is read.
private struct MediaFields {
    var port: UInt16 = 9
    var transport = "UDP/DTLS/SCTP"
    var connection = ("IP4", "0.0.0.0")
    var iceUfrag: String?
    var icePwd: String?
    var iceOptions: [String] = []
    var fingerprint: DTLSFingerprint?
    var setup: DTLSSetup?
    var mid: String?
    var sctpPort: UInt16 = 5000
    var maxMessageSize: UInt64?
    var candidates: [ICECandidate] = []
    var endOfCandidates = false
    var others: [SDPAttribute] = []

    /// Takes the attribute if it is one we interpret (at session level only those RFC 8839/8842 allow
    /// there); returns whether it did.
    mutating func take(_ attribute: SDPAttribute, line: Int, mediaLevel: Bool) throws -> Bool {
        let value = attribute.value ?? ""
        let malformed = SDPError.malformedAttribute(name: attribute.name, value: value)
        switch attribute.name {
        case "ice-ufrag":
            guard ICECredentials.isValid(ufrag: value) else { throw malformed }
            iceUfrag = value
        case "ice-pwd":
            guard ICECredentials.isValid(pwd: value) else { throw malformed }
            icePwd = value
        case "ice-options":
            iceOptions = value.split(separator: " ").map(String.init)
        case "fingerprint":
            fingerprint = try DTLSFingerprint(parsing: value)
        case "setup":
            guard let role = DTLSSetup(rawValue: value) else { throw malformed }
            setup = role
        case "end-of-candidates":
            endOfCandidates = true
        case "mid" where mediaLevel:
            guard !value.isEmpty, !value.contains(" ") else { throw malformed }
            mid = value
        case "sctp-port" where mediaLevel:
            guard let port = UInt16(value) else { throw malformed }
            sctpPort = port
        case "max-message-size" where mediaLevel:
            guard let size = UInt64(value) else { throw malformed }
            maxMessageSize = size
        case "candidate" where mediaLevel:
            candidates.append(try ICECandidate(parsing: value, line: line))
        default:
            if mediaLevel { others.append(attribute) }
            return false
        }
        return true
    }

    func validated() throws -> DataChannelMedia {
        guard let iceUfrag else { throw SDPError.missingAttribute("ice-ufrag") }
        guard let icePwd else { throw SDPError.missingAttribute("ice-pwd") }
        guard let fingerprint else { throw SDPError.missingAttribute("fingerprint") }
        return DataChannelMedia(port: port, transport: transport, connectionAddressType: connection.0,
                                connectionAddress: connection.1, iceUfrag: iceUfrag, icePwd: icePwd,
                                iceOptions: iceOptions, fingerprint: fingerprint, setup: setup, mid: mid,
                                sctpPort: sctpPort, maxMessageSize: maxMessageSize, candidates: candidates,
                                endOfCandidates: endOfCandidates, otherAttributes: others)
    }
}
