/// Incoming STUN: the peer's checks (RFC 8445 §7.3) and the responses to ours (§7.2.5).
extension ICEAgent {
    /// A STUN datagram from `source` that arrived on our socket at `base` (one of our candidates'
    /// bases, exactly as in ``ICELocalCandidate/base``).
    public mutating func receive(_ datagram: [UInt8], from source: ICETransportAddress, to base: ICETransportAddress,
                                 now: ContinuousClock.Instant) -> [ICEAction] {
        switch state {
        case .new, .finished: return [.ignored("STUN from \(source) while the agent is not running")]
        case .checking, .selected: break
        }
        guard localCandidates.contains(where: { $0.base == base }) else {
            return [.ignored("STUN from \(source) arrived on \(base), which is not the base of a local candidate")]
        }
        let message: STUNMessage
        do {
            message = try STUNMessage(decoding: datagram)
        } catch {
            return [.ignored("from \(source): \(error)")]
        }
        guard message.method == STUNMessage.bindingMethod else {
            return [.ignored("STUN method 0x\(String(message.method, radix: 16)) from \(source) is not Binding")]
        }
        var actions: [ICEAction]
        switch message.messageClass {
        case .request: actions = answer(message, from: source, to: base, now: now)
        case .successResponse, .errorResponse: actions = handleResponse(message, from: source, to: base, now: now)
        case .indication: return []  // a keepalive
        }
        // A triggered check may be due at once.
        return actions + tick(now: now)
    }

    mutating func answer(_ request: STUNMessage, from source: ICETransportAddress, to base: ICETransportAddress,
                         now: ContinuousClock.Instant) -> [ICEAction] {
        let localKey = Array(localCredentials.pwd.utf8)
        func reject(_ code: Int, _ reason: String, authenticated: Bool, extra: [STUNAttribute] = [], log: String) -> [ICEAction] {
            let response = STUNMessage(.errorResponse, transactionID: request.transactionID,
                                       attributes: [.errorCode(code: code, reason: reason)] + extra)
            guard let bytes = try? response.encoded(integrityKey: authenticated ? localKey : nil) else { return [.ignored(log)] }
            return [.ignored("check from \(source) answered \(code): \(log)"), .send(bytes, from: base, to: source)]
        }
        // RFC 8489 §9.1.3: no USERNAME or no MESSAGE-INTEGRITY → 400; wrong user or MAC → 401.
        guard let username = request.username, request.hasMessageIntegrity else {
            return reject(400, "Bad Request", authenticated: false, log: "no USERNAME or MESSAGE-INTEGRITY")
        }
        guard username.split(separator: ":", maxSplits: 1).first.map(String.init) == localCredentials.ufrag else {
            return reject(401, "Unauthorized", authenticated: false, log: "USERNAME '\(username)' is not for our ufrag")
        }
        do {
            try request.checkIntegrity(key: localKey)
        } catch {
            return reject(401, "Unauthorized", authenticated: false, log: "\(error)")
        }
        let unknown = request.attributes.filter(\.isUnknownComprehensionRequired).map(\.type)
        guard unknown.isEmpty else {
            return reject(420, "Unknown Attribute", authenticated: true, extra: [.unknownAttributes(unknown)],
                         log: "comprehension-required attributes it does not know")
        }
        guard let priority = request.priority else {
            return reject(400, "Bad Request", authenticated: true, log: "no PRIORITY")
        }
        var actions: [ICEAction] = []
        // RFC 8445 §7.3.1.1: both claim the same role; the larger tie-breaker takes control.
        if role == .controlling, let theirs = request.iceControlling {
            if tieBreaker >= theirs { return reject(487, "Role Conflict", authenticated: true, log: "both controlling, ours wins") }
            actions += switchRole(to: .controlled, now: now)
        } else if role == .controlled, let theirs = request.iceControlled {
            if tieBreaker < theirs { return reject(487, "Role Conflict", authenticated: true, log: "both controlled, theirs wins") }
            actions += switchRole(to: .controlling, now: now)
        }
        let success = STUNMessage(.successResponse, transactionID: request.transactionID, attributes: [.xorMappedAddress(source)])
        guard let bytes = try? success.encoded(integrityKey: localKey) else { return actions }
        actions.append(.send(bytes, from: base, to: source))
        guard state == .checking else { return actions }
        return actions + triggerCheck(from: source, to: base, priority: priority, useCandidate: request.useCandidate, now: now)
    }

