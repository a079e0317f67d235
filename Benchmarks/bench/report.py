"""The report: one table, the ratios of medians against the anchors, the bars, and the
same as JSON."""
import json
import sys

from .common import log
from .mounts import LOG_LINES


ROWS = [
    # (key, format)
    ("memofs.listed_s", "%.3f"), ("btfs.listed_s", "%.3f"),
    ("memofs.first_byte_s", "%.3f"), ("btfs.first_byte_s", "%.3f"),
    ("memofs.random_median_ms", "%.1f"), ("btfs.random_median_ms", "%.1f"),
    ("memofs.random_p95_ms", "%.1f"), ("btfs.random_p95_ms", "%.1f"),
    ("wire.random_median_ms", "%.2f"), ("wire.random_p95_ms", "%.2f"),
    ("wire2.random_median_ms", "%.2f"), ("wire2.random_p95_ms", "%.2f"),
    ("memofs.fetched_pct", "%.1f"), ("btfs.fetched_pct", "%.1f"),
    ("memofs.webm_listed_s", "%.3f"), ("btfs.webm_listed_s", "%.3f"),
    ("memofs.ffprobe_s", "%.3f"), ("btfs.ffprobe_s", "%.3f"), ("disk.ffprobe_s", "%.3f"),
    ("memofs.webm_to_ffprobe_s", "%.3f"), ("btfs.webm_to_ffprobe_s", "%.3f"),
    ("memofs.sequential_mbs", "%.0f"), ("btfs.sequential_mbs", "%.0f"),
    ("memofs.add_to_read_mbs", "%.0f"), ("btfs.add_to_read_mbs", "%.0f"),
    ("native.metadata_s", "%.3f"), ("native.download_mbs", "%.0f"),
    ("memofs.sequential_cpu_s", "%.2f"), ("native.download_cpu_s", "%.2f"),
    ("seed.memofs_to_lt_mbs", "%.0f"), ("native.download_mbs", "%.0f"),
    ("memofs.finished_shared_mount_mbs", "%.0f"), ("memofs.finished_shared_disk_mbs", "%.0f"),
    ("memofs.finished_local_mount_mbs", "%.0f"), ("memofs.finished_local_disk_mbs", "%.0f"),
    ("hash.memofs_mbs", "%.0f"), ("hash.openssl_mbs", "%.0f"), ("hash.memofs_all_cores_mbs", "%.0f"),
    ("scale.copy_s", "%.1f"), ("scale.sidecars_s", "%.1f"), ("scale.restart_s", "%.2f"),
    ("scale.ls_s", "%.3f"), ("scale.rss_mb", "%.0f"), ("scale.startup_cpu_pct", "%.2f"), ("scale.idle_cpu_pct", "%.2f"),
    ("scale.empty_rss_mb", "%.0f"), ("scale.empty_idle_cpu_pct", "%.2f"),
]

# (name, numerator, denominator, relation, goal); relation "<=" or ">=" on the ratio of medians.
RATIOS = [
    ("add → first byte, memofs / btfs", "memofs.first_byte_s", "btfs.first_byte_s", "<=", 0.2),
    ("random read median, memofs / btfs", "memofs.random_median_ms", "btfs.random_median_ms", "<=", 0.2),
    ("random read p95, memofs / btfs", "memofs.random_p95_ms", "btfs.random_p95_ms", "<=", 0.2),
    ("sequential read, memofs / btfs", "memofs.sequential_mbs", "btfs.sequential_mbs", ">=", 5.0),
    ("sequential read memofs / native libtorrent download", "memofs.sequential_mbs", "native.download_mbs", ">=", 0.9),
    ("libtorrent from memofs / from libtorrent", "seed.memofs_to_lt_mbs", "native.download_mbs", ">=", 1.0),
    ("finished shared/ file, mount / disk", "memofs.finished_shared_mount_mbs", "memofs.finished_shared_disk_mbs", ">=", 0.8),
    ("finished local/ file, mount / disk", "memofs.finished_local_mount_mbs", "memofs.finished_local_disk_mbs", ">=", 0.8),
    ("hashing one core, memofs / openssl", "hash.memofs_mbs", "hash.openssl_mbs", ">=", 0.9),
    ("add → listed, memofs / btfs", "memofs.listed_s", "btfs.listed_s", None, None),
    ("ffprobe, memofs / btfs", "memofs.ffprobe_s", "btfs.ffprobe_s", None, None),
    ("add WebM → ffprobe done, memofs / btfs", "memofs.webm_to_ffprobe_s", "btfs.webm_to_ffprobe_s", None, None),
    ("sequential read, memofs / native, add → whole file", "memofs.add_to_read_mbs", "native.download_mbs", None, None),
    ("CPU for the whole file, memofs read / native download", "memofs.sequential_cpu_s", "native.download_cpu_s", None, None),
    ("on disk after reads, memofs / btfs", "memofs.fetched_pct", "btfs.fetched_pct", None, None),
    ("random read median, memofs / bare client (seeder's floor)", "memofs.random_median_ms", "wire.random_median_ms", None, None),
    ("random read median, floor / btfs", "wire.random_median_ms", "btfs.random_median_ms", None, None),
    ("random read median, memofs / bare client asking for blocks", "memofs.random_median_ms", "wire2.random_median_ms", None, None),
]

