import Discovery
import TorrentModel

/// Finding peers through the DHT (BEP 5) and announcing ourselves there: at start, then
/// every announce interval. An announce that reached no node (the DHT is still empty) is
/// tried again soon, and so is a magnet still without metadata or peers: after 5 s, then
/// twice as long each time, up to a minute (the seeder may simply not have announced yet).
/// One that found the DHT empty waits with a growing pause, but announces as soon as the
/// DHT gains a node.
/// Private torrents (BEP 27) never use the DHT.
enum DHTAnnouncer {
    struct State {
        /// The first is due when the torrent starts.
        var nextAnnounce: ContinuousClock.Instant?
        var isAnnouncing = false
        var emptyRounds = 0
        var fruitlessRounds = 0
    }
}

extension Torrent {
    func dhtTick(now: ContinuousClock.Instant) {
        guard let dht = context.dht, !(info?.isPrivate ?? false), !dhtState.isAnnouncing,
              let next = dhtState.nextAnnounce else { return }
        // A torrent that found the DHT empty announces as soon as it has a node, not at the
        // end of its backoff: the bootstrap may simply have been slow.
        let nodesArrived = dhtState.emptyRounds > 0 && dht.nodeCount > 0
        guard now >= next || nodesArrived else { return }
        let port = UInt16(clamping: context.listenPort.withLockedValue { $0 })
        guard port > 0 else { return }
        if dht.isAlone {
            // The DHT knows no node at all (offline, or no bootstrap node): look again in a
            // minute, then less often, without starting a lookup.
            dhtState.emptyRounds += 1
            dhtState.nextAnnounce = now + Self.jittered(seconds: min(60 << min(dhtState.emptyRounds - 1, 3), 300))
            return
        }
        dhtState.isAnnouncing = true
        let infoHash = self.infoHash
        // The task holds the torrent until the announce ends: it waits its turn for a slot
        // (thousands of torrents take turns), then the lookup is bounded in time.
        Task {
            await dht.announceSlots.acquire()
            let result = await dht.announce(infoHash, port: port) { peers in
                await self.addPeers(peers, source: .dht)
            }
            dht.announceSlots.release()
            self.dhtAnnounceFinished(result)
            self.scheduleNextTick()
        }
    }

    private func dhtAnnounceFinished(_ result: DHTNode.AnnounceResult) {
        dhtState.isAnnouncing = false
        guard !isStopped, let dht = context.dht else { return }
        if result.announcedTo == 0 {
            dhtState.emptyRounds += 1
            dhtState.nextAnnounce = context.now + Self.jittered(seconds: min(5 << min(dhtState.emptyRounds - 1, 6), 300))
        } else if info == nil && peers.isEmpty {
            dhtState.emptyRounds = 0
            dhtState.fruitlessRounds += 1
            dhtState.nextAnnounce = context.now + .seconds(min(5 << min(dhtState.fruitlessRounds - 1, 4), 60))
        } else {
            dhtState.emptyRounds = 0
            dhtState.fruitlessRounds = 0
            dhtState.nextAnnounce = context.now + dht.settings.announceInterval
        }
    }

    /// `seconds` plus up to a fifth more at random, so that torrents started together do
    /// not stay in step.
    static func jittered(seconds: Int) -> Duration {
        .milliseconds(seconds * 1000 + Int.random(in: 0...(seconds * 200)))
    }
}
