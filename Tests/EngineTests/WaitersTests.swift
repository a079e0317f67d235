@testable import Engine
import PeerHarness
import Testing

/// The one waiter set behind reads (by piece), metadata and completion: tasks really
/// suspended on an actor, woken, failed or withdrawn one at a time. (The waits for tasks
/// to suspend are bounded at 30 s: under the whole suite, tests that block Swift's two
/// cooperative threads while they stop a child can hold every task back for seconds.)
@Suite struct WaitersTests {
    /// An actor holding waiters the way `Torrent` does.
    actor Room {
        var waiters = Waiters<Int, String>()
        private(set) var addedIDs: [Int: Int] = [:]

        func wait(for key: Int, tag: Int) async throws -> String {
            let id = waiters.nextID()
            addedIDs[tag] = id
            return try await suspend { waiters.add($0, for: key, id: id) } onCancel: {
                Task { await self.cancel(id) }
            }
        }

        func cancel(_ id: Int) { waiters.cancel(id) }
        func resume(_ key: Int, with value: String) { waiters.resume(key: key, returning: value) }
        func resume(id: Int, with value: String) -> Bool { waiters.resume(id: id, returning: value) }
        func resumeAll(throwing error: any Error) { waiters.resumeAll(throwing: error) }
        var count: Int { waiters.count }
        var keys: Set<Int> { Set(waiters.keys) }
        func isWaiting(for key: Int) -> Bool { waiters.isWaiting(for: key) }
    }

    struct Gone: Error, Equatable {}

    @Test func resumingAKeyWakesOnlyItsWaiters() async throws {
        let room = Room()
        let first = Task { try await room.wait(for: 1, tag: 0) }
        let second = Task { try await room.wait(for: 1, tag: 1) }
        let other = Task { try await room.wait(for: 2, tag: 2) }
        try await eventually("3 waiters", timeout: 30) { await room.count == 3 }
        await room.resume(1, with: "one")
        #expect(try await first.value == "one")
        #expect(try await second.value == "one")
        #expect(await room.count == 1)
        #expect(await room.keys == [2])
        #expect(await !room.isWaiting(for: 1))
        await room.resume(1, with: "again")
        await room.resume(2, with: "two")
        #expect(try await other.value == "two")
        #expect(await room.count == 0)
    }

    @Test func resumingOneIDWakesOnlyThatWaiter() async throws {
        let room = Room()
        let first = Task { try await room.wait(for: 7, tag: 0) }
        let second = Task { try await room.wait(for: 7, tag: 1) }
        try await eventually("2 waiters", timeout: 30) { await room.count == 2 }
        let id = try #require(await room.addedIDs[1])
        #expect(await room.resume(id: id, with: "you"))
        #expect(try await second.value == "you")
        #expect(await !room.resume(id: id, with: "twice"), "a waiter wakes once")
        #expect(await room.isWaiting(for: 7))
        await room.resume(7, with: "rest")
        #expect(try await first.value == "rest")
    }

    @Test func cancellingRemovesOnlyThatWaiter() async throws {
        let room = Room()
        let stays = Task { try await room.wait(for: 1, tag: 0) }
        let leaves = Task { try await room.wait(for: 1, tag: 1) }
        try await eventually("2 waiters", timeout: 30) { await room.count == 2 }
        leaves.cancel()
        await #expect(throws: CancellationError.self) { try await leaves.value }
        try await eventually("1 waiter", timeout: 30) { await room.count == 1 }
        #expect(await room.isWaiting(for: 1))
        await room.resume(1, with: "still here")
        #expect(try await stays.value == "still here")
    }

    @Test func aTaskCancelledBeforeItWaitsIsNeverAdded() async throws {
        let room = Room()
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await room.wait(for: 1, tag: 0)
        }
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(await room.count == 0)
    }

    @Test func resumeAllFailsEveryone() async throws {
        let room = Room()
        let tasks = (0..<5).map { index in Task { try await room.wait(for: index % 2, tag: index) } }
        try await eventually("5 waiters", timeout: 30) { await room.count == 5 }
        await room.resumeAll(throwing: Gone())
        for task in tasks {
            await #expect(throws: Gone.self) { try await task.value }
        }
        #expect(await room.count == 0)
        #expect(await room.keys.isEmpty)
    }

    @Test func idsAreUnique() {
        var waiters = Waiters<OneEvent, Void>()
        let ids = (0..<1000).map { _ in waiters.nextID() }
        #expect(Set(ids).count == ids.count)
    }
}
