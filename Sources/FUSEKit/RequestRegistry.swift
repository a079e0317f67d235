import NIOConcurrencyHelpers

/// The tasks answering FUSE requests, by request, so an interrupt from the kernel
/// (Ctrl-C on a blocked reader) can cancel the right one.
final class RequestRegistry: @unchecked Sendable {
    final class Slot: @unchecked Sendable {
        var task: Task<Void, Never>?
        var interrupted = false
    }

    private let lock = NIOLock()
    private var slots: [UInt: Slot] = [:]

    /// Registers a request before its task starts (an interrupt may come at once).
    func register(_ key: UInt) -> Slot {
        let slot = Slot()
        lock.withLock { slots[key] = slot }
        return slot
    }

    func attach(_ task: Task<Void, Never>, to slot: Slot) {
        let cancelNow = lock.withLock { () -> Bool in
            slot.task = task
            return slot.interrupted
        }
        if cancelNow { task.cancel() }
    }

    /// Forgets a request; called just before replying, while the request still exists.
    func remove(_ key: UInt) {
        lock.withLock { _ = slots.removeValue(forKey: key) }
    }

    /// Requests whose task has not replied yet (counted from registration to the reply).
    private var inFlight = 0

    func started() { lock.withLock { inFlight += 1 } }
    func finished() { lock.withLock { inFlight -= 1 } }
    var pendingCount: Int { lock.withLock { inFlight } }

    /// Cancels every request in flight (the file system is going away): each replies with an
    /// error, which frees its waiting reader.
    func cancelAll() {
        let tasks = lock.withLock { () -> [Task<Void, Never>] in
            for slot in slots.values { slot.interrupted = true }
            return slots.values.compactMap(\.task)
        }
        tasks.forEach { $0.cancel() }
    }

    func interrupt(_ key: UInt) {
        let task = lock.withLock { () -> Task<Void, Never>? in
            guard let slot = slots[key] else { return nil }
            slot.interrupted = true
            return slot.task
        }
        task?.cancel()
    }
}

/// Directory listings taken at `opendir`, paged by `readdir`, dropped at `releasedir`.
final class DirectorySnapshots: @unchecked Sendable {
    private let lock = NIOLock()
    private var listings: [UInt64: [DirectoryEntry]] = [:]
    private var nextHandle: UInt64 = 1

    func store(_ entries: [DirectoryEntry]) -> UInt64 {
        lock.withLock {
            let handle = nextHandle
            nextHandle += 1
            listings[handle] = entries
            return handle
        }
    }

    func entries(_ handle: UInt64) -> [DirectoryEntry]? {
        lock.withLock { listings[handle] }
    }

    func drop(_ handle: UInt64) {
        lock.withLock { _ = listings.removeValue(forKey: handle) }
    }
}
