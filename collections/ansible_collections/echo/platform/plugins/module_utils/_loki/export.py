# -*- coding: utf-8 -*-
# Copyright: echo.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Export a Loki log query to a file: parallel time windows, exact pages, streamed output.

Private to the echo.platform collection.

- The range is split into windows no longer than the server's max_query_length.
- N worker threads each page through one window at a time (``query.PageMerger``) and write the
  window, already formatted, to a part file; only one page per worker is in memory.
- The main thread appends finished parts to ``<path>.partial`` in window order, so the output is
  in global time order; at the end ``<path>.partial`` is renamed to ``<path>``. On any failure
  the partial file is removed and ``<path>`` is left as it was: no partial file looks complete.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from array import array

from ansible_collections.echo.platform.plugins.module_utils._common.errors import LokiError, ValidationError
from ansible_collections.echo.platform.plugins.module_utils._loki import query as q

FORMATS = ("jsonl", "csv", "raw")

try:
    from json.encoder import c_encode_basestring as _encode_str  # what json.dumps uses for strings
except ImportError:  # pragma: no cover
    _encode_str = None
if _encode_str is None:  # pragma: no cover
    from json.encoder import py_encode_basestring as _encode_str


class _Cancelled(Exception):
    pass


class _Formatter:
    def __init__(self, fmt):
        if fmt not in FORMATS:
            raise ValidationError("Unknown output format %r: use one of %s" % (fmt, ", ".join(FORMATS)))
        self.fmt = fmt
        self._labels_json = {}

    def header(self):
        if self.fmt == "csv":
            buf = io.StringIO()
            csv.writer(buf, lineterminator="\n").writerow(q.CSV_HEADER)
            return buf.getvalue()
        return ""

    def write(self, out, entries):
        """Write entries to the text file ``out``; returns the per-entry text lengths (bytes)."""
        if self.fmt == "jsonl":
            # hand-assembled JSON (same bytes as json.dumps with these separators), labels encoded once per stream
            fmt_ns, enc, cache = q.format_ns, _encode_str, self._labels_json
            texts = []
            for e in entries:
                labels = cache.get(e[1])
                if labels is None:
                    labels = cache[e[1]] = json.dumps(e[3], ensure_ascii=False, separators=(",", ":"))
                texts.append('{"timestamp":"%s","ts_ns":"%d","labels":%s,"line":%s}\n'
                             % (fmt_ns(e[0]), e[0], labels, enc(e[2])))
        elif self.fmt == "raw":
            texts = [e[2] + "\n" for e in entries]
        else:
            texts = []
            for e in entries:
                buf = io.StringIO()
                csv.writer(buf, lineterminator="\n").writerow(q.csv_row(e))
                texts.append(buf.getvalue())
        out.write("".join(texts))
        return texts


class _WindowResult:
    __slots__ = ("index", "path", "count", "offsets", "sample", "pages", "requests", "first_ts", "last_ts", "streams")

    def __init__(self, index, path):
        self.index = index
        self.path = path
        self.count = 0
        self.offsets = None
        self.sample = []
        self.pages = 0
        self.requests = 0
        self.first_ts = None
        self.last_ts = None
        self.streams = set()


def fetch_tie(client, query, ts, server_max):
    """Every entry at timestamp ``ts`` in Loki order, even when more than one page holds.

    One query over [ts, ts+1ns) first; if it comes back full, one query per stream (found with
    the series API) with the stream's full label set as selector.
    """
    data = client.query_range(query, ts, ts + 1, server_max, "forward")
    entries = q.flatten_streams(data)
    requests = 1
    if len(entries) < server_max:
        return entries, requests
    selector, rest = q.split_query(query)
    streams = client.series(selector, ts, ts + 1)
    requests += 1
    out = []
    for labels in sorted(streams, key=q.labels_key):
        one = q.labels_key(labels) + ((" " + rest) if rest else "")
        part = q.flatten_streams(client.query_range(one, ts, ts + 1, server_max, "forward"))
        requests += 1
        if len(part) >= server_max:
            raise LokiError(
                "Failed to export logs: stream %s has %d or more entries at the single timestamp %s, more than "
                "one Loki query may return (max_entries_limit_per_query); raise that server limit and "
                "server_max_entries" % (q.labels_key(labels), server_max, q.format_ns(ts)))
        out.extend(part)
    return out, requests


def _run_window(client, query, window, index, part_path, formatter, limit, server_max, cap, sample_size,
                cancel, keep_offsets):
    try:
        return _fetch_window(client, query, window, index, part_path, formatter, limit, server_max, cap,
                             sample_size, cancel, keep_offsets)
    except _Cancelled:
        raise
    except BaseException:
        cancel.set()  # one failed window fails the export: stop the other workers early
        raise


def _first_error(futures):
    """The first real failure among the windows (others were only cancelled because of it)."""
    for fut in futures:
        try:
            exc = fut.exception()
        except Exception:  # pylint: disable=broad-except
            continue  # cancelled before it started
        if exc is not None and not isinstance(exc, _Cancelled):
            return exc
    return LokiError("Failed to export logs: the export was cancelled")


