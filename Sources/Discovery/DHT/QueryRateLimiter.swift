import TorrentModel

/// How many queries the DHT node answers, per sending host and in total (a token
/// bucket each), so the node cannot be used to flood anyone and a flood of queries
/// cannot make it busy or big.
///
/// Hosts are tracked by address without the port, as libtorrent does; the table of
/// hosts is bounded, and when it is full a host not seen before is refused until
/// stale entries (full buckets) are swept out. Time is passed in.
public struct QueryRateLimiter: Sendable {
    public struct Limits: Sendable {
        /// Answers per second one host gets, and how many it may use up at once.
        public var perHostRate: Double
        public var perHostBurst: Double
        /// Answers per second for everyone together.
        public var totalRate: Double
        public var totalBurst: Double
        /// Hosts remembered at once.
        public var maxHosts: Int

        public init(perHostRate: Double = 10, perHostBurst: Double = 40, totalRate: Double = 400,
                    totalBurst: Double = 800, maxHosts: Int = 4096) {
            self.perHostRate = perHostRate
            self.perHostBurst = perHostBurst
            self.totalRate = totalRate
            self.totalBurst = totalBurst
            self.maxHosts = maxHosts
        }
    }

    struct Bucket: Sendable {
        var tokens: Double
        var updated: ContinuousClock.Instant

        mutating func take(rate: Double, burst: Double, now: ContinuousClock.Instant) -> Bool {
            refill(rate: rate, burst: burst, now: now)
            guard tokens >= 1 else { return false }
            tokens -= 1
            return true
        }

        mutating func refill(rate: Double, burst: Double, now: ContinuousClock.Instant) {
            if now > updated {
                let seconds = Double((now - updated).components.seconds) + Double((now - updated).components.attoseconds) / 1e18
                tokens = min(burst, tokens + seconds * rate)
                updated = now
            }
        }
    }

    public let limits: Limits
    private var hosts: [PeerAddress.Host: Bucket] = [:]
    private var total: Bucket

    public init(limits: Limits = Limits(), now: ContinuousClock.Instant) {
        self.limits = limits
        self.total = Bucket(tokens: limits.totalBurst, updated: now)
    }

    public var trackedHosts: Int { hosts.count }

    /// Whether a query from `address` may be answered now; counts it if so.
    public mutating func allow(_ address: PeerAddress, now: ContinuousClock.Instant) -> Bool {
        let host = address.host
        if hosts[host] == nil {
            if hosts.count >= limits.maxHosts { sweep(now: now) }
            guard hosts.count < limits.maxHosts else { return false }
            hosts[host] = Bucket(tokens: limits.perHostBurst, updated: now)
        }
        guard hosts[host]!.take(rate: limits.perHostRate, burst: limits.perHostBurst, now: now) else { return false }
        return total.take(rate: limits.totalRate, burst: limits.totalBurst, now: now)
    }

    /// Drops hosts whose bucket has refilled: they have been quiet long enough to be
    /// indistinguishable from a host never seen.
    public mutating func sweep(now: ContinuousClock.Instant) {
        let rate = limits.perHostRate, burst = limits.perHostBurst
        hosts = hosts.filter { _, bucket in
            var bucket = bucket
            bucket.refill(rate: rate, burst: burst, now: now)
            return bucket.tokens < burst
        }
    }
}
