"""Collected figures and the small measurements they are made of."""
import json
import os
import statistics


class Figures:
    def __init__(self):
        self.values = {}
        self.meta = {}

    def add(self, key, value, label, unit, system):
        self.meta.setdefault(key, {"label": label, "unit": unit, "system": system})
        self.values.setdefault(key, []).append(value)

    def median(self, key):
        values = self.values.get(key) or []
        return statistics.median(values) if values else None

    def summary(self, key):
        values = self.values.get(key) or []
        if not values:
            return None
        return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def du(path):
    """Bytes allocated on disk under a path (what a client has written)."""
    total = 0
    for root, _, names in os.walk(path):
        for name in names:
            try:
                total += os.lstat(os.path.join(root, name)).st_blocks * 512
            except OSError:
                pass
    return total


def status_items(data):
    try:
        with open(os.path.join(data, "status.json")) as handle:
            return json.load(handle).get("items", [])
    except (OSError, ValueError):
        return []