# Absolute bars: (name, key, relation, limit).
ABSOLUTE = [
    ("ls -l local with {count} recordings < 1 s", "scale.ls_s", "<", 1.0),
    ("daemon RSS with {count} recordings < 150 MB", "scale.rss_mb", "<", 150.0),
    ("idle CPU near 0 (< 1 % of a core), {count} recordings", "scale.idle_cpu_pct", "<", 1.0),
]


def report(bench, path):
    fig = bench.figures
    lines = []
    lines.append("memofs vs btfs vs native libtorrent, %d MiB file (%d pieces of %d KiB) + %d-byte WebM, %d rounds, loopback"
                 % (bench.args.size, bench.meta.get("pieces", 0), bench.meta.get("piece_length", 0) // 1024,
                    bench.meta.get("webm_bytes", 0), bench.args.rounds))
    lines.append("%-8s %-56s %30s" % ("system", "figure", "min / median / max"))
    seen = set()
    for key, fmt in ROWS:
        if key in seen or key not in fig.values:
            continue
        seen.add(key)
        meta, summary = fig.meta[key], fig.summary(key)
        text = " / ".join(fmt % summary[part] for part in ("min", "median", "max"))
        lines.append("%-8s %-56s %30s" % (meta["system"], meta["label"][:56], text))
    lines.append("clocks: memofs from the write to shared/.add (mount already up); btfs from starting btfs with the magnet;")
    lines.append("native from add_torrent. sequential MB/s: open → EOF in a fresh torrent (after it is listed).")
    lines.append("scale rows (except the copy): per round after unmounting and mounting again; idle after %.0f s, over %.0f s."
                 % (bench.args.idle_settle, bench.args.idle_seconds))
    lines.append("")
    lines.append("ratios of medians (same run) and bars:")
    ratios, bars = [], []
    for name, top, bottom, relation, goal in RATIOS:
        a, b = fig.median(top), fig.median(bottom)
        ratio = a / b if a is not None and b else None
        met = None if ratio is None or relation is None else (ratio <= goal if relation == "<=" else ratio >= goal)
        ratios.append({"name": name, "numerator": top, "denominator": bottom, "ratio": ratio,
                       "goal": None if goal is None else "%s %s" % (relation, goal), "met": met})
        goal_text = "" if goal is None else "goal %s %.1fx" % (relation, goal)
        verdict = "" if goal is None else ("MET" if met else "n/a" if met is None else "MISSED")
        lines.append("  %-52s %8s  %-14s %s" % (name, "n/a" if ratio is None else "%.3fx" % ratio, goal_text, verdict))
        if goal is not None:
            bars.append(ratios[-1])
    for name, key, relation, limit in ABSOLUTE:
        name = name.format(count="{:,}".format(bench.args.scale_count))
        value = fig.median(key)
        met = None if value is None else value < limit
        bars.append({"name": name, "key": key, "value": value, "goal": "%s %s" % (relation, limit), "met": met})
        lines.append("  %-52s %8s  %-14s %s" % (name, "n/a" if value is None else "%.3f" % value, "goal %s %g" % (relation, limit),
                                                 "MET" if met else "n/a" if met is None else "MISSED"))
    met_count = sum(1 for bar in bars if bar["met"])
    lines.append("bars met: %d of %d" % (met_count, len(bars)))
    if bench.notes:
        lines.append("notes:")
        lines.extend("  - " + note for note in bench.notes)
    if LOG_LINES:
        lines.append("distinct warnings and errors in the daemons' logs (first of each kind):")
        lines.extend("  " + text for text in LOG_LINES.values())
    print("\n".join(lines))
    sys.stdout.flush()
    document = {
        "meta": bench.meta,
        "figures": {key: dict(fig.meta[key], values=values, **fig.summary(key)) for key, values in fig.values.items()},
        "ratios": ratios,
        "bars": bars,
        "notes": bench.notes,
        "log_lines": list(LOG_LINES.values()),
        "table": lines,
    }
    with open(path, "w") as handle:
        json.dump(document, handle, indent=2, ensure_ascii=False)
        handle.write("\n")
    log("wrote " + path)
