#!/usr/bin/python3
"""Drives Debian's python3-libtorrent for memofs's cross-check tests.

Each command prints one JSON object on stdout. Run with /usr/bin/python3,
the interpreter that has the libtorrent module.
"""
import json
import os
import sys

import libtorrent as lt


def torrent_facts(ti):
    files = ti.files()
    return {
        "info_hash": str(ti.info_hashes().v1),
        "name": ti.name(),
        "piece_length": ti.piece_length(),
        "num_pieces": ti.num_pieces(),
        "total_size": ti.total_size(),
        "pieces": [ti.hash_for_piece(i).hex() for i in range(ti.num_pieces())],
        "files": [{"path": files.file_path(i), "size": files.file_size(i)} for i in range(files.num_files())],
        "trackers": [{"url": t.url, "tier": t.tier} for t in ti.trackers()],
        "web_seeds": [w["url"] for w in ti.web_seeds()],
        "comment": ti.comment(),
        "creator": ti.creator(),
        "creation_date": ti.creation_date(),
        "private": ti.priv(),
    }


def make(spec):
    """Creates a v1 torrent from files on disk, in the order the spec lists them."""
    fs = lt.file_storage()
    root = spec["root"]
    for rel in spec["files"]:
        fs.add_file(rel, os.path.getsize(os.path.join(root, rel)))
    hybrid = spec.get("hybrid", False)
    ct = lt.create_torrent(fs, spec.get("piece_size", 0), flags=0 if hybrid else lt.create_torrent.v1_only)
    for tier, url in enumerate(spec.get("trackers", [])):
        ct.add_tracker(url, tier)
    if spec.get("comment"):
        ct.set_comment(spec["comment"])
    lt.set_piece_hashes(ct, root)
    generated = ct.generate()
    data = lt.bencode(generated)
    with open(spec["out"], "wb") as f:
        f.write(data)
    info = lt.torrent_info(lt.bdecode(data))
    facts = torrent_facts(info)
    if hybrid:
        # BEP 52: each file's merkle root (None for pads and empty files) and piece layers.
        files = info.files()
        facts["v2_info_hash"] = str(info.info_hashes().v2)
        facts["roots"] = [None if files.file_flags(i) & files.flag_pad_file or files.file_size(i) == 0
                          else files.root(i).to_bytes().hex() for i in range(files.num_files())]
        facts["piece_layers"] = {root.hex(): layer.hex() for root, layer in generated.get(b"piece layers", {}).items()}
    return facts


def piece_sizes(sizes):
    out = []
    for size in sizes:
        fs = lt.file_storage()
        fs.add_file("x", size)
        out.append(lt.create_torrent(fs, 0, flags=lt.create_torrent.v1_only).piece_length())
    return {"piece_lengths": out}


def inspect_magnet(uri):
    p = lt.parse_magnet_uri(uri)
    return {
        "info_hash": str(p.info_hashes.v1),
        "name": p.name,
        "trackers": list(p.trackers),
        "peers": ["%s:%d" % (host, port) for host, port in p.peers],
        "url_seeds": list(p.url_seeds),
    }


def make_magnet(path):
    return {"uri": lt.make_magnet_uri(lt.torrent_info(path))}


def main():
    command, argument = sys.argv[1], sys.argv[2]
    if command == "make":
        result = make(json.loads(argument))
    elif command == "inspect-torrent":
        result = torrent_facts(lt.torrent_info(argument))
    elif command == "piece-sizes":
        result = piece_sizes(json.loads(argument))
    elif command == "inspect-magnet":
        result = inspect_magnet(argument)
    elif command == "make-magnet":
        result = make_magnet(argument)
    else:
        raise SystemExit("unknown command " + command)
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