    /// RFC 8445 §7.3.1.3 to §7.3.1.5: learn a peer-reflexive candidate, check the pair back, and
    /// (controlled) note the nomination.
    mutating func triggerCheck(from source: ICETransportAddress, to base: ICETransportAddress, priority: UInt32,
                               useCandidate: Bool, now: ContinuousClock.Instant) -> [ICEAction] {
        var actions: [ICEAction] = []
        if !remoteCandidates.contains(where: { $0.address == source }) {
            guard remoteCandidates.count < configuration.maximumRemoteCandidates else {
                return [.ignored("peer-reflexive \(source) not learned: over \(configuration.maximumRemoteCandidates) remote candidates")]
            }
            addPairs(for: RemoteCandidate(address: source, priority: priority, foundation: "prflx\(remoteCandidates.count)"),
                     initialState: .waiting)
            actions.append(.ignored("learned peer-reflexive remote candidate \(source)"))
        }
        guard let index = pairs.firstIndex(where: { $0.local.base == base && $0.remote.address == source }) else {
            return actions + [.ignored("no pair for \(base) → \(source): over \(configuration.maximumPairs) pairs")]
        }
        if useCandidate, role == .controlled {
            if pairs[index].state == .succeeded { return actions + select(pairs[index], now: now) }
            pairs[index].nominateOnSuccess = true
        }
        switch pairs[index].state {
        case .succeeded, .inProgress:
            break
        case .frozen, .waiting, .failed:
            pairs[index].state = .waiting
            if !triggeredQueue.contains(pairs[index].id) { triggeredQueue.append(pairs[index].id) }
        }
        return actions
    }

    mutating func handleResponse(_ response: STUNMessage, from source: ICETransportAddress, to base: ICETransportAddress,
                                 now: ContinuousClock.Instant) -> [ICEAction] {
        guard let transaction = transactions[response.transactionID] else {
            return [.ignored("response from \(source) matches no check of ours")]
        }
        do {
            try response.checkIntegrity(key: Array(remoteCredentials.pwd.utf8))
        } catch {
            // Not authenticated, so not trusted: the transaction keeps waiting for the real answer.
            return [.ignored("response from \(source): \(error)")]
        }
        transactions[response.transactionID] = nil
        // RFC 8445 §7.2.5.2.1: the response must come back the way the request went.
        guard source == transaction.route.remote, base == transaction.route.local else {
            if case .check = transaction.purpose {
                return [.ignored("response from \(source) to \(base) for a check sent \(transaction.route): not symmetric")]
                    + pairFailed(transaction.pairID, now: now)
            }
            return [.ignored("consent response from \(source) to \(base), not the selected pair")]
        }
        if response.messageClass == .errorResponse {
            let (code, reason) = response.errorCode ?? (0, "no ERROR-CODE")
            guard case .check = transaction.purpose else { return [.ignored("consent check answered \(code) \(reason)")] }
            if code == 487 {
                // §7.2.5.1: switch from the role the check claimed, then check the pair again.
                var actions = role == transaction.roleAtSend ? switchRole(to: transaction.roleAtSend.other, now: now) : []
                if let index = pairIndex(transaction.pairID) {
                    pairs[index].state = .waiting
                    if nominatingPairID == transaction.pairID { nominatingPairID = nil }
                    if !triggeredQueue.contains(transaction.pairID) { triggeredQueue.append(transaction.pairID) }
                }
                actions += nominateIfControlling(now: now)
                return actions
            }
            return [.ignored("check on \(transaction.route) answered \(code) \(reason)")] + pairFailed(transaction.pairID, now: now)
        }
        switch transaction.purpose {
        case .consent:
            lastConsent = now
            return []
        case .check(let useCandidate):
            return pairSucceeded(transaction.pairID, nominated: useCandidate, now: now)
        }
    }

    mutating func switchRole(to newRole: ICERole, now: ContinuousClock.Instant) -> [ICEAction] {
        guard role != newRole else { return [] }
        role = newRole
        nominatingPairID = nil
        for index in pairs.indices {
            pairs[index].priority = pairPriority(pairs[index])
            pairs[index].nominateOnSuccess = false
        }
        sortPairs()
        return [.roleChanged(newRole)] + nominateIfControlling(now: now)
    }
}
