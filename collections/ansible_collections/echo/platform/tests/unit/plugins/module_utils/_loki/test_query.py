from __future__ import annotations

import datetime
import re

import pytest

from ansible_collections.echo.platform.plugins.module_utils._common.errors import ValidationError
from ansible_collections.echo.platform.plugins.module_utils._loki import query as q

H = 3600 * q.NS_PER_SECOND


def go_unquote(lit):
    """Reference decoder of Go double-quoted literals (the subset logql_string emits)."""
    assert lit[0] == '"' and lit[-1] == '"'
    body, out, i = lit[1:-1], [], 0
    while i < len(body):
        ch = body[i]
        assert ch != '"', "unescaped quote inside literal"
        if ch == "\\":
            nxt = body[i + 1]
            if nxt == "x":
                out.append(chr(int(body[i + 2:i + 4], 16)))
                i += 4
                continue
            out.append({"n": "\n", "r": "\r", "t": "\t", "\\": "\\", '"': '"'}[nxt])
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


@pytest.mark.parametrize("value", ['plain', 'say "hi"', 'C:\\path\\to', 'end\\', '\\"', 'tab\there\nnew', '\x01\x7f',
                                   '`backtick`', 'ünïcode ✓', '{}|=!~'])
def test_logql_string_round_trips(value):
    lit = q.logql_string(value)
    assert "\n" not in lit
    assert go_unquote(lit) == value


@pytest.mark.parametrize("value", ["a.b", "a+b*c?", "(x|y)", "[0-9]{2}", "^start$", "back\\slash"])
def test_regex_escape_matches_literally(value):
    rx = re.compile(q.regex_escape(value))
    assert rx.fullmatch(value)
    assert not rx.fullmatch(value + "x")


def test_build_selector_components():
    assert q.build_selector("echo-dev", components=["api"]) == '{namespace="echo-dev", app="echo", component="api"}'
    sel = q.build_selector("echo-dev", components=["api", "worker-cpu"], container="api-server")
    assert sel == '{namespace="echo-dev", app="echo", component=~"api|worker-cpu", container="api-server"}'
    assert q.build_selector("echo-dev", app="") == '{namespace="echo-dev"}'
    assert q.build_selector(pod="echo-dev/echo-api-1") == '{app="echo", pod="echo-dev/echo-api-1"}'
    assert q.build_selector(pod="echo-api-1.x") == '{app="echo", pod=~".*/echo-api-1\\\\.x"}'


@pytest.mark.parametrize("bad", ['api"}', "api,worker", "API server", "", "-api", 'x\\'])
def test_build_selector_rejects_bad_component(bad):
    with pytest.raises(ValidationError, match="Invalid component"):
        q.build_selector("echo-dev", components=[bad])


def test_build_selector_empty_is_an_error():
    with pytest.raises(ValidationError, match="selector is empty"):
        q.build_selector(app="")


def test_line_filters_escape_and_validate():
    f = q.build_line_filters(['say "hi"'], ["a\\b"], ["status=5\\d\\d"], None)
    assert f == '|= "say \\"hi\\"" != "a\\\\b" |~ "status=5\\\\d\\\\d"'
    with pytest.raises(ValidationError, match="Invalid line regex"):
        q.build_line_filters(regex=["(unclosed"])


def test_split_query_respects_quotes():
    assert q.split_query('{a="}", b=`}`} |= "x}"') == ('{a="}", b=`}`}', '|= "x}"')
    assert q.split_query('{a="\\"}"}') == ('{a="\\"}"}', "")
    with pytest.raises(ValidationError):
        q.split_query('{a="x"')
    with pytest.raises(ValidationError):
        q.split_query('a="x"')


@pytest.mark.parametrize("text,ns", [("13h", 13 * H), ("1h30m", 90 * 60 * 10**9), ("500ms", 5 * 10**8),
                                     ("721h", 721 * H), ("2d", 48 * H)])
def test_parse_duration(text, ns):
    assert q.parse_duration(text) == ns