def _fetch_window(client, query, window, index, part_path, formatter, limit, server_max, cap, sample_size,
                  cancel, keep_offsets):
    res = _WindowResult(index, part_path)
    merger = q.PageMerger(window[0], window[1], limit)
    if keep_offsets:
        res.offsets = array("Q")
    pos = 0
    with open(part_path, "w", encoding="utf-8", newline="") as out:
        while True:
            if cancel.is_set():
                raise _Cancelled()
            params = merger.next_request()
            if params is not None:
                data = client.query_range(query, params["start"], params["end"], params["limit"], "forward")
                res.requests += 1
                fresh = merger.accept(q.flatten_streams(data))
            elif merger.stuck_at is not None:
                tie, nreq = fetch_tie(client, query, merger.stuck_at, server_max)
                res.requests += nreq
                fresh = merger.resolve_tie(tie)
            else:
                break
            if cap is not None and res.count + len(fresh) > cap:
                fresh = fresh[:cap - res.count]
            if not fresh:
                if cap is not None and res.count >= cap:
                    break
                continue
            texts = formatter.write(out, fresh)
            if keep_offsets:
                for t in texts:
                    pos += len(t.encode("utf-8"))
                    res.offsets.append(pos)
            if res.first_ts is None:
                res.first_ts = fresh[0][0]
            res.last_ts = fresh[-1][0]
            res.count += len(fresh)
            for e in fresh:
                res.streams.add(e[1])
            if len(res.sample) < sample_size:
                res.sample.extend({"timestamp": q.format_ns(e[0]), "labels": e[3], "line": e[2]}
                                  for e in fresh[:sample_size - len(res.sample)])
            if cap is not None and res.count >= cap:
                break
    res.pages = merger.pages
    return res


def export(client, query, start_ns, end_ns, path, fmt="jsonl", limit=1000, max_entries=None, workers=2,
           window_ns=None, server_max_entries=5000, sample_size=5):
    """Run ``query`` over [start_ns, end_ns) and write every entry to ``path``; returns a summary dict."""
    formatter = _Formatter(fmt)
    if limit < 1 or limit > server_max_entries:
        raise ValidationError("limit must be between 1 and server_max_entries (%d), got %d" % (server_max_entries, limit))
    if max_entries is not None and max_entries < 1:
        raise ValidationError("max_entries must be at least 1 (or unset for no cap)")
    if workers < 1:
        raise ValidationError("workers must be at least 1")
    if end_ns <= start_ns:
        raise ValidationError("The end of the time range is not after its start")
    q.split_query(query)
    path = os.path.abspath(path)
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        raise ValidationError("The output directory %s does not exist: create it or choose another dest" % directory)
    windows = q.split_windows(start_ns, end_ns, window_ns)
    partial = path + ".partial"
    tmpdir = tempfile.mkdtemp(prefix=".%s.parts." % os.path.basename(path), dir=directory)
    cancel = threading.Event()
    summary = {"entries": 0, "windows": len(windows), "pages": 0, "requests": 0, "streams": 0,
               "first_timestamp": None, "last_timestamp": None, "truncated": False, "sample": []}
    streams = set()
    pool = ThreadPoolExecutor(max_workers=workers)
    ok = False
    try:
        futures = [pool.submit(_run_window, client, query, w, i, os.path.join(tmpdir, "part-%06d" % i), formatter,
                               limit, server_max_entries, max_entries, sample_size, cancel,
                               max_entries is not None)
                   for i, w in enumerate(windows)]
        with open(partial, "w", encoding="utf-8", newline="") as out:
            out.write(formatter.header())
            out.flush()
            for fut in futures:
                try:
                    res = fut.result()
                except _Cancelled:
                    pool.shutdown(wait=True, cancel_futures=True)
                    raise _first_error(futures)
                take = res.count
                if max_entries is not None and summary["entries"] + take > max_entries:
                    take = max_entries - summary["entries"]
                if take > 0:
                    out.flush()
                    with open(res.path, "rb") as part:
                        if take == res.count:
                            shutil.copyfileobj(part, out.buffer, 1 << 20)
                        else:
                            _copy_bytes(part, out.buffer, res.offsets[take - 1])
                    if summary["first_timestamp"] is None and res.first_ts is not None:
                        summary["first_timestamp"] = q.format_ns(res.first_ts)
                    if take == res.count and res.last_ts is not None:
                        summary["last_timestamp"] = q.format_ns(res.last_ts)
                    if len(summary["sample"]) < sample_size:
                        summary["sample"].extend(res.sample[:min(take, sample_size - len(summary["sample"]))])
                    streams.update(res.streams)
                summary["entries"] += take
                summary["pages"] += res.pages
                summary["requests"] += res.requests
                os.unlink(res.path)
                if max_entries is not None and summary["entries"] >= max_entries:
                    summary["truncated"] = True
                    cancel.set()
                    break
        ok = True
    finally:
        cancel.set()
        pool.shutdown(wait=True, cancel_futures=True)
        shutil.rmtree(tmpdir, ignore_errors=True)
        if not ok and os.path.exists(partial):
            os.unlink(partial)
    if summary["truncated"]:
        summary["last_timestamp"] = None  # not tracked per entry inside a cut window
    summary["streams"] = len(streams)
    os.replace(partial, path)
    summary["path"] = path
    summary["retries"] = getattr(client, "retries", 0)
    return summary


def _copy_bytes(src, dst, n):
    while n > 0:
        chunk = src.read(min(n, 1 << 20))
        if not chunk:
            break
        dst.write(chunk)
        n -= len(chunk)
