import Discovery
import Foundation
import GRDB
import TorrentModel

/// The DHT's lasting state: our node id (a new id on every start would throw away what
/// other nodes know of us) and the routing table's nodes.
extension StateStore {
    public func dhtState() async throws -> (id: NodeID?, nodes: [NodeInfo]) {
        try await database.read { db in
            let idBytes = try Data.fetchOne(db, sql: "SELECT value FROM setting WHERE key = 'dht_id'")
            let id = idBytes.flatMap { NodeID(bytes: Array($0)) }
            let rows = try Row.fetchAll(db, sql: "SELECT address, id FROM dht_node")
            let nodes = rows.compactMap { row -> NodeInfo? in
                guard let address = PeerAddress(row["address"] as String),
                      let nodeID = NodeID(bytes: Array(row["id"] as Data)) else { return nil }
                return NodeInfo(id: nodeID, address: address)
            }
            return (id, nodes)
        }
    }

    /// Replaces the saved nodes with `nodes`.
    public func saveDHT(id: NodeID, nodes: [NodeInfo]) async throws {
        try await database.write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO setting (key, value) VALUES ('dht_id', ?)", arguments: [Data(id.bytes)])
            try db.execute(sql: "DELETE FROM dht_node")
            for node in nodes {
                try db.execute(sql: "INSERT OR REPLACE INTO dht_node (address, id) VALUES (?, ?)",
                               arguments: [node.address.description, Data(node.id.bytes)])
            }
        }
    }
}
