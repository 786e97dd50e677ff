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


def prometheus_hash(labels):
    """Prometheus labels.Hash() written out independently of the stand-in: xxhash64 over
    name, 0xff, value, 0xff for each label in name order."""
    import xxhash  # pylint: disable=import-outside-toplevel

    h = xxhash.xxh64()
    for name in sorted(labels):
        h.update(name.encode() + b"\xff" + labels[name].encode() + b"\xff")
    return h.intdigest()


def test_stream_hash_is_prometheus_labels_hash():
    for labels in ({"a": "1"}, {"namespace": "echo-prod", "app": "echo", "component": "api"}, {"é": "ü", "b": ""}):
        assert srv.stream_hash(labels) == prometheus_hash(labels)
    assert srv.stream_hash({"a": "b", "c": "d"}) != srv.stream_hash({"a": "bc", "": "d"})


def test_store_dedup_and_order():
    store = srv.Store(service_name_labels=())
    store.push([({"s": "b"}, [(5, "x"), (5, "y"), (5, "x"), (3, "z")]), ({"s": "a"}, [(5, "x")])])
    assert store.entries == 4 and store.duplicates == 1
    q = srv.Query('{s=~"a|b"}')
    first, second = sorted("ab", key=lambda v: prometheus_hash({"s": v}))
    got = [(st.labels["s"], v) for st, vals in store.select(q, 0, 10, 100, "forward") for v in vals]
    assert sorted(got, key=lambda e: e[1][0]) == [("b", (3, "z"))] + sorted(
        [("a", (5, "x")), ("b", (5, "x")), ("b", (5, "y"))], key=lambda e: (e[0] != first))
    got = store.select(q, 0, 10, 2, "forward")
    # the limit cuts the timestamp 5 crowd: the stream with the lower hash comes first (Loki 3)
    assert sorted((st.labels["s"], v) for st, vals in got for v in vals) == sorted([("b", (3, "z")), (first, (5, "x"))])
    got = store.select(q, 0, 10, 1, "backward")
    assert [(st.labels["s"], v) for st, vals in got for v in vals] == [(first, (5, "x") if first == "a" else (5, "y"))]
    assert second != first


def test_tie_order_follows_the_hash_not_the_label_string():
    labels = [{"c": "%02d" % i} for i in range(20)]
    store = srv.Store(service_name_labels=())
    store.push([(lab, [(7, "same")]) for lab in labels])
    got = [st.labels for st, _vals in store.select(srv.Query('{c=~".+"}'), 0, 10, 20, "forward")]
    assert got == sorted(labels, key=prometheus_hash)
    assert got != sorted(labels, key=srv.labels_string)  # 20 streams: the two orders differ
    cut = store.select(srv.Query('{c=~".+"}'), 0, 10, 5, "forward")
    assert [st.labels for st, _ in cut] == sorted(labels, key=prometheus_hash)[:5]


@pytest.mark.parametrize("labels,service", [
    ({"app": "echo", "component": "api"}, "echo"),
    ({"component": "api", "container": "api-server"}, "api-server"),
    ({"namespace": "x"}, "unknown_service"),
    ({"app": "", "job": "promtail"}, "promtail"),
    ({"service_name": "mine", "app": "echo"}, "mine"),
])
def test_service_name_discovered_as_loki3_does(labels, service):
    store = srv.Store()
    store.push([(labels, [(1, "x")])])
    (stream,) = store.streams.values()
    assert stream.labels == dict(labels, service_name=service)
    off = srv.Store(service_name_labels=())
    off.push([(labels, [(1, "x")])])
    assert list(off.streams.values())[0].labels == labels


def test_selectors_loki_accepts_and_refuses():
    q = srv.Query('{app!=""}')  # cannot match an empty value: enough for Loki
    assert q.selects({"app": "echo"}) and not q.selects({"other": "x"})
    assert srv.Query('{app!~""}').selects({"app": "x"})
    for bad in ('{app!="x"}', '{app=""}', '{app=~"a*"}', '{app!~".+"}', '{app!~".*x"}'):
        with pytest.raises(srv.ParseError, match="empty-compatible"):
            srv.Query(bad)


def test_regex_semantics_are_re2():
    assert srv.Query(r'{a=~"\\pL+"}').selects({"a": "élan"})
    assert not srv.Query(r'{a=~"\\pL+"}').selects({"a": "a1"})
    assert srv.Query(r'{a=~"x(?i)abc"}').selects({"a": "xABC"})
    assert srv.Query(r'{a=~"\\Q1.5\\E"}').selects({"a": "1.5"})
    assert not srv.Query(r'{a=~"\\Q1.5\\E"}').selects({"a": "105"})
    assert srv.Query('{a=~"x.y"}').selects({"a": "x\ny"})  # label matchers: (?s), as Prometheus
    assert not srv.Query('{a="v"} |~ "x.y"').line_ok("x\ny")  # line filters: . stops at newline
    for bad in (r'{a=~"x(?=y)"}', r'{a=~"(x)\\1"}', r'{a="v"} |~ "(?<!a)b"'):
        with pytest.raises(srv.ParseError, match="error parsing regexp"):
            srv.Query(bad)


def _flat(result, direction):
    rows = []
    for st, vals in result:
        for i, (ts, line) in enumerate(vals):
            rows.append((ts, st.order, i, line))
    rows.sort(key=lambda r: ((r[0] if direction == "forward" else -r[0]), r[1], r[2]))
    return [(r[0], r[1][1], r[3]) for r in rows]


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
