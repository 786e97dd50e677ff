# -*- coding: utf-8 -*-
# Copyright: echo.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure logic of the Loki log export: LogQL building, time parsing, windows, page merging.

Private to the echo.platform collection. No network, no AnsibleModule; the clock is passed in.

Loki facts this relies on (see DESIGN.md): ``query_range`` takes ``start`` inclusive and ``end``
exclusive, ``limit`` counts entries across all streams, entries are ordered by timestamp (equal
timestamps: Loki 3 goes by stream hash, which it does not promise, so nothing here depends on it);
Loki drops an entry whose stream, timestamp and line equal an existing entry's. So (timestamp,
stream labels, line) identifies an entry, and restarting a page at the last timestamp and dropping
the keys already seen at that timestamp neither loses nor repeats an entry. Regular expressions are
checked with RE2 (the ``google-re2`` binding), the engine family Loki's Go regexp belongs to.
"""

from __future__ import annotations

import datetime
import re

from ansible_collections.echo.platform.plugins.module_utils._common.errors import ValidationError

try:
    import re2  # google-re2: RE2 itself, as Loki's Go regexp (Python's re accepts and refuses other things)
    HAS_RE2 = True
except ImportError:  # pragma: no cover - requirements.txt installs it
    re2 = None
    HAS_RE2 = False

NS_PER_SECOND = 1000000000
_UNIT_NS = {
    "ns": 1,
    "us": 1000,
    "\u00b5s": 1000,
    "ms": 1000000,
    "s": NS_PER_SECOND,
    "m": 60 * NS_PER_SECOND,
    "h": 3600 * NS_PER_SECOND,
    "d": 86400 * NS_PER_SECOND,
    "w": 7 * 86400 * NS_PER_SECOND,
}
# Kubernetes label values / DNS-1123 names: what a namespace, component, pod or container can be.
_NAME_RE = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,251}[A-Za-z0-9])?$")
_LABEL_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


# ---------------------------------------------------------------------------------------------
# LogQL
# ---------------------------------------------------------------------------------------------

def logql_string(value):
    """Quote ``value`` as a LogQL double-quoted string literal (Go escape rules).

    Backslash and double quote are escaped; control characters use Go escapes, so the server's
    strconv.Unquote gives back exactly ``value``.
    """
    out = ['"']
    for ch in value:
        code = ord(ch)
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
        elif code < 0x20 or code == 0x7F:
            out.append("\\x%02x" % code)
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def regex_escape(value):
    """Escape RE2 metacharacters so ``value`` matches literally inside a regular expression."""
    return "".join("\\" + ch if ch in "\\.+*?()|[]{}^$" else ch for ch in value)


def _check_name(kind, value):
    if not isinstance(value, str) or not _NAME_RE.match(value):
        raise ValidationError(
            "Invalid %s %r: use letters, digits, '-', '_' or '.', starting and ending with a letter or digit "
            "(for example 'api' or 'worker-cpu')" % (kind, value)
        )
    return value


def build_selector(namespace=None, app="echo", components=None, container=None, pod=None, extra_labels=None):
    """The stream selector for the usual filters; every value is validated and quoted.

    ``components``: one name -> ``component="x"``; several -> ``component=~"x|y"`` (each escaped).
    ``pod`` may be ``name`` or ``namespace/name`` (promtail's ``pod`` label is ``<namespace>/<pod>``).
    """
    matchers = []
    if namespace:
        matchers.append("namespace=%s" % logql_string(_check_name("namespace", namespace)))
    if app:
        matchers.append("app=%s" % logql_string(_check_name("app", app)))
    comps = [c for c in (components or []) if c is not None]
    for comp in comps:
        _check_name("component", comp)
    if len(comps) == 1:
        matchers.append("component=%s" % logql_string(comps[0]))
    elif comps:
        matchers.append("component=~%s" % logql_string("|".join(regex_escape(c) for c in comps)))
    if container:
        matchers.append("container=%s" % logql_string(_check_name("container", container)))
    if pod:
        if "/" in pod:
            pod_ns, pod_name = pod.split("/", 1)
            _check_name("pod namespace", pod_ns)
            _check_name("pod", pod_name)
            matchers.append("pod=%s" % logql_string(pod))
        else:
            _check_name("pod", pod)
            matchers.append("pod=~%s" % logql_string(".*/" + regex_escape(pod)))
    for name, value in sorted((extra_labels or {}).items()):
        if not _LABEL_NAME_RE.match(name):
            raise ValidationError("Invalid label name %r in extra_labels: use [A-Za-z_][A-Za-z0-9_]*" % name)
        matchers.append("%s=%s" % (name, logql_string(str(value))))
    if not matchers:
        raise ValidationError(
            "The stream selector is empty: set namespace, app, components, container or pod, or pass a raw query"
        )
    return "{" + ", ".join(matchers) + "}"


def build_line_filters(contains=None, not_contains=None, regex=None, not_regex=None):
    """LogQL line filters (all must hold): ``|= "x"``, ``!= "x"``, ``|~ "re"``, ``!~ "re"``."""
    parts = []
    for op, values in (("|=", contains), ("!=", not_contains), ("|~", regex), ("!~", not_regex)):
        if values is None:
            continue
        if isinstance(values, str):
            values = [values]
        for value in values:
            if op in ("|~", "!~"):
                check_regex(value, "line regex")
            parts.append("%s %s" % (op, logql_string(value)))
    return " ".join(parts)


def check_regex(value, what="regex"):
    """Refuse what Loki refuses: ``value`` must compile as RE2 (no lookaround, no back-references;
    ``\\pL``, ``(?i)`` mid-pattern and ``\\Q..\\E`` are fine)."""
    if not HAS_RE2:
        raise ValidationError("Checking the %s %r needs the google-re2 Python package on the control node "
                              "(pip install google-re2; requirements.txt pins it)" % (what, value))
    options = re2.Options()
    options.log_errors = False  # RE2 would print the parse error on stderr too
    try:
        re2.compile(value, options)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise ValidationError("Invalid %s %r: not an RE2 regular expression, which Loki uses (%s)" % (what, value, reason))
    return value


def build_query(selector, line_filters=""):
    return selector if not line_filters else "%s %s" % (selector, line_filters)


# ---------------------------------------------------------------------------------------------
# Time
# ---------------------------------------------------------------------------------------------

def parse_duration(text):
    """Go/Prometheus-style duration ('13h', '1h30m', '721h', '500ms', '2d') -> nanoseconds."""
    if isinstance(text, int):
        return text
    s = str(text).strip()
    if not s:
        raise ValidationError("Empty duration")
    pos = 0
    total = 0
    for m in re.finditer(r"(\d+(?:\.\d+)?)(ns|us|\u00b5s|ms|s|m|h|d|w)", s):
        if m.start() != pos:
            break
        total += int(round(float(m.group(1)) * _UNIT_NS[m.group(2)]))
        pos = m.end()
    if pos != len(s) or pos == 0:
        raise ValidationError("Invalid duration %r: use for example '13h', '30m' or '1h30m'" % text)
    return total


_LAST_RE = re.compile(
    r"^\s*(?:last\s+)?(\d+(?:\.\d+)?)\s*(m|min|mins|minutes?|h|hrs?|hours?|d|days?|w|weeks?)\s*$", re.IGNORECASE
)


def parse_last(text):
    """'last 6 hours', '2 days', '90m', '3d' -> nanoseconds."""
    m = _LAST_RE.match(str(text))
    if not m:
        raise ValidationError("Invalid relative range %r: use for example 'last 6 hours', '2 days' or '90m'" % text)
    unit = m.group(2).lower()[0]
    return int(round(float(m.group(1)) * _UNIT_NS[unit]))


_DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d")
_FRACTION_RE = re.compile(r"^(.*?:\d\d)\.(\d{1,9})(.*)$")


def parse_time(text, default_tz=datetime.timezone.utc):
    """RFC 3339 (any fraction up to ns), 'YYYY-MM-DD[ HH:MM[:SS]]' or integer ns -> ns since epoch.

    A value without a timezone is taken in ``default_tz`` (UTC).
    """
    if isinstance(text, int):
        return text
    s = str(text).strip()
    if re.match(r"^\d{16,20}$", s):
        return int(s)
    frac_ns = 0
    m = _FRACTION_RE.match(s)
    if m:
        s = m.group(1) + m.group(3)
        frac_ns = int(m.group(2).ljust(9, "0"))
    iso = s.replace("T", " ", 1)
    if iso.endswith(("Z", "z")):
        iso = iso[:-1] + "+00:00"
    parsed = None
    try:
        parsed = datetime.datetime.fromisoformat(iso)
    except ValueError:
        for fmt in _DATE_FORMATS:
            try:
                parsed = datetime.datetime.strptime(iso, fmt)
                break
            except ValueError:
                continue
    if parsed is None:
        raise ValidationError(
            "Invalid time %r: use RFC 3339 (2026-05-01T12:00:00Z, 2026-05-01T14:00:00+02:00) "
            "or 'YYYY-MM-DD HH:MM[:SS]' (UTC unless a timezone is given)" % text
        )
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=default_tz)
    epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
    delta = parsed - epoch
    return (delta.days * 86400 + delta.seconds) * NS_PER_SECOND + delta.microseconds * 1000 + frac_ns


def resolve_range(now_ns, since=None, start=None, end=None):
    """(start_ns, end_ns) from 'since' (relative) or start/end; end defaults to now. end exclusive."""
    if since and start:
        raise ValidationError("Set either since (a relative range) or start/end, not both")
    end_ns = parse_time(end) if end else now_ns
    if since:
        start_ns = end_ns - parse_last(since)
    elif start:
        start_ns = parse_time(start)
    else:
        raise ValidationError("Set since (for example 'last 6 hours') or start (RFC 3339 or 'YYYY-MM-DD HH:MM')")
    if end_ns <= start_ns:
        raise ValidationError(
            "The end of the time range (%s) is not after its start (%s): swap start and end or fix the dates"
            % (format_ns(end_ns), format_ns(start_ns))
        )
    return start_ns, end_ns


_DAY_CACHE = {}


def format_ns(ns):
    """RFC 3339 with nanoseconds, UTC (the date part is cached per day: this runs once per entry)."""
    secs, frac = divmod(ns, NS_PER_SECOND)
    day, sod = divmod(secs, 86400)
    prefix = _DAY_CACHE.get(day)
    if prefix is None:
        prefix = (datetime.datetime(1970, 1, 1) + datetime.timedelta(days=day)).strftime("%Y-%m-%dT")
        if len(_DAY_CACHE) < 4096:
            _DAY_CACHE[day] = prefix
    hh, rem = divmod(sod, 3600)
    mm, ss = divmod(rem, 60)
    return "%s%02d:%02d:%02d.%09dZ" % (prefix, hh, mm, ss, frac)


def split_windows(start_ns, end_ns, max_len_ns):
    """Split [start, end) into consecutive windows no longer than ``max_len_ns`` (the last may be shorter)."""
    if max_len_ns is None or max_len_ns <= 0:
        return [(start_ns, end_ns)]
    windows = []
    cur = start_ns
    while cur < end_ns:
        nxt = min(end_ns, cur + max_len_ns)
        windows.append((cur, nxt))
        cur = nxt
    return windows


# ---------------------------------------------------------------------------------------------
# Responses and pagination
# ---------------------------------------------------------------------------------------------

def labels_key(labels):
    """Canonical label string, the way Loki prints and orders streams: {a="x", b="y"} sorted by name."""
    return "{" + ", ".join("%s=%s" % (k, logql_string(str(labels[k]))) for k in sorted(labels)) + "}"


def flatten_streams(data, direction="forward"):
    """query_range ``data`` -> entries [(ts_ns, labels_key, line, labels)] in Loki's global order."""
    if not isinstance(data, dict) or data.get("resultType") != "streams":
        raise ValueError("expected resultType 'streams', got %r" % (data.get("resultType") if isinstance(data, dict) else data))
    entries = []
    for stream in data.get("result") or []:
        labels = stream.get("stream") or {}
        key = labels_key(labels)
        for idx, value in enumerate(stream.get("values") or []):
            entries.append((int(value[0]), key, idx, value[1], labels))
    if direction == "forward":
        entries.sort(key=lambda e: (e[0], e[1], e[2]))
    else:
        entries.sort(key=lambda e: (-e[0], e[1], e[2]))
    return [(e[0], e[1], e[3], e[4]) for e in entries]


class PageMerger:
    """Forward pagination inside one window [start, end), exact under timestamp collisions.

    Use: ``params = m.next_request()`` (None when done), fetch it, ``new = m.accept(entries)``.
    After each page the next request restarts at the last timestamp seen; entries at that
    timestamp already seen are dropped by (timestamp, labels, line). A full page that brings
    nothing new (more entries share one timestamp than one page holds) sets ``stuck_at``: the
    caller must resolve that timestamp with ``resolve_tie`` (for example one query per stream).

    Which streams' entries a page cut at a crowded timestamp holds is Loki's business (Loki 3
    orders equal timestamps by stream hash, and promises no order at all), so the entries at the
    last timestamp of a full page are held back until that timestamp is complete, and every
    timestamp is emitted in this module's own order: stream label string, then stream order.
    """

    def __init__(self, start_ns, end_ns, limit):
        if limit < 1:
            raise ValidationError("limit must be at least 1")
        self.cursor = start_ns
        self.end = end_ns
        self.limit = limit
        self.seen_at_cursor = set()
        self.held = []  # entries at ``cursor`` not emitted yet (the timestamp may go on)
        self.done = start_ns >= end_ns
        self.stuck_at = None
        self.pages = 0

    def next_request(self):
        if self.done or self.stuck_at is not None:
            return None
        return {"start": self.cursor, "end": self.end, "limit": self.limit, "direction": "forward"}

    def _flush(self, out):
        out.extend(sorted(self.held, key=lambda e: e[1]))  # stable: a stream keeps its own order
        self.held = []

    def accept(self, entries):
        """Feed one page (flattened, forward order); returns the entries ready to emit, in order."""
        self.pages += 1
        out = []
        new = 0
        for entry in entries:
            ts = entry[0]
            if ts < self.cursor or ts >= self.end:
                continue  # never expected from Loki; guards the invariants
            key = (ts, entry[1], entry[2])
            if ts == self.cursor:
                if key in self.seen_at_cursor:
                    continue
            else:
                self._flush(out)
                self.cursor = ts
                self.seen_at_cursor = set()
            self.seen_at_cursor.add(key)
            self.held.append(entry)
            new += 1
        if len(entries) < self.limit:
            self.done = True
            self._flush(out)
        elif not new:
            self.stuck_at = self.cursor
        return out

    def resolve_tie(self, entries_at_ts):
        """Every entry at ``stuck_at``; returns what is ready to emit (that whole timestamp), moves past it."""
        ts0 = self.stuck_at
        out = []
        for entry in entries_at_ts:
            if entry[0] != ts0:
                continue
            key = (entry[0], entry[1], entry[2])
            if key in self.seen_at_cursor:
                continue
            self.seen_at_cursor.add(key)
            self.held.append(entry)
        self._flush(out)
        self.stuck_at = None
        self.cursor = ts0 + 1
        self.seen_at_cursor = set()
        if self.cursor >= self.end:
            self.done = True
        return out


# ---------------------------------------------------------------------------------------------
# Output rows
# ---------------------------------------------------------------------------------------------

_LEVEL_RES = (
    ("error", re.compile(r"\b(error|err|fatal|critical|exception|traceback)\b", re.IGNORECASE)),
    ("warning", re.compile(r"\b(warn|warning)\b", re.IGNORECASE)),
    ("debug", re.compile(r"\b(debug|trace)\b", re.IGNORECASE)),
    ("info", re.compile(r"\binfo\b", re.IGNORECASE)),
)
_LEVEL_FIELD_RE = re.compile(r"""(?:"level"\s*:\s*"|\blevel=)(\w+)""", re.IGNORECASE)


def guess_level(line, labels=None):
    """The entry's level: a ``level`` label, a level=/"level": field, else a keyword heuristic."""
    if labels and labels.get("level"):
        return str(labels["level"]).lower()
    m = _LEVEL_FIELD_RE.search(line)
    if m:
        return m.group(1).lower()
    for level, rx in _LEVEL_RES:
        if rx.search(line):
            return level
    return ""


def csv_row(entry):
    """(timestamp RFC 3339, component, pod, container, level, message) for one entry."""
    ts, _key, line, labels = entry
    pod = labels.get("pod") or labels.get("instance") or ""
    if "/" in pod:
        pod = pod.split("/", 1)[1]
    return [format_ns(ts), labels.get("component", ""), pod, labels.get("container", ""), guess_level(line, labels), line]


CSV_HEADER = ["timestamp", "component", "pod", "container", "level", "message"]


def split_query(query):
    """Split a LogQL log query into (stream selector, rest of the pipeline); quotes are respected."""
    s = query.strip()
    if not s.startswith("{"):
        raise ValidationError("Invalid LogQL query %r: it must start with a stream selector {...}" % query)
    i = 1
    quote = None
    while i < len(s):
        ch = s[i]
        if quote == '"':
            if ch == "\\":
                i += 2
                continue
            if ch == '"':
                quote = None
        elif quote == "`":
            if ch == "`":
                quote = None
        elif ch in ('"', "`"):
            quote = ch
        elif ch == "}":
            return s[:i + 1], s[i + 1:].strip()
        i += 1
    raise ValidationError("Invalid LogQL query %r: the stream selector is not closed with '}'" % query)