@pytest.mark.parametrize("bad", ["", "13", "h", "13x", "1h 2m"])
def test_parse_duration_bad(bad):
    with pytest.raises(ValidationError):
        q.parse_duration(bad)


@pytest.mark.parametrize("text,ns", [("last 6 hours", 6 * H), ("2 days", 48 * H), ("90m", 90 * 60 * 10**9),
                                     ("last 1 hour", H), ("3d", 72 * H), ("LAST 2 Hours", 2 * H)])
def test_parse_last(text, ns):
    assert q.parse_last(text) == ns


def test_parse_time_formats():
    base = int(datetime.datetime(2026, 5, 1, 12, 0, tzinfo=datetime.timezone.utc).timestamp()) * 10**9
    assert q.parse_time("2026-05-01T12:00:00Z") == base
    assert q.parse_time("2026-05-01 12:00") == base
    assert q.parse_time("2026-05-01T12:00:00") == base  # no zone: UTC
    assert q.parse_time("2026-05-01T14:00:00+02:00") == base
    assert q.parse_time("2026-05-01T12:00:00.000000001Z") == base + 1
    assert q.parse_time("2026-05-01T12:00:00.5Z") == base + 500000000
    assert q.parse_time("2026-05-01") == base - 12 * H
    assert q.parse_time(str(base)) == base
    assert q.format_ns(base + 1) == "2026-05-01T12:00:00.000000001Z"
    with pytest.raises(ValidationError, match="Invalid time"):
        q.parse_time("yesterday")


def test_resolve_range():
    now = 100 * H
    assert q.resolve_range(now, since="last 2 hours") == (98 * H, now)
    with pytest.raises(ValidationError, match="not after its start"):
        q.resolve_range(now, start="2026-05-02", end="2026-05-01")
    with pytest.raises(ValidationError, match="either since"):
        q.resolve_range(now, since="1h", start="2026-05-01")
    with pytest.raises(ValidationError, match="Set since"):
        q.resolve_range(now)


def test_split_windows():
    assert q.split_windows(0, 30 * H, 13 * H) == [(0, 13 * H), (13 * H, 26 * H), (26 * H, 30 * H)]
    assert q.split_windows(0, 26 * H, 13 * H) == [(0, 13 * H), (13 * H, 26 * H)]
    assert q.split_windows(5, 6, 13 * H) == [(5, 6)]
    assert q.split_windows(0, 10, 0) == [(0, 10)]
    for s, e in q.split_windows(7, 100 * H + 3, 13 * H):
        assert 0 < e - s <= 13 * H


def test_flatten_orders_by_time_then_labels_then_insertion():
    data = {"resultType": "streams", "result": [
        {"stream": {"c": "2"}, "values": [["5", "b1"], ["5", "b2"], ["7", "b3"]]},
        {"stream": {"c": "1"}, "values": [["5", "a1"], ["9", "a2"]]},
    ]}
    lines = [e[2] for e in q.flatten_streams(data)]
    assert lines == ["a1", "b1", "b2", "b3", "a2"]
    with pytest.raises(ValueError):
        q.flatten_streams({"resultType": "matrix", "result": []})


class FakeLoki:
    """In-memory model of Loki's forward query_range ordering for pagination tests."""

    def __init__(self, entries):
        # entries: (ts, labels_key, line); stored in Loki order
        self.entries = sorted(entries, key=lambda e: (e[0], e[1]))

    def page(self, start, end, limit):
        out = [e for e in self.entries if start <= e[0] < end][:limit]
        return [(ts, key, line, {}) for ts, key, line in out]

    def at(self, ts):
        return self.page(ts, ts + 1, 10**9)


def run_merger(loki, start, end, limit):
    m = q.PageMerger(start, end, limit)
    out = []
    while True:
        req = m.next_request()
        if req is not None:
            out.extend(m.accept(loki.page(req["start"], req["end"], req["limit"])))
        elif m.stuck_at is not None:
            out.extend(m.resolve_tie(loki.at(m.stuck_at)))
        else:
            return out, m


