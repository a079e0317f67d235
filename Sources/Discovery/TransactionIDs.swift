/// The source of UDP tracker transaction ids for one exchange.
///
/// An exchange is a value type that must stay `Sendable`, so it cannot keep the
/// caller's generator; it draws one seed from it at creation and derives the ids
/// with SplitMix64. Ids are unpredictable to an off-path attacker as long as the seed
/// is (the engine passes `SystemRandomNumberGenerator`), and repeatable in tests
/// given a seeded generator.
struct TransactionIDs: Sendable {
    private var state: UInt64
    private var last: UInt32?

    init(seed: UInt64) { state = seed }

    /// A fresh id, never equal to the previous one, so a late answer to the
    /// previous request cannot be taken for an answer to the new one.
    mutating func next() -> UInt32 {
        while true {
            state &+= 0x9e37_79b9_7f4a_7c15
            var z = state
            z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
            z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
            let id = UInt32(truncatingIfNeeded: z ^ (z >> 31))
            if id != last {
                last = id
                return id
            }
        }
    }
}
