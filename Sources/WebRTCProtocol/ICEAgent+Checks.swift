/// Outgoing checks: pacing, retransmission, nomination, selection, failure and consent.
extension ICEAgent {
    /// Does what is due at `now`: retransmissions and timeouts, the next paced check, consent.
    public mutating func tick(now: ContinuousClock.Instant) -> [ICEAction] {
        var actions: [ICEAction] = []
        switch state {
        case .new, .finished:
            return []
        case .checking:
            if let startedAt, now >= startedAt + configuration.connectTimeout {
                return finish(with: .failed(.timedOut(after: configuration.connectTimeout)))
            }
        case .selected:
            if let lastConsent, now >= lastConsent + configuration.consentTimeout {
                return finish(with: .consentLost)
            }
        }
        actions += retransmitOrExpire(now: now)
        if state == .checking, let nextPacedCheck, now >= nextPacedCheck, let id = nextPairToCheck(),
           let index = pairIndex(id) {
            pairs[index].state = .inProgress
            actions += send(.check(useCandidate: false), on: pairs[index], now: now)
            self.nextPacedCheck = now + configuration.pacing
        }
        if case .selected = state, let nextConsentRequest, now >= nextConsentRequest,
           let pair = pairs.first(where: { $0.route == selectedPair }) {
            actions += send(.consent, on: pair, now: now)
            self.nextConsentRequest = now + jitteredConsentInterval()
        }
        return actions + failIfNothingLeft()
    }

    /// The triggered queue first, then the best waiting pair, then (RFC 8445 §6.1.4.2) the best
    /// frozen pair whose foundation has nothing waiting or in progress.
    mutating func nextPairToCheck() -> Int? {
        while !triggeredQueue.isEmpty {
            let id = triggeredQueue.removeFirst()
            if let index = pairIndex(id), pairs[index].state == .waiting { return id }
        }
        if let pair = pairs.first(where: { $0.state == .waiting }) { return pair.id }
        let busy = Set(pairs.filter { $0.state == .waiting || $0.state == .inProgress }.map(\.foundation))
        if let pair = pairs.first(where: { $0.state == .frozen && !busy.contains($0.foundation) }) { return pair.id }
        // Every frozen foundation is busy: take the best frozen pair anyway rather than idle.
        return pairs.first { $0.state == .frozen }?.id
    }

    /// A Binding request for `pair`: USERNAME `remote:local`, PRIORITY as a peer-reflexive
    /// candidate of ours would have, our role and tie-breaker, integrity with the remote password.
    mutating func send(_ purpose: Purpose, on pair: Pair, now: ContinuousClock.Instant) -> [ICEAction] {
        let transactionID = STUNTransactionID(using: &random)
        var attributes: [STUNAttribute] = [
            .username("\(remoteCredentials.ufrag):\(localCredentials.ufrag)"),
            .priority(ICELocalCandidate.priority(kind: .prflx, localPreference: pair.local.localPreference)),
            role == .controlling ? .iceControlling(tieBreaker) : .iceControlled(tieBreaker),
        ]
        if purpose == .check(useCandidate: true) { attributes.append(.useCandidate) }
        let request = STUNMessage(.request, transactionID: transactionID, attributes: attributes)
        guard let bytes = try? request.encoded(integrityKey: Array(remoteCredentials.pwd.utf8)) else {
            return [.ignored("check on \(pair.route) could not be encoded")]
        }
        // Consent checks are not retransmitted: the next one follows in a few seconds.
        let wait = purpose == .consent ? configuration.consentInterval : configuration.checkRetransmission.wait(afterAttempt: 1)
        transactions[transactionID] = Transaction(pairID: pair.id, bytes: bytes, route: pair.route, purpose: purpose,
                                                  roleAtSend: role, attempts: 1, deadline: now + wait)
        return [.send(bytes, from: pair.local.base, to: pair.remote.address)]
    }

    mutating func retransmitOrExpire(now: ContinuousClock.Instant) -> [ICEAction] {
        var actions: [ICEAction] = []
        let due = transactions.filter { $0.value.deadline <= now }.sorted { $0.value.deadline < $1.value.deadline }
        for (id, transaction) in due {
            guard transactions[id] != nil else { continue }
            let retransmission = configuration.checkRetransmission
            if case .check = transaction.purpose, transaction.attempts < retransmission.attempts {
                transactions[id]?.attempts += 1
                transactions[id]?.deadline = now + retransmission.wait(afterAttempt: transaction.attempts + 1)
                actions.append(.send(transaction.bytes, from: transaction.route.local, to: transaction.route.remote))
            } else {
                transactions[id] = nil
                if case .check = transaction.purpose { actions += pairFailed(transaction.pairID, now: now) }
            }
        }
        return actions
    }

    mutating func pairFailed(_ id: Int, now: ContinuousClock.Instant) -> [ICEAction] {
        guard let index = pairIndex(id) else { return [] }
        pairs[index].state = .failed
        if nominatingPairID == id {
            nominatingPairID = nil
            return nominateIfControlling(now: now)
        }
        return []
    }

    mutating func pairSucceeded(_ id: Int, nominated: Bool, now: ContinuousClock.Instant) -> [ICEAction] {
        guard let index = pairIndex(id) else { return [] }
        pairs[index].state = .succeeded
        let foundation = pairs[index].foundation
        for other in pairs.indices where pairs[other].state == .frozen && pairs[other].foundation == foundation {
            pairs[other].state = .waiting
        }
        if nominated || (role == .controlled && pairs[index].nominateOnSuccess) {
            return select(pairs[index], now: now)
        }
        return nominateIfControlling(now: now)
    }

    /// Regular nomination: once a pair is valid, a USE-CANDIDATE check on the best valid pair.
    mutating func nominateIfControlling(now: ContinuousClock.Instant) -> [ICEAction] {
        guard role == .controlling, state == .checking, nominatingPairID == nil,
              let best = pairs.first(where: { $0.state == .succeeded }) else { return [] }
        nominatingPairID = best.id
        return send(.check(useCandidate: true), on: best, now: now)
    }

    mutating func select(_ pair: Pair, now: ContinuousClock.Instant) -> [ICEAction] {
        guard state == .checking else { return [] }
        state = .selected(pair.route)
        startConsent(now: now)
        triggeredQueue.removeAll()
        nominatingPairID = nil
        transactions = transactions.filter { $0.value.purpose == .consent }
        return [.selected(pair.route)]
    }

    /// Consent freshness counts from the selection: a check on the pair was just answered.
    mutating func startConsent(now: ContinuousClock.Instant) {
        lastConsent = now
        nextConsentRequest = now + jitteredConsentInterval()
    }

    mutating func jitteredConsentInterval() -> Duration {
        configuration.consentInterval * Double.random(in: 0.8...1.2, using: &random)
    }

    mutating func finish(with action: ICEAction) -> [ICEAction] {
        state = .finished
        transactions.removeAll()
        triggeredQueue.removeAll()
        return [action]
    }

    /// Failed when pairs exist, all failed, and nothing is queued or out. With no pair at all
    /// (every remote candidate an mDNS name) only the connect timeout ends it: the peer's checks
    /// may still teach us a peer-reflexive address.
    mutating func failIfNothingLeft() -> [ICEAction] {
        guard state == .checking, !pairs.isEmpty, pairs.allSatisfy({ $0.state == .failed }),
              triggeredQueue.isEmpty, transactions.isEmpty else { return [] }
        return finish(with: .failed(.allPairsFailed(count: pairs.count)))
    }
}
