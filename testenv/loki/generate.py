#!/usr/bin/env python3
# Copyright: echo.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Deterministic log data for the Loki stand-in (or any Loki): controlled timestamps, streams, collisions.

    python3 generate.py --url http://127.0.0.1:23100 --namespace e2e-demo [--entries 200000] [--days 3]

Library use (tests, bench): ``dataset(...)`` builds the entries, ``push(url, ds)`` sends them through
/loki/api/v1/push in large gzip batches, ``expected(ds, start, end)`` yields what an exact export of
[start, end) must contain, in Loki order. Only the standard library is used.

The data set holds:
- ordinary entries spread over ``days`` days across 8 streams (4 components x 2 pods);
- ``crowd`` entries sharing ONE timestamp, spread over every stream, with the same lines in each
  stream (so identical lines in different streams), which straddles any page boundary;
- entries exactly on 13h window boundaries, one nanosecond before them, at the range start (kept,
  start is inclusive) and at the range end (dropped, end is exclusive);
- exact duplicates (same stream, timestamp and line) pushed again later, which Loki ignores.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
import urllib.request

NS = 1_000_000_000
HOUR = 3600 * NS
COMPONENTS = (("api", "api-server"), ("worker", "worker"), ("worker-cpu", "worker"), ("directus", "directus"))
TRICKY = ('quote " inside', "back\\slash \\d", "regex a.b*c?(d)[e]{f}|g^$", "tab\tand `backtick`",
          "unicode ✓ ünï", "level=error msg=\"boom\" status=503")


def labels_key(labels):
    def quote(v):
        return json.dumps(v, ensure_ascii=False).replace("\\u007f", "\\x7f")
    return "{" + ", ".join("%s=%s" % (k, quote(labels[k])) for k in sorted(labels)) + "}"


# Loki 3 adds service_name to a stream that has none (limits_config.discover_service_name, default list):
# from the first of these labels the stream has, else "unknown_service". Our charts keep that default.
SERVICE_NAME_FROM = ("service", "app", "application", "app_name", "name", "app_kubernetes_io_name", "container",
                     "container_name", "k8s_container_name", "component", "workload", "job", "k8s_job_name")


def stored_labels(labels, discover_service_name=True):
    """The labels Loki 3 stores (and returns) for a pushed stream."""
    if not discover_service_name or "service_name" in labels:
        return dict(labels)
    for name in SERVICE_NAME_FROM:
        if labels.get(name):
            return dict(labels, service_name=labels[name])
    return dict(labels, service_name="unknown_service")


def stream_labels(namespace, component, container, pod_index):
    pod = "echo-%s-%d" % (component, pod_index)
    return {"app": "echo", "namespace": namespace, "component": component, "container": container,
            "pod": "%s/%s" % (namespace, pod), "instance": pod}


class Dataset:
    """streams: list of labels dicts; values[i]: list of (ts, line) in push order (duplicates included)."""

    def __init__(self, namespace, start, end, crowd_ts):
        self.namespace = namespace
        self.start = start
        self.end = end
        self.crowd_ts = crowd_ts
        self.streams = []
        self.values = []
        self.duplicates = 0


