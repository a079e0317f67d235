#!/usr/bin/python3
"""Sends a DHT node every kind of bad KRPC input, then checks that it still answers.

`hostile_dht.py HOST PORT` sends truncated and non-bencode datagrams, wrong types,
oversized lists and strings, responses with forged transaction ids, unknown methods,
announces with bad tokens and a flood of queries with random ids from one address,
then a plain ping. Prints {"sent": N, "replies": N, "ping_answered": bool, "errors": {code: n}}.
Only the address given (a loopback node the test started) is ever sent to.
"""
import json
import os
import random
import socket
import sys
import time


def benc(value):
    if isinstance(value, int):
        return b"i%de" % value
    if isinstance(value, str):
        value = value.encode()
    if isinstance(value, bytes):
        return b"%d:%s" % (len(value), value)
    if isinstance(value, list):
        return b"l" + b"".join(benc(v) for v in value) + b"e"
    if isinstance(value, dict):
        items = sorted((k.encode() if isinstance(k, str) else k, v) for k, v in value.items())
        return b"d" + b"".join(benc(k) + benc(v) for k, v in items) + b"e"
    raise TypeError(value)


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    assert host.startswith("127."), "loopback only"
    rng = random.Random(7)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.9", 0))
    sock.setblocking(False)
    target = (host, port)
    node_id = bytes(rng.randrange(256) for _ in range(20))
    sent = 0
    replies = []

    def send(data):
        nonlocal sent
        sock.sendto(data, target)
        sent += 1
        drain()

    def drain():
        while True:
            try:
                data, _ = sock.recvfrom(65536)
                replies.append(data)
            except BlockingIOError:
                return

    ping = benc({"t": "pp", "y": "q", "q": "ping", "a": {"id": node_id}})
    bad = [
        b"", b"d", b"de", b"i1e", b"le", b"\xff" * 100, ping[:-1], ping[:10], ping + b"trailing",
        benc({"t": "aa", "y": "q", "q": "ping"}),                                # no a
        benc({"t": "aa", "y": "q", "q": "ping", "a": {"id": 5}}),               # id of the wrong type
        benc({"t": "aa", "y": "q", "q": "ping", "a": {"id": b"short"}}),         # id of the wrong length
        benc({"t": 1, "y": "q", "q": "ping", "a": {"id": node_id}}),             # t of the wrong type
        benc({"t": "x" * 100, "y": "q", "q": "ping", "a": {"id": node_id}}),     # long t
        benc({"t": "aa", "y": "z", "q": "ping", "a": {"id": node_id}}),          # unknown y
        benc({"t": "aa", "y": "q", "q": "vote", "a": {"id": node_id}}),          # unknown method: 204
        benc({"t": "aa", "y": "q", "q": "get_peers", "a": {"id": node_id, "info_hash": [1, 2]}}),
        benc({"t": "aa", "y": "q", "q": "announce_peer",
              "a": {"id": node_id, "info_hash": b"h" * 20, "port": 99999, "token": b"tok"}}),
        benc({"t": "aa", "y": "q", "q": "announce_peer",
              "a": {"id": node_id, "info_hash": b"h" * 20, "port": 80, "token": b"t" * 1000}}),
        benc({"t": "aa", "y": "r", "r": {"id": node_id, "values": [b"\x01" * 6] * 400}}),   # huge list
        benc({"t": "aa", "y": "r", "r": {"id": node_id, "nodes": b"\x02" * 1300}}),
        benc({"t": "aa", "y": "e", "e": "not a list"}),
        b"l" * 5000 + b"e" * 5000,                                                         # deep nesting
        b"d1:t2:aa1:y1:q1:q4:ping1:ad2:id20:" + node_id + b"1:x" + b"l" * 600 + b"e" * 600 + b"ee",
    ]
    # Spaced out, so that each is read and judged (a burst would partly overflow the node's
    # bounded receive queue, which is the point of the floods below).
    for data in bad:
        send(data)
        time.sleep(0.005)
    # Wait (bounded) for the answer to the unknown method before the floods, which would
    # push anything still queued out of the node's bounded receive queue.
    until = time.monotonic() + 10
    while time.monotonic() < until and not any(b"1:eli204e" in reply for reply in replies):
        time.sleep(0.01)
        drain()
    # Responses with forged transaction ids: nothing was asked, nothing may change.
    for _ in range(2000):
        tid = bytes(rng.randrange(256) for _ in range(rng.choice([1, 2, 4])))
        nodes = b"".join(bytes(rng.randrange(256) for _ in range(20)) + bytes([127, 0, 0, rng.randrange(2, 250)])
                         + rng.randrange(1, 65535).to_bytes(2, "big") for _ in range(8))
        send(benc({"t": tid, "y": "r", "r": {"id": bytes(rng.randrange(256) for _ in range(20)), "nodes": nodes}}))
    # A flood of queries from one address with fresh ids each time.
    for index in range(3000):
        query = rng.choice(["ping", "find_node", "get_peers", "announce_peer"])
        args = {"id": bytes(rng.randrange(256) for _ in range(20))}
        if query == "find_node":
            args["target"] = bytes(rng.randrange(256) for _ in range(20))
        if query in ("get_peers", "announce_peer"):
            args["info_hash"] = bytes(rng.randrange(256) for _ in range(20))
        if query == "announce_peer":
            args["port"] = rng.randrange(1, 65535)
            args["token"] = b"forged!!"
        send(benc({"t": index.to_bytes(2, "big"), "y": "q", "q": query, "a": args}))
    # Random bytes.
    for _ in range(2000):
        send(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 1400))))

    # The rate limit must have let our burst drain: wait, then a fresh ping must be answered.
    ping_answered = False
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not ping_answered:
        time.sleep(1)
        drain()
        before = len(replies)
        sock.sendto(ping, target)
        wait_until = time.monotonic() + 1
        while time.monotonic() < wait_until:
            drain()
            if any(r.startswith(b"d") and b"1:t2:pp" in r for r in replies[before:]):
                ping_answered = True
                break
            time.sleep(0.02)
    errors = {}
    for reply in replies:
        if b"1:y1:e" in reply:
            code = reply.split(b"1:eli", 1)[1].split(b"e", 1)[0].decode() if b"1:eli" in reply else "?"
            errors[code] = errors.get(code, 0) + 1
    print(json.dumps({"sent": sent, "replies": len(replies), "ping_answered": ping_answered, "errors": errors}))


if __name__ == "__main__":
    main()