@pytest.mark.parametrize("limit", [1, 2, 3, 7, 10, 100])
def test_pagination_exact_with_collisions(limit):
    entries = []
    for i in range(40):
        entries.append((i // 3, "{s=\"a\"}", "line %d" % i))
    for i in range(25):  # a crowd at one timestamp, across two streams, same lines in both
        entries.append((20, "{s=\"a\"}", "crowd %d" % i))
        entries.append((20, "{s=\"b\"}", "crowd %d" % i))
    entries.append((21, "{s=\"b\"}", "after"))
    loki = FakeLoki(entries)
    out, _m = run_merger(loki, 0, 100, limit)
    assert [(e[0], e[1], e[2]) for e in out] == loki.entries


def test_pagination_respects_window_end_and_start():
    loki = FakeLoki([(t, "{s=\"a\"}", str(t)) for t in range(0, 20)])
    out = run_merger(loki, 5, 10, 3)[0]
    assert [e[0] for e in out] == [5, 6, 7, 8, 9]


def test_last_ts_plus_one_would_lose_entries():
    """The original CLI's bug: restarting at last_ts + 1ns drops the rest of a crowded timestamp."""
    loki = FakeLoki([(1, "{s=\"a\"}", "x%d" % i) for i in range(5)] + [(2, "{s=\"a\"}", "y")])
    page = loki.page(0, 10, 3)
    naive = page + loki.page(page[-1][0] + 1, 10, 3)
    assert len(naive) == 4
    out = run_merger(loki, 0, 10, 3)[0]
    assert len(out) == 6


def test_guess_level_and_csv_row():
    assert q.guess_level("2026 ERROR boom") == "error"
    assert q.guess_level('{"level":"WARNING","msg":"x"}') == "warning"
    assert q.guess_level("all fine", {"level": "Info"}) == "info"
    assert q.guess_level("transcript_error count=0") == ""
    row = q.csv_row((1, "k", "hello", {"component": "api", "pod": "echo-dev/echo-api-1", "container": "api-server"}))
    assert row == ["1970-01-01T00:00:00.000000001Z", "api", "echo-api-1", "api-server", "", "hello"]


@pytest.mark.parametrize("pattern", [r"\pL+", r"status=5\d\d(?i)error", r"\Qa.b*c\E", r"(?i)warn|err", r"[[:alpha:]]"])
def test_line_regex_accepts_what_loki_accepts(pattern):
    assert q.build_line_filters(regex=[pattern]) == "|~ %s" % q.logql_string(pattern)


@pytest.mark.parametrize("pattern", [r"foo(?=bar)", r"(?<!x)y", r"(a)\1", r"(?P<n>a)(?P=n)", r"a{2,1}"])
def test_line_regex_refuses_what_loki_refuses(pattern):
    with pytest.raises(ValidationError, match="not an RE2 regular expression"):
        q.build_line_filters(not_regex=[pattern])


class HashOrderLoki(FakeLoki):
    """Equal timestamps in an order that is not the label order (as Loki 3's stream hash order is not)."""

    def __init__(self, entries, rank):
        super().__init__(entries)
        self.entries = sorted(entries, key=lambda e: (e[0], rank[e[1]]))


@pytest.mark.parametrize("limit", [1, 2, 3, 5, 7, 30])
def test_pagination_output_order_does_not_depend_on_the_server_tie_order(limit):
    streams = ['{s="a"}', '{s="b"}', '{s="c"}']
    entries = [(t, streams[t % 3], "x%d" % t) for t in range(10)]
    for i in range(8):  # a crowd across every stream, same lines
        for key in streams:
            entries.append((20, key, "crowd %d" % i))
    entries.append((21, streams[0], "after"))
    labels_order = sorted(entries, key=lambda e: (e[0], e[1]))  # stable: per-stream push order kept
    for rank in ({'{s="a"}': 2, '{s="b"}': 0, '{s="c"}': 1}, {'{s="a"}': 1, '{s="b"}': 2, '{s="c"}': 0}):
        loki = HashOrderLoki(entries, rank)
        out, _m = run_merger(loki, 0, 100, limit)
        assert [(e[0], e[1], e[2]) for e in out] == labels_order
