"""Pure parts of the Loki API stand-in (testenv/loki/server.py): no sockets."""

import importlib.util
import pathlib

import pytest
from hypothesis import given, settings, strategies as st

REPO = pathlib.Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("loki_standin", REPO / "testenv/loki/server.py")
srv = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(srv)

H = 3600 * srv.NS


@pytest.mark.parametrize("ns,text", [(13 * H, "13h0m0s"), (13 * H + 10**6, "13h0m0.001s"), (90 * 10**9, "1m30s"),
                                     (5 * 10**8, "500ms"), (1500, "1.5µs"), (7, "7ns"), (0, "0s"),
                                     (721 * H, "721h0m0s")])
def test_go_duration(ns, text):
    assert srv.go_duration(ns) == text


def test_parse_timestamp_rules():
    assert srv.parse_timestamp("", 42) == 42
    assert srv.parse_timestamp("1700000000", 0) == 1700000000 * srv.NS  # <= 10 digits: seconds
    assert srv.parse_timestamp("1700000000000000001", 0) == 1700000000000000001
    assert srv.parse_timestamp("1700000000.5", 0) == 1700000000 * srv.NS + 500000000
    assert srv.parse_timestamp("2023-11-14T22:13:20.000000001Z", 0) == 1700000000 * srv.NS + 1
    with pytest.raises(srv.ApiError):
        srv.parse_timestamp("yesterday", 0)


@pytest.mark.parametrize("literal,value", [(r'"a\"b"', 'a"b'), (r'"c:\\d"', "c:\\d"), (r'"\x41\u00e9\101"', "Aé" + "A"),
                                           ('`raw \\d "q"`', 'raw \\d "q"'), (r'"t\tn\n"', "t\tn\n")])
def test_string_literals(literal, value):
    assert srv._Lexer(literal).string() == value


@pytest.mark.parametrize("literal", [r'"\q"', '"open', "`open", r'"\x4"'])
def test_bad_string_literals(literal):
    with pytest.raises(srv.ParseError):
        srv._Lexer(literal).string()


def test_query_matchers_and_filters():
    q = srv.Query(r'{a="x", b!="y", c=~"v[0-9]+", d!~"no.*"} |= "in" != "out" |~ "^s" !~ `e$`')
    assert q.selects({"a": "x", "b": "z", "c": "v12", "d": "yes"})
    assert not q.selects({"a": "x", "b": "z", "c": "v12x", "d": "yes"})  # regex matchers are anchored
    assert not q.selects({"a": "x", "b": "y", "c": "v1"})
    assert q.line_ok("start in the middle of it")
    assert not q.line_ok("start in out")
    assert not q.line_ok("xstart in")  # |~ "^s" is unanchored search, but ^ anchors
    assert not q.line_ok("start in line")  # !~ e$
    for bad in ('{a=~".*"}', "{}", '{a="x"} | json', '{a="x"', '{a "x"}', '{a=~"("}'):
        with pytest.raises(srv.ParseError):
            srv.Query(bad)


def test_store_dedup_and_order():
    store = srv.Store()
    store.push([({"s": "b"}, [(5, "x"), (5, "y"), (5, "x"), (3, "z")]), ({"s": "a"}, [(5, "x")])])
    assert store.entries == 4 and store.duplicates == 1
    q = srv.Query('{s=~"a|b"}')
    got = [(st.labels["s"], v) for st, vals in store.select(q, 0, 10, 100, "forward") for v in vals]
    assert got == [("a", (5, "x")), ("b", (3, "z")), ("b", (5, "x")), ("b", (5, "y"))]
    got = store.select(q, 0, 10, 2, "forward")
    assert sorted((st.labels["s"], v) for st, vals in got for v in vals) == [("a", (5, "x")), ("b", (3, "z"))]


def _flat(result, direction):
    rows = []
    for st, vals in result:
        for i, (ts, line) in enumerate(vals):
            rows.append((ts, st.key, i, line))
    rows.sort(key=lambda r: ((r[0] if direction == "forward" else -r[0]), r[1], r[2]))
    return [(r[0], r[1], r[3]) for r in rows]


@settings(max_examples=150, deadline=None)
@given(data=st.lists(st.tuples(st.integers(0, 3), st.integers(0, 12), st.integers(0, 4)), max_size=80),
       start=st.integers(0, 12), span=st.integers(1, 14), limit=st.integers(1, 30))
def test_fast_forward_path_equals_generic_merge(data, start, span, limit):
    store = srv.Store()
    store.push([({"s": str(s)}, [(ts, "l%d" % l)]) for s, ts, l in data])
    plain = srv.Query('{s=~".+"}')
    filtered = srv.Query('{s=~".+"} != "never"')  # a line filter forces the generic merge
    fast = store.select(plain, start, start + span, limit, "forward")
    slow = store.select(filtered, start, start + span, limit, "forward")
    assert _flat(fast, "forward") == _flat(slow, "forward")
    everything = _flat(store.select(filtered, 0, 100, 10**6, "forward"), "forward")
    want = [e for e in everything if start <= e[0] < start + span][:limit]
    assert _flat(fast, "forward") == want
