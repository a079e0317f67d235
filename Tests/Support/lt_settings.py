"""libtorrent session settings for a peer confined to loopback, shared by the Swift tests'
Python peers (lt_peer.py) and the benchmark (Benchmarks/bench/peers.py), so what keeps a
test or benchmark peer off the real network is written once.

Scripts in this folder import it directly (Python puts a script's own folder on sys.path);
the benchmark adds this folder to sys.path first.
"""
import libtorrent as lt


def confined_settings(listen, user_agent, extra_alerts=0):
    """Settings for a session that listens on `listen` ("host:port") and finds peers only
    through trackers and the peers it is told of: no DHT, no local peer discovery, no UPnP
    or NAT-PMP (nothing to map on loopback, and nothing should try), TCP only (no uTP, so
    every peer speaks what memofs speaks), several connections from one IP (every peer in a
    test is on 127.0.0.0/8), and every tracker announced to. Alerts: errors and status, plus
    `extra_alerts` (an lt.alert.category_t mask)."""
    return {
        "listen_interfaces": listen,
        "enable_dht": False,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "enable_outgoing_utp": False,
        "enable_incoming_utp": False,
        "allow_multiple_connections_per_ip": True,
        "user_agent": user_agent,
        "alert_mask": lt.alert.category_t.error_notification | lt.alert.category_t.status_notification | extra_alerts,
        "announce_to_all_trackers": True,
        "announce_to_all_tiers": True,
    }


def loopback_dht_settings(bootstrap):
    """What turns the DHT on for a test DHT on loopback: joined only through `bootstrap`
    ("host:port"), with libtorrent's guards against many nodes on one IP (or on a
    non-routable one) relaxed, since every node of a test DHT is on 127.0.0.0/8."""
    return {
        "enable_dht": True,
        "dht_bootstrap_nodes": bootstrap,
        "dht_restrict_routing_ips": False,
        "dht_restrict_search_ips": False,
        "dht_ignore_dark_internet": False,
        "dht_prefer_verified_node_ids": False,
    }
