#!/usr/bin/python3
"""A libtorrent peer for memofs's end-to-end tests: seeds or downloads one torrent.

Prints one JSON object per line on stdout ("ready", "progress", "done", "error").
Stops when stdin closes, when it is killed, or after --lifetime seconds, so a
test that dies never leaves it running. Only loopback is used: DHT, local peer
discovery, UPnP and NAT-PMP are off, and so is uTP (TCP only). With --dht-bootstrap
the DHT is on, joined only through the node named there (a loopback node the test runs),
with libtorrent's guards against many nodes on one IP relaxed, since every node of a
test DHT is on 127.0.0.0/8.
"""
import argparse
import json
import os
import select
import sys
import time

import warnings

import libtorrent as lt

from lt_settings import confined_settings, loopback_dht_settings

warnings.filterwarnings("ignore", category=DeprecationWarning)


def say(**fields):
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


def make_session(listen, dht_bootstrap=None):
    settings = confined_settings(listen, "lt_peer", extra_alerts=lt.alert.category_t.dht_notification
                                 | lt.alert.category_t.connect_notification)
    if dht_bootstrap:
        settings.update(loopback_dht_settings(dht_bootstrap))
    return lt.session(settings)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["seed", "download"])
    parser.add_argument("--torrent")
    parser.add_argument("--magnet")
    parser.add_argument("--dir", required=True)
    parser.add_argument("--listen", default="127.0.0.2:0")
    parser.add_argument("--lifetime", type=float, default=300)
    parser.add_argument("--peer", action="append", default=[], help="host:port to connect to")
    parser.add_argument("--upload-limit", type=int, default=0)
    parser.add_argument("--make-hybrid", metavar="FILE",
                        help="first make --torrent of FILE (in --dir) as libtorrent does by default: "
                             "a hybrid v1+v2 torrent (BEP 52); then seed it after checking it, not in "
                             "seed mode, so libtorrent knows every block's hash and answers hash requests")
    parser.add_argument("--piece-length", type=int, default=0)
    parser.add_argument("--dht-bootstrap", help="host:port of the one DHT node to join through (DHT off without it)")
    args = parser.parse_args()

    session = make_session(args.listen, args.dht_bootstrap)
    if args.dht_bootstrap:
        # A torrent added before libtorrent's DHT has started is not announced there until
        # the announce interval (15 minutes): wait for the bootstrap to finish first, as a
        # long-running client would have. (The bootstrap node itself is a "router" that
        # libtorrent keeps out of its routing table, so dht_nodes may well stay 0.)
        bootstrapped = False
        until = time.monotonic() + 15
        while not bootstrapped and time.monotonic() < until:
            session.wait_for_alert(100)
            bootstrapped = any(isinstance(alert, lt.dht_bootstrap_alert) for alert in session.pop_alerts())
        say(event="dht", nodes=session.status().dht_nodes)
    if args.make_hybrid:
        storage = lt.file_storage()
        lt.add_files(storage, os.path.join(args.dir, args.make_hybrid))
        creator = lt.create_torrent(storage, args.piece_length)
        lt.set_piece_hashes(creator, args.dir)
        with open(args.torrent, "wb") as handle:
            handle.write(lt.bencode(creator.generate()))
    params = lt.add_torrent_params()
    if args.torrent:
        params.ti = lt.torrent_info(args.torrent)
    else:
        params = lt.parse_magnet_uri(args.magnet)
    params.save_path = args.dir
    if args.mode == "seed" and not args.make_hybrid:
        params.flags |= lt.torrent_flags.seed_mode
    params.flags &= ~lt.torrent_flags.auto_managed
    params.flags &= ~lt.torrent_flags.paused
    added = time.monotonic()
    handle = session.add_torrent(params)
    if args.upload_limit:
        handle.set_upload_limit(args.upload_limit)

    started = time.monotonic()
    for peer in args.peer:
        host, port = peer.rsplit(":", 1)
        handle.connect_peer((host.strip("[]"), int(port)))
    if args.make_hybrid:
        # Checked, not in seed mode: ready only once the check is done, or libtorrent turns
        # peers away meanwhile (and they wait before dialling again).
        until = time.monotonic() + 60
        while not handle.status().is_seeding and time.monotonic() < until:
            time.sleep(0.01)
    say(event="ready", port=session.listen_port(), pid=os.getpid())

    done_reported = False
    metadata_reported = False
    peer_reported = False
    dht_peer_reported = False
    last_progress = 0.0
    last_dht_announce = time.monotonic()
    while time.monotonic() - started < args.lifetime:
        # Poll finely while timing the first DHT peer, so the figure is not the poll interval.
        poll = 0.0005 if args.dht_bootstrap and not dht_peer_reported else 0.01
        readable, _, _ = select.select([sys.stdin], [], [], poll)
        if readable and not sys.stdin.readline():
            break
        for alert in session.pop_alerts():
            if isinstance(alert, (lt.torrent_error_alert, lt.file_error_alert, lt.metadata_failed_alert)):
                say(event="error", message=alert.message())
            if isinstance(alert, lt.dht_reply_alert) and alert.num_peers > 0 and not dht_peer_reported:
                dht_peer_reported = True
                say(event="dht_peer", seconds=time.monotonic() - added, peers=alert.num_peers)
            # Who came and went, so a test that fails on a swarm says which connection ended and why.
            if isinstance(alert, (lt.peer_connect_alert, lt.peer_disconnected_alert)):
                say(event="peer_connect" if isinstance(alert, lt.peer_connect_alert) else "peer_disconnect",
                    message=alert.message())
        status = handle.status()
        if status.num_peers > 0 and not peer_reported:
            peer_reported = True
            say(event="peer", seconds=time.monotonic() - started)
        if status.has_metadata and not metadata_reported:
            metadata_reported = True
            say(event="metadata", seconds=time.monotonic() - started)
        if args.mode == "download" and status.is_seeding and not done_reported:
            done_reported = True
            say(event="done", seconds=time.monotonic() - started, downloaded=status.total_payload_download,
                name=handle.torrent_file().name() if handle.torrent_file() else "")
        # On a loaded machine the DHT bootstrap can outlast the wait above, and a torrent added
        # before the DHT is up is announced only after 15 minutes: ask every 5 s instead.
        if args.dht_bootstrap and time.monotonic() - last_dht_announce > 5:
            last_dht_announce = time.monotonic()
            handle.force_dht_announce()
        if time.monotonic() - last_progress > 1:
            last_progress = time.monotonic()
            say(event="progress", progress=status.progress, peers=status.num_peers,
                peer_addresses=["%s:%d" % (peer.ip[0], peer.ip[1]) for peer in handle.get_peer_info()],
                known_peers=status.list_peers, connect_candidates=status.connect_candidates,
                uploaded=status.total_payload_upload, downloaded=status.total_payload_download,
                state=str(status.state), dht_nodes=session.status().dht_nodes)
    say(event="exit")


if __name__ == "__main__":
    main()
