/// Tasks suspended until something happens to a key (a piece verified, the metadata known,
/// the download complete), held by the actor that will make it happen.
///
/// Every waiter has an id, taken before its continuation exists (``nextID()``): the task's
/// cancellation handler must name the waiter it withdraws, and it can run before the
/// waiter is added. A key with no waiter left is dropped, so ``isWaiting(for:)`` and
/// ``keys`` say which keys someone still waits for.
struct Waiters<Key: Hashable, Value: Sendable> {
    typealias Continuation = CheckedContinuation<Value, any Error>

    private var waiting: [Key: [Int: Continuation]] = [:]
    private var keyOfID: [Int: Key] = [:]
    private var lastID = 0

    var isEmpty: Bool { waiting.isEmpty }
    /// The keys someone waits for.
    var keys: Dictionary<Key, [Int: Continuation]>.Keys { waiting.keys }
    /// How many waiters there are, over all keys.
    var count: Int { keyOfID.count }

    func isWaiting(for key: Key) -> Bool { waiting[key] != nil }

    /// An id no other waiter of this set has had.
    mutating func nextID() -> Int {
        lastID += 1
        return lastID
    }

    mutating func add(_ continuation: Continuation, for key: Key, id: Int) {
        precondition(keyOfID[id] == nil, "waiter \(id) is already waiting")
        waiting[key, default: [:]][id] = continuation
        keyOfID[id] = key
    }

    /// Wakes every waiter of `key` with `value`.
    mutating func resume(key: Key, returning value: Value) {
        guard let continuations = waiting.removeValue(forKey: key) else { return }
        for id in continuations.keys { keyOfID[id] = nil }
        for continuation in continuations.values { continuation.resume(returning: value) }
    }

    /// Fails every waiter of `key` with `error`.
    mutating func resume(key: Key, throwing error: any Error) {
        guard let continuations = waiting.removeValue(forKey: key) else { return }
        for id in continuations.keys { keyOfID[id] = nil }
        for continuation in continuations.values { continuation.resume(throwing: error) }
    }

    /// Wakes the one waiter `id` with `value`; false when it is not waiting (any more).
    @discardableResult
    mutating func resume(id: Int, returning value: Value) -> Bool {
        guard let continuation = remove(id) else { return false }
        continuation.resume(returning: value)
        return true
    }

    /// Wakes every waiter of every key with `value`.
    mutating func resumeAll(returning value: Value) {
        let continuations = takeAll()
        for continuation in continuations { continuation.resume(returning: value) }
    }

    /// Fails every waiter of every key with `error`.
    mutating func resumeAll(throwing error: any Error) {
        let continuations = takeAll()
        for continuation in continuations { continuation.resume(throwing: error) }
    }

    /// Withdraws waiter `id`, failing it with `CancellationError`; false when it is not
    /// waiting (already resumed, or never added because its task was cancelled first).
    @discardableResult
    mutating func cancel(_ id: Int) -> Bool {
        guard let continuation = remove(id) else { return false }
        continuation.resume(throwing: CancellationError())
        return true
    }

    private mutating func remove(_ id: Int) -> Continuation? {
        guard let key = keyOfID.removeValue(forKey: id) else { return nil }
        let continuation = waiting[key]?.removeValue(forKey: id)
        if waiting[key]?.isEmpty == true { waiting[key] = nil }
        return continuation
    }

    private mutating func takeAll() -> [Continuation] {
        let continuations = waiting.values.flatMap(\.values)
        waiting = [:]
        keyOfID = [:]
        return continuations
    }
}

/// The key of a waiter set whose waiters all wait for the same one event.
struct OneEvent: Hashable {}

/// Suspends the calling task, on its actor, until the continuation that `register` stores
/// is resumed. A task already cancelled fails at once without registering; one cancelled
/// while suspended runs `onCancel`, which must hop back to the actor and withdraw the
/// waiter (``Waiters/cancel(_:)``).
func suspend<Value>(isolation: isolated (any Actor)? = #isolation,
                    register: (CheckedContinuation<Value, any Error>) -> Void,
                    onCancel: @escaping @Sendable () -> Void) async throws -> Value {
    try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation(isolation: isolation) { continuation in
            if Task.isCancelled {
                continuation.resume(throwing: CancellationError())
                return
            }
            register(continuation)
        }
    } onCancel: {
        onCancel()
    }
}
