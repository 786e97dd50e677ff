#!/usr/bin/env python3
# Copyright: echo.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A strict, in-memory stand-in for the Loki HTTP API (see README.md in this directory).

Real Loki cannot be built in this workplace (AGPL, marked not-to-use), so the rehearsal
environment runs this instead. Besides the standard library it needs ``google-re2`` (regular
expressions with RE2 semantics, as Loki's Go regexp) and ``xxhash`` (Loki 3 orders entries that
share a timestamp by stream hash: xxhash64 of the stream's labels), both in requirements-dev.txt.

    python3 server.py [--host 127.0.0.1] [--port 23100] [--max-query-length 13h]
                      [--max-entries-limit 5000] [--discover-service-name LIST]
"""

from __future__ import annotations

import argparse
import gzip
import heapq
import json
import math
import os
import random
import re
import sys
import threading
import time
from array import array
from bisect import bisect_left, bisect_right
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

import re2
import xxhash

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
import standin_http  # noqa: E402  pylint: disable=wrong-import-position,import-error

NS = 1_000_000_000
try:
    from json.encoder import c_encode_basestring as _encode_str  # the C encoder json.dumps uses
except ImportError:  # pragma: no cover
    _encode_str = None
if _encode_str is None:  # pragma: no cover
    from json.encoder import py_encode_basestring as _encode_str
_UNITS = {"ns": 1, "us": 1000, "µs": 1000, "ms": 10**6, "s": NS, "m": 60 * NS, "h": 3600 * NS,
          "d": 86400 * NS, "w": 7 * 86400 * NS, "y": 365 * 86400 * NS}
LABEL_NAME_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
# Loki 3's limits_config.discover_service_name default: the first of these labels a stream has (non-empty)
# becomes its service_name label, "unknown_service" when it has none; an empty list turns it off.
DISCOVER_SERVICE_NAME = ("service", "app", "application", "app_name", "name", "app_kubernetes_io_name", "container",
                         "container_name", "k8s_container_name", "component", "workload", "job", "k8s_job_name")
_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False
EMPTY_COMPAT_MSG = ('queries require at least one regexp or equality matcher that does not have an '
                    'empty-compatible value. For instance, app=~".*" does not meet this requirement, '
                    'but app=~".+" will')


class ApiError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


class ParseError(ApiError):
    def __init__(self, message, col=None):
        where = "parse error at line 1, col %d: " % col if col is not None else "parse error : "
        super().__init__(400, where + message)


# ------------------------------------------------------------------------------------------------
# durations and timestamps (Loki/Prometheus/Go conventions)
# ------------------------------------------------------------------------------------------------

def parse_duration(text):
    s = text.strip()
    total, pos = 0, 0
    for m in re.finditer(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d|w|y)", s):
        if m.start() != pos:
            break
        total += int(round(float(m.group(1)) * _UNITS[m.group(2)]))
        pos = m.end()
    if not s or pos != len(s):
        raise ValueError("invalid duration %r" % text)
    return total


def _frac(value, unit):
    whole, rest = divmod(value, unit)
    digits = len(str(unit)) - 1
    return str(whole) + ("." + str(rest).rjust(digits, "0").rstrip("0") if rest else "")


def go_duration(ns):
    """Go's time.Duration.String(): 13h0m0.001s, 1m30s, 500ms, 0s."""
    if ns == 0:
        return "0s"
    sign = "-" if ns < 0 else ""
    u = abs(ns)
    if u < 1000:
        return "%s%dns" % (sign, u)
    if u < 10**6:
        return sign + _frac(u, 1000) + "µs"
    if u < NS:
        return sign + _frac(u, 10**6) + "ms"
    secs, rest = divmod(u, NS)
    h, rem = divmod(secs, 3600)
    m, s = divmod(rem, 60)
    sec = _frac(s * NS + rest, NS) + "s"
    if h:
        return "%s%dh%dm%s" % (sign, h, m, sec)
    if m:
        return "%s%dm%s" % (sign, m, sec)
    return sign + sec


def parse_timestamp(value, default):
    """Loki's rules: '' -> default; with '.', float seconds; integer <= 10 digits seconds, else ns; RFC 3339."""
    if value is None or value == "":
        return default
    if "." in value:
        try:
            f = float(value)
            s = math.floor(f)
            return int(s) * NS + int(round((f - s) * NS))
        except ValueError:
            pass
    try:
        n = int(value)
        return n * NS if len(value) <= 10 else n
    except ValueError:
        pass
    m = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$", value)
    if not m:
        raise ApiError(400, 'cannot parse "%s" to a valid timestamp' % value)
    tz = "+00:00" if m.group(3) == "Z" else m.group(3)
    dt = datetime.fromisoformat(m.group(1) + tz)
    return int(dt.timestamp()) * NS + int((m.group(2) or "0").ljust(9, "0"))


# ------------------------------------------------------------------------------------------------
# LogQL subset: stream selector + line filters
# ------------------------------------------------------------------------------------------------

_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\", '"': '"'}


class _Lexer:
    def __init__(self, text):
        self.s = text
        self.i = 0

    def ws(self):
        while self.i < len(self.s) and self.s[self.i] in " \t\r\n":
            self.i += 1

    def eof(self):
        self.ws()
        return self.i >= len(self.s)

    def col(self):
        return self.i + 1

    def expect(self, lit):
        self.ws()
        if not self.s.startswith(lit, self.i):
            raise ParseError("syntax error: unexpected %s, expecting %s" % (self._here(), lit), self.col())
        self.i += len(lit)

    def _here(self):
        return repr(self.s[self.i:self.i + 8]) if self.i < len(self.s) else "end of input"

    def ident(self):
        self.ws()
        m = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*").match(self.s, self.i)
        if not m:
            raise ParseError("syntax error: unexpected %s, expecting IDENTIFIER" % self._here(), self.col())
        self.i = m.end()
        return m.group(0)

    def op(self, choices):
        self.ws()
        for c in choices:  # longest first
            if self.s.startswith(c, self.i):
                self.i += len(c)
                return c
        raise ParseError("syntax error: unexpected %s, expecting one of %s" % (self._here(), " ".join(choices)),
                         self.col())

    def string(self):
        """A Go string literal: "..." with escapes (\\a \\b \\f \\n \\r \\t \\v \\\\ \\" \\xHH \\uHHHH
        \\UHHHHHHHH \\ooo) or `raw` (no escapes)."""
        self.ws()
        start = self.col()
        if self.i >= len(self.s) or self.s[self.i] not in "\"`":
            raise ParseError("syntax error: unexpected %s, expecting STRING" % self._here(), start)
        quote = self.s[self.i]
        self.i += 1
        out = []
        if quote == "`":
            end = self.s.find("`", self.i)
            if end < 0:
                raise ParseError("literal not terminated", start)
            out.append(self.s[self.i:end])
            self.i = end + 1
            return "".join(out)
        while True:
            if self.i >= len(self.s) or self.s[self.i] == "\n":
                raise ParseError("literal not terminated", start)
            ch = self.s[self.i]
            if ch == '"':
                self.i += 1
                return "".join(out)
            if ch != "\\":
                out.append(ch)
                self.i += 1
                continue
            nxt = self.s[self.i + 1:self.i + 2]
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
                self.i += 2
            elif nxt in ("x", "u", "U"):
                width = {"x": 2, "u": 4, "U": 8}[nxt]
                digits = self.s[self.i + 2:self.i + 2 + width]
                if len(digits) != width or not re.match(r"^[0-9a-fA-F]+$", digits):
                    raise ParseError("invalid syntax: bad escape \\%s%s" % (nxt, digits), self.col())
                code = int(digits, 16)
                if nxt == "x":
                    out.append(chr(code))
                else:
                    if code > 0x10FFFF or 0xD800 <= code < 0xE000:
                        raise ParseError("invalid syntax: bad unicode escape", self.col())
                    out.append(chr(code))
                self.i += 2 + width
            elif nxt and nxt in "01234567":
                digits = self.s[self.i + 1:self.i + 4]
                if not re.match(r"^[0-7]{3}$", digits) or int(digits, 8) > 255:
                    raise ParseError("invalid syntax: bad octal escape", self.col())
                out.append(chr(int(digits, 8)))
                self.i += 4
            else:
                raise ParseError("invalid syntax: unknown escape sequence \\%s" % nxt, self.col())


def _compile(regex, col, anchored=False):
    """RE2, as Loki: label matchers are anchored at both ends with ``.`` matching newlines
    (Prometheus compiles ``^(?s:re)$``), line filters search unanchored."""
    try:
        re2.compile(regex, _RE2_OPTIONS)  # the pattern alone must be valid (a wrapper could hide a stray ")")
        return re2.compile("^(?s:%s)$" % regex if anchored else regex, _RE2_OPTIONS)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise ParseError("error parsing regexp: %s: `%s`" % (reason, regex), col)


class Query:
    """Parsed log query: label matchers [(name, op, value, compiled)] and line filters [(op, value, compiled)]."""

    def __init__(self, text):
        self.text = text
        lx = _Lexer(text)
        lx.expect("{")
        self.matchers = []
        lx.ws()
        if lx.s.startswith("}", lx.i):
            raise ParseError(EMPTY_COMPAT_MSG)
        while True:
            name = lx.ident()
            op = lx.op(("=~", "!~", "!=", "="))
            col = lx.col()
            value = lx.string()
            rx = _compile(value, col, anchored=True) if op in ("=~", "!~") else None
            self.matchers.append((name, op, value, rx))
            lx.ws()
            if lx.s.startswith(",", lx.i):
                lx.i += 1
                continue
            lx.expect("}")
            break
        self.filters = []
        while not lx.eof():
            col = lx.col()
            op = lx.op(("|=", "|~", "!=", "!~", "|"))
            if op == "|":
                raise ParseError("this Loki stand-in supports only line filters (|= != |~ !~) after the selector",
                                 col)
            col = lx.col()
            value = lx.string()
            rx = _compile(value, col) if op in ("|~", "!~") else None
            self.filters.append((op, value, rx))
        if not any(self._not_empty_compatible(m) for m in self.matchers):
            raise ParseError(EMPTY_COMPAT_MSG)

    @staticmethod
    def _not_empty_compatible(m):
        """Loki needs one matcher that cannot match the empty value: app="x", app=~".+", app!="" ..."""
        _name, op, value, rx = m
        if op == "=":
            return value != ""
        if op == "!=":
            return value == ""
        if op == "=~":
            return rx.search("") is None
        return rx.search("") is not None

    def selects(self, labels):
        for name, op, value, rx in self.matchers:
            actual = labels.get(name, "")
            if op == "=":
                ok = actual == value
            elif op == "!=":
                ok = actual != value
            elif op == "=~":
                ok = rx.search(actual) is not None
            else:
                ok = rx.search(actual) is None
            if not ok:
                return False
        return True

    def line_ok(self, line):
        for op, value, rx in self.filters:
            if op == "|=":
                ok = value in line
            elif op == "!=":
                ok = value not in line
            elif op == "|~":
                ok = rx.search(line) is not None
            else:
                ok = rx.search(line) is None
            if not ok:
                return False
        return True


def go_quote(value):
    out = ['"']
    for ch in value:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append("\\x%02x" % ord(ch))
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def labels_string(labels):
    """Loki's label-set string (how it prints a stream)."""
    return "{" + ", ".join("%s=%s" % (k, go_quote(labels[k])) for k in sorted(labels)) + "}"


def stream_hash(labels):
    """Loki 3's stream hash: Prometheus ``labels.Labels.Hash()``, xxhash64 over name 0xff value 0xff
    for every label, names sorted. Entries that share a timestamp come back in ascending hash order."""
    buf = bytearray()
    for name in sorted(labels):
        buf += name.encode("utf-8") + b"\xff" + labels[name].encode("utf-8") + b"\xff"
    return xxhash.xxh64_intdigest(bytes(buf))


def discover_service_name(labels, candidates=DISCOVER_SERVICE_NAME):
    """The labels Loki 3 stores: service_name added (unless present) from the first candidate label."""
    if not candidates or "service_name" in labels:
        return labels
    for name in candidates:
        if labels.get(name):
            return dict(labels, service_name=labels[name])
    return dict(labels, service_name="unknown_service")


# ------------------------------------------------------------------------------------------------
# storage
# ------------------------------------------------------------------------------------------------

class Stream:
    __slots__ = ("labels", "key", "order", "ts", "lines")

    def __init__(self, labels):
        self.labels = labels
        self.key = labels_string(labels)
        # tie order between streams: the stream hash (the label string only breaks a hash collision)
        self.order = (stream_hash(labels), self.key)
        self.ts = array("q")
        self.lines = []

    def add(self, ts, line):
        """Insert keeping timestamp order (equal timestamps in insertion order); drop exact duplicates."""
        n = len(self.ts)
        if n == 0 or ts > self.ts[-1]:
            self.ts.append(ts)
            self.lines.append(line)
            return True
        lo = bisect_left(self.ts, ts)
        hi = bisect_right(self.ts, ts, lo)
        for i in range(lo, hi):
            if self.lines[i] == line:
                return False  # Loki ignores an entry identical to one already in the stream
        self.ts.insert(hi, ts)
        self.lines.insert(hi, line)
        return True


class Store:
    def __init__(self, service_name_labels=DISCOVER_SERVICE_NAME):
        self.service_name_labels = tuple(service_name_labels)
        self.streams = {}
        self.lock = threading.RLock()
        self.entries = 0
        self.duplicates = 0

    def push(self, streams):
        accepted = 0
        with self.lock:
            for labels, values in streams:
                labels = discover_service_name(labels, self.service_name_labels)
                key = labels_string(labels)
                st = self.streams.get(key)
                if st is None:
                    st = self.streams[key] = Stream(labels)
                for ts, line in values:
                    if st.add(ts, line):
                        accepted += 1
                    else:
                        self.duplicates += 1
            self.entries += accepted
        return accepted

    def select(self, query, start, end, limit, direction):
        """Up to ``limit`` entries of all matching streams in Loki order; returns [(stream, [(ts, line)])]."""
        with self.lock:
            chosen = [st for st in self.streams.values() if query.selects(st.labels)]
            if direction == "forward" and not query.filters:
                return self._select_forward(chosen, start, end, limit)
            iters = []
            for st in chosen:
                lo = bisect_left(st.ts, start)
                hi = bisect_left(st.ts, end)
                if lo < hi:
                    iters.append(self._iter(st, lo, hi, direction, query))
            picked = {}
            order = []
            scanned = 0
            for item in heapq.merge(*iters):
                st, i = item[3], item[2]
                scanned += 1
                bucket = picked.get(st.key)
                if bucket is None:
                    bucket = picked[st.key] = []
                    order.append(st)
                bucket.append((st.ts[i] if direction == "forward" else st.ts[-i], st.lines[i if i >= 0 else -i]))
                if scanned >= limit:
                    break
            return [(st, picked[st.key]) for st in order]

    @staticmethod
    def _select_forward(chosen, start, end, limit):
        """Fast path, same result as the merge: find the cut-off timestamp with C-level sorting."""
        ranges = []
        for st in chosen:
            lo = bisect_left(st.ts, start)
            hi = min(bisect_left(st.ts, end), lo + limit)
            if lo < hi:
                ranges.append((st, lo, hi))
        if not ranges:
            return []
        candidates = array("q")
        for st, lo, hi in ranges:
            candidates.extend(st.ts[lo:hi])
        if len(candidates) <= limit:
            return [(st, list(zip(st.ts[lo:hi], st.lines[lo:hi]))) for st, lo, hi in sorted(ranges, key=lambda r: r[0].order)]
        cutoff = sorted(candidates)[limit - 1]
        room = limit
        picks = []
        # strictly before the cut-off: all of them; at the cut-off: streams in hash order, then insertion
        for st, lo, hi in ranges:
            below = bisect_left(st.ts, cutoff, lo, hi)
            picks.append([st, lo, below])
            room -= below - lo
        for pick in sorted(picks, key=lambda p: p[0].order):
            if room <= 0:
                break
            st, lo, below = pick
            at_end = bisect_right(st.ts, cutoff, below)
            take = min(room, at_end - below)
            pick[2] = below + take
            room -= take
        return [(st, list(zip(st.ts[lo:hi], st.lines[lo:hi]))) for st, lo, hi in sorted(picks, key=lambda p: p[0].order)
                if lo < hi]

    @staticmethod
    def _iter(st, lo, hi, direction, query):
        ts, lines, key = st.ts, st.lines, st.order
        check = query.line_ok if query.filters else None
        if direction == "forward":
            for i in range(lo, hi):
                if check is None or check(lines[i]):
                    yield (ts[i], key, i, st)
        else:
            # equal timestamps: streams by hash (in both directions, as Loki), then newest insertion first
            for i in range(hi - 1, lo - 1, -1):
                if check is None or check(lines[i]):
                    yield (-ts[i], key, -i, st)

    def series(self, queries, start, end):
        with self.lock:
            out = []
            for st in self.streams.values():
                if any(qr.selects(st.labels) for qr in queries):
                    lo = bisect_left(st.ts, start)
                    if lo < len(st.ts) and st.ts[lo] < end:
                        out.append(dict(st.labels))
            return out

    def drop(self, query):
        """Forget every stream the selector matches (test hygiene); returns the entries removed."""
        with self.lock:
            keys = [k for k, st in self.streams.items() if query.selects(st.labels)]
            removed = sum(len(self.streams[k].ts) for k in keys)
            for k in keys:
                del self.streams[k]
            self.entries -= removed
            return removed

    def label_names(self):
        with self.lock:
            return sorted({k for st in self.streams.values() for k in st.labels})

    def label_values(self, name):
        with self.lock:
            return sorted({st.labels[name] for st in self.streams.values() if name in st.labels})


# ------------------------------------------------------------------------------------------------
# faults
# ------------------------------------------------------------------------------------------------

class Faults:
    """Injected failures for query endpoints.

    Never more than ``max_consecutive`` in a row on one client connection, so a client that retries
    more often than that always gets through, however its parallel requests interleave.
    """

    def __init__(self):
        self.lock = threading.Lock()
        self.configure({})
        self.counts = {"requests": 0, "429": 0, "503": 0}

    def configure(self, cfg):
        with getattr(self, "lock", threading.Lock()):
            self.rate_429 = float(cfg.get("rate_429", 0))
            self.rate_503 = float(cfg.get("rate_503", 0))
            ra = cfg.get("retry_after")
            self.retry_after = None if ra in (None, "") else str(ra)
            self.latency_ms = float(cfg.get("latency_ms", 0))
            self.max_consecutive = int(cfg.get("max_consecutive", 2))
            self.start_after = int(cfg.get("start_after", 0))
            self.rng = random.Random(cfg.get("seed", 1))
            self.consecutive = {}
            self.counts = {"requests": 0, "429": 0, "503": 0}

    def state(self):
        with self.lock:
            return {"rate_429": self.rate_429, "rate_503": self.rate_503, "retry_after": self.retry_after,
                    "latency_ms": self.latency_ms, "max_consecutive": self.max_consecutive,
                    "start_after": self.start_after,
                    "counts": dict(self.counts)}

    def decide(self, client=None):
        """None, or (status, headers, body) to answer instead of the real one."""
        with self.lock:
            self.counts["requests"] += 1
            latency = self.latency_ms
            fault = None
            run = self.consecutive.get(client, 0)
            if run < self.max_consecutive and self.counts["requests"] > self.start_after:
                r = self.rng.random()
                if r < self.rate_429:
                    headers = {"Retry-After": self.retry_after} if self.retry_after else {}
                    fault = (429, headers, "Ingester/querier rate limited (injected fault)\n")
                    self.counts["429"] += 1
                elif r < self.rate_429 + self.rate_503:
                    fault = (503, {}, "upstream connect error or disconnect/reset before headers (injected fault)\n")
                    self.counts["503"] += 1
            if fault:
                self.consecutive[client] = run + 1
            else:
                self.consecutive.pop(client, None)
        if latency:
            time.sleep(latency / 1000.0)
        return fault


# ------------------------------------------------------------------------------------------------
# HTTP
# ------------------------------------------------------------------------------------------------

_LABEL_VALUES = re.compile(r"^/loki/api/v1/label/([^/]+)/values$")


class Handler(standin_http.Handler):
    server_version = "loki-standin/1"
    methods = ("GET", "POST", "DELETE")

    def _send(self, status, body, ctype="application/json; charset=utf-8", headers=None):
        self.write(status, body, ctype, headers)

    def _json(self, obj, status=200):
        self._send(status, json.dumps(obj, ensure_ascii=False, separators=(",", ":")))

    def _error(self, exc):
        # Loki answers API errors with a plain-text body
        self._send(exc.status, exc.message + "\n", "text/plain; charset=utf-8")

    def _body(self):
        data = self.read_body()
        if (self.headers.get("Content-Encoding") or "").lower() == "gzip":
            try:
                data = gzip.decompress(data)
            except OSError as exc:
                raise ApiError(400, "cannot decompress gzip body: %s" % exc)
        return data

    def _params(self, url):
        params = parse_qs(url.query, keep_blank_values=True)
        if self.command == "POST" and "form-urlencoded" in (self.headers.get("Content-Type") or ""):
            for k, v in parse_qs(self._body().decode("utf-8"), keep_blank_values=True).items():
                params.setdefault(k, []).extend(v)
        return params

    def dispatch(self):
        url = urlsplit(self.path)
        path = url.path
        try:
            if path == "/ready":
                return self._send(200, "ready\n", "text/plain; charset=utf-8")
            if path == "/_faults":
                if self.command == "POST":
                    self.server.faults.configure(json.loads(self._body() or b"{}"))
                return self._json(self.server.faults.state())
            if path == "/_drop" and self.command == "POST":
                doc = json.loads(self._body() or b"{}")
                return self._json({"removed": self.server.store.drop(Query(doc.get("match", "")))})
            if path == "/_stats":
                st = self.server.store
                return self._json({"streams": len(st.streams), "entries": st.entries, "duplicates": st.duplicates,
                                   "max_query_length": go_duration(self.server.max_query_length),
                                   "max_entries_limit_per_query": self.server.max_entries})
            if path == "/loki/api/v1/push" and self.command == "POST":
                return self._push()
            if path in ("/loki/api/v1/query_range", "/loki/api/v1/series") and self.command in ("GET", "POST"):
                fault = self.server.faults.decide(self.client_address)
                if fault:
                    return self._send(fault[0], fault[2], "text/plain; charset=utf-8", fault[1])
                params = self._params(url)
                return self._query_range(params) if path.endswith("query_range") else self._series(params)
            if path == "/loki/api/v1/labels" and self.command == "GET":
                return self._json({"status": "success", "data": self.server.store.label_names()})
            m = _LABEL_VALUES.match(path)
            if m and self.command == "GET":
                return self._json({"status": "success", "data": self.server.store.label_values(m.group(1))})
            self._send(404, "404 page not found\n", "text/plain; charset=utf-8")
        except ApiError as exc:
            self._error(exc)
        except (ValueError, KeyError, TypeError) as exc:
            self._error(ApiError(400, str(exc)))

    def _push(self):
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        if ctype != "application/json":
            raise ApiError(415, "this Loki stand-in accepts only JSON pushes (Content-Type: application/json), "
                                "got %r" % ctype)
        try:
            doc = json.loads(self._body())
        except ValueError as exc:
            raise ApiError(400, "loghttp.PushRequest: cannot parse JSON: %s" % exc)
        streams = []
        for s in doc.get("streams") or []:
            labels = s.get("stream") or {}
            if not labels:
                raise ApiError(400, "error at least one label pair is required per stream")
            for k, v in labels.items():
                if not LABEL_NAME_RE.match(k):
                    raise ApiError(400, 'error parsing labels: invalid label name "%s"' % k)
                if not isinstance(v, str):
                    raise ApiError(400, "label values must be strings")
            values = []
            for v in s.get("values") or []:
                if not isinstance(v, list) or len(v) < 2 or not isinstance(v[0], str) or not isinstance(v[1], str):
                    raise ApiError(400, "each value must be [\"<unix epoch in nanoseconds>\", \"<log line>\"]")
                try:
                    values.append((int(v[0]), v[1]))
                except ValueError:
                    raise ApiError(400, 'cannot parse timestamp "%s"' % v[0])
            streams.append((dict(labels), values))
        self.server.store.push(streams)
        self._send(204, b"", "text/plain")

    def _query_range(self, params):
        srv = self.server
        qs = params.get("query", [""])[0]
        if not qs:
            raise ParseError("syntax error: unexpected $end")
        query = Query(qs)
        now = time.time_ns()
        end = parse_timestamp(params.get("end", [""])[0], now)
        start = parse_timestamp(params.get("start", [""])[0], end - 3600 * NS)
        if end < start:
            raise ApiError(400, "end timestamp must not be before or equal to start time")
        limit_s = params.get("limit", ["100"])[0] or "100"
        try:
            limit = int(limit_s)
        except ValueError:
            raise ApiError(400, 'strconv.ParseUint: parsing "%s": invalid syntax' % limit_s)
        if limit <= 0:
            raise ApiError(400, "limit must be a positive value")
        direction = (params.get("direction", ["backward"])[0] or "backward").lower()
        if direction not in ("forward", "backward"):
            raise ApiError(400, "invalid direction")
        if srv.max_entries and limit > srv.max_entries:
            raise ApiError(400, "max entries limit per query exceeded, limit > max_entries_limit (%d > %d)"
                           % (limit, srv.max_entries))
        if srv.max_query_length and end - start > srv.max_query_length:
            raise ApiError(400, "the query time range exceeds the limit (query length: %s, limit: %s)"
                           % (go_duration(end - start), go_duration(srv.max_query_length)))
        t0 = time.perf_counter()
        picked = srv.store.select(query, start, end, limit, direction)
        result = []
        total = 0
        nbytes = 0
        enc = _encode_str
        for st, values in picked:
            total += len(values)
            nbytes += sum(len(line) for _ts, line in values)
            vals = ",".join(['["%d",%s]' % (ts, enc(line)) for ts, line in values])
            result.append('{"stream":%s,"values":[%s]}' % (json.dumps(st.labels, ensure_ascii=False), vals))
        exec_time = time.perf_counter() - t0
        stats = {"summary": {"execTime": exec_time, "queueTime": 0, "subqueries": 0, "totalEntriesReturned": total,
                             "totalLinesProcessed": total, "totalBytesProcessed": nbytes}}
        body = '{"status":"success","data":{"resultType":"streams","result":[%s],"stats":%s}}' % (
            ",".join(result), json.dumps(stats))
        self._send(200, body)

    def _series(self, params):
        matches = params.get("match[]") or params.get("match") or []
        if not matches:
            raise ApiError(400, "0 matchers provided, at least 1 match[] is required")
        queries = [Query(m) for m in matches]
        for qr in queries:
            if qr.filters:
                raise ParseError("only stream selectors are allowed in match[]")
        now = time.time_ns()
        end = parse_timestamp(params.get("end", [""])[0], now)
        start = parse_timestamp(params.get("start", [""])[0], end - 3600 * NS)
        self._json({"status": "success", "data": self.server.store.series(queries, start, end)})


class Server(standin_http.Server):
    request_queue_size = 64


def make_server(host="127.0.0.1", port=23100, max_query_length="721h", max_entries=5000, verbose=False,
                service_name_labels=DISCOVER_SERVICE_NAME):
    srv = Server((host, port), Handler)
    srv.store = Store(service_name_labels)
    srv.faults = Faults()
    srv.max_query_length = parse_duration(max_query_length) if isinstance(max_query_length, str) else max_query_length
    srv.max_entries = max_entries
    srv.verbose = verbose
    return srv


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=23100)
    ap.add_argument("--max-query-length", default="721h", help="0 disables the check (Loki default 721h)")
    ap.add_argument("--max-entries-limit", type=int, default=5000, help="max_entries_limit_per_query (default 5000)")
    ap.add_argument("--discover-service-name", default=",".join(DISCOVER_SERVICE_NAME),
                    help="comma-separated labels a service_name is taken from (Loki 3's default list); '' turns it off")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args(argv)
    labels = [n.strip() for n in args.discover_service_name.split(",") if n.strip()]
    srv = make_server(args.host, args.port, args.max_query_length, args.max_entries_limit, args.verbose, labels)
    sys.stderr.write("loki stand-in listening on http://%s:%d (max_query_length %s, max_entries_limit_per_query %d)\n"
                     % (args.host, srv.server_address[1], go_duration(srv.max_query_length), srv.max_entries))
    sys.stderr.flush()
    try:
        srv.serve_forever(poll_interval=0.5)
    except KeyboardInterrupt:
        pass
    finally:
        srv.server_close()


if __name__ == "__main__":
    main()