def dataset(namespace, start, days=3, entries=200_000, crowd=5000, seed=7, window=13 * HOUR):
    """Build the entries; ``entries`` counts what an exact export of [start, start+days) returns."""
    rng = random.Random(seed)
    end = start + days * 24 * HOUR
    ds = Dataset(namespace, start, end, start + (end - start) // 2 + 123_456_789)
    for comp, container in COMPONENTS:
        for pod in (1, 2):
            ds.streams.append(stream_labels(namespace, comp, container, pod))
            ds.values.append([])
    nstreams = len(ds.streams)
    special = []
    # window boundaries and their neighbours, the range start (inclusive)
    t = start
    while t < end:
        special.append(t)
        if t > start:
            special.append(t - 1)
        t += window
    special.append(end - 1)
    ordinary = entries - crowd - len(special) * 2 - len(TRICKY)
    if ordinary < 0:
        raise ValueError("entries too small for the fixed collisions")
    # ordinary entries: random timestamps (ms resolution so natural collisions happen too)
    per = [[] for _ in range(nstreams)]
    seq = 0
    for _ in range(ordinary):
        s = rng.randrange(nstreams)
        ts = start + rng.randrange((end - start) // 1_000_000) * 1_000_000
        seq += 1
        lvl = "error" if seq % 97 == 0 else ("warn" if seq % 31 == 0 else "info")
        per[s].append((ts, "level=%s msg=\"request handled\" seq=%d" % (lvl, seq)))
    # boundary entries: the same line in two streams at each special timestamp
    for ts in special:
        for s in (0, nstreams - 1):
            per[s].append((ts, "boundary entry at %d" % ts))
    # tricky lines for escaping tests, one per stream-0 at distinct timestamps
    for i, line in enumerate(TRICKY):
        per[0].append((start + HOUR + i * NS, line))
    # the crowd: `crowd` entries at one timestamp, identical lines across streams
    for i in range(crowd):
        per[i % nstreams].append((ds.crowd_ts, "crowd entry %d" % (i // nstreams)))
    for s in range(nstreams):
        per[s].sort(key=lambda e: e[0])  # stable: equal timestamps keep push order
        ds.values[s] = per[s]
    # exact duplicates pushed again at the end (ignored by Loki) and one entry at `end` (excluded)
    for s in range(nstreams):
        for ts, line in rng.sample(per[s], 3):
            ds.values[s].append((ts, line))
            ds.duplicates += 1
    ds.values[0].append((end, "at the exclusive end: never exported"))
    return ds


def expected(ds, start=None, end=None, discover_service_name=True):
    """Entries (ts, labels_key, line) an exact forward export of [start, end) returns, in the export's
    order: timestamp, then stream label string, then push order (Loki's own order of equal
    timestamps is by stream hash and not promised; the export sorts them)."""
    start = ds.start if start is None else start
    end = ds.end if end is None else end
    rows = []
    for labels, values in zip(ds.streams, ds.values):
        key = labels_key(stored_labels(labels, discover_service_name))
        seen = set()
        kept = []
        for pos, (ts, line) in enumerate(values):
            if (ts, line) in seen:
                continue  # Loki ignores an identical entry in the same stream
            seen.add((ts, line))
            kept.append((ts, pos, line))
        kept.sort(key=lambda e: (e[0], e[1]))
        rows.extend((ts, key, pos, line) for ts, pos, line in kept if start <= ts < end)
    rows.sort(key=lambda r: (r[0], r[1], r[2]))
    return [(r[0], r[1], r[3]) for r in rows]


def _post(url, payload):
    body = gzip.compress(json.dumps(payload, ensure_ascii=False).encode("utf-8"), 1)
    req = urllib.request.Request(url.rstrip("/") + "/loki/api/v1/push", data=body, method="POST",
                                 headers={"Content-Type": "application/json", "Content-Encoding": "gzip"})
    with urllib.request.urlopen(req, timeout=120) as resp:
        if resp.status not in (200, 204):
            raise RuntimeError("push failed: HTTP %d" % resp.status)


def push(url, ds, batch=50_000):
    """Push every stream's values in order, ``batch`` entries per request across streams."""
    cursors = [0] * len(ds.streams)
    total = sum(len(v) for v in ds.values)
    sent = 0
    while sent < total:
        payload = {"streams": []}
        room = batch
        for i, labels in enumerate(ds.streams):
            if room <= 0:
                break
            vals = ds.values[i][cursors[i]:cursors[i] + max(1, room // len(ds.streams))]
            if not vals:
                continue
            cursors[i] += len(vals)
            room -= len(vals)
            sent += len(vals)
            payload["streams"].append({"stream": labels, "values": [[str(ts), line] for ts, line in vals]})
        _post(url, payload)
    return sent


def drop(url, namespace):
    """Forget the namespace's streams (stand-in only: POST /_drop)."""
    body = json.dumps({"match": '{namespace="%s"}' % namespace}).encode()
    req = urllib.request.Request(url.rstrip("/") + "/_drop", data=body, method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.loads(resp.read())["removed"]


def main(argv=None):
    ap = argparse.ArgumentParser(description="Push a deterministic log data set into Loki")
    ap.add_argument("--url", default="http://127.0.0.1:23100")
    ap.add_argument("--namespace", default="echo-demo")
    ap.add_argument("--start", type=int, help="start, ns since epoch (default: now - days)")
    ap.add_argument("--days", type=int, default=3)
    ap.add_argument("--entries", type=int, default=200_000)
    ap.add_argument("--crowd", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    import time
    start = args.start if args.start is not None else (time.time_ns() // NS - args.days * 86400) * NS
    ds = dataset(args.namespace, start, args.days, args.entries, args.crowd, args.seed)
    n = push(args.url, ds)
    print(json.dumps({"namespace": args.namespace, "start": ds.start, "end": ds.end, "pushed": n,
                      "expected": len(expected(ds)), "crowd_ts": ds.crowd_ts}))


if __name__ == "__main__":
    sys.exit(main())
