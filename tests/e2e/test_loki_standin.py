"""The Loki API stand-in (testenv/loki/server.py) keeps the Loki semantics our export relies on.

Needs `testenv/bin/testenv up` (component 60-loki). Every test pushes into its own namespace.
"""

import gzip
import json
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest
import xxhash

from _testenv import STATE, read_env

T0 = 1767571200 * 10**9


@pytest.fixture(scope="module")
def url():
    env = read_env()
    if "LOKI_URL" not in env:
        pytest.fail("the rehearsal environment's Loki is not up (no LOKI_URL in %s/env.d); run "
                    "`testenv/bin/testenv up`" % STATE)
    return env["LOKI_URL"]


@pytest.fixture
def ns():
    return "standin-" + uuid.uuid4().hex[:10]


def push(url, streams, gz=False):
    body = json.dumps({"streams": streams}).encode()
    headers = {"Content-Type": "application/json"}
    if gz:
        body = gzip.compress(body)
        headers["Content-Encoding"] = "gzip"
    req = urllib.request.Request(url + "/loki/api/v1/push", data=body, headers=headers, method="POST")
    with urllib.request.urlopen(req, timeout=30) as resp:
        assert resp.status == 204


def get(url, path, **params):
    full = url + path + "?" + urllib.parse.urlencode(params)
    try:
        with urllib.request.urlopen(full, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def entries(doc):
    out = []
    for s in doc["data"]["result"]:
        for ts, line in s["values"]:
            out.append((int(ts), s["stream"]["c"], line))
    return out


def stream_hash(labels):
    """Loki 3's tie order between streams: Prometheus labels.Hash() (xxhash64 of name 0xff value 0xff...)."""
    h = xxhash.xxh64()
    for name in sorted(labels):
        h.update(name.encode() + b"\xff" + labels[name].encode() + b"\xff")
    return h.intdigest()


def qr(url, query, start, end, **kw):
    return get(url, "/loki/api/v1/query_range", query=query, start=str(start), end=str(end), **kw)


def test_ready_labels_series(url, ns):
    assert urllib.request.urlopen(url + "/ready", timeout=5).read().strip() == b"ready"
    push(url, [{"stream": {"namespace": ns, "c": "a"}, "values": [[str(T0), "x"]]}], gz=True)
    status, doc = get(url, "/loki/api/v1/labels")
    assert status == 200 and {"namespace", "c"} <= set(doc["data"])
    status, doc = get(url, "/loki/api/v1/series", **{"match[]": '{namespace="%s"}' % ns, "start": T0, "end": T0 + 1})
    # Loki 3 adds service_name (no app/container/... label here, so "unknown_service")
    assert doc["data"] == [{"namespace": ns, "c": "a", "service_name": "unknown_service"}]
    push(url, [{"stream": {"namespace": ns, "app": "echo", "c": "b"}, "values": [[str(T0), "x"]]}])
    status, doc = get(url, "/loki/api/v1/series", **{"match[]": '{namespace="%s", app!=""}' % ns, "start": T0,
                                                     "end": T0 + 1})
    assert status == 200 and doc["data"] == [{"namespace": ns, "app": "echo", "c": "b", "service_name": "echo"}]


def test_start_inclusive_end_exclusive_limit_across_streams_and_default_backward(url, ns):
    push(url, [{"stream": {"namespace": ns, "c": "b"}, "values": [[str(T0 + i), "b%d" % i] for i in range(5)]},
               {"stream": {"namespace": ns, "c": "a"}, "values": [[str(T0 + i), "a%d" % i] for i in range(5)]}])
    sel = '{namespace="%s"}' % ns
    _, doc = qr(url, sel, T0 + 1, T0 + 3, direction="forward")
    assert sorted(entries(doc)) == [(T0 + 1, "a", "a1"), (T0 + 1, "b", "b1"), (T0 + 2, "a", "a2"), (T0 + 2, "b", "b2")]
    # ties: the stream with the lower hash first, in both directions (Loki 3), not the label order
    first = min("ab", key=lambda c: stream_hash({"namespace": ns, "c": c, "service_name": "unknown_service"}))
    other = "b" if first == "a" else "a"
    _, doc = qr(url, sel, T0, T0 + 5, limit="3", direction="forward")
    assert sorted(entries(doc)) == sorted([(T0, "a", "a0"), (T0, "b", "b0"), (T0 + 1, first, first + "1")])
    _, doc = qr(url, sel, T0, T0 + 5, limit="3")  # default direction backward
    assert sorted(entries(doc)) == sorted([(T0 + 4, "a", "a4"), (T0 + 4, "b", "b4"), (T0 + 3, first, first + "3")])
    assert other != first


def test_identical_entry_in_same_stream_is_kept_once_other_streams_keep_theirs(url, ns):
    values = [[str(T0), "same"], [str(T0), "same"], [str(T0), "other"]]
    push(url, [{"stream": {"namespace": ns, "c": "a"}, "values": values},
               {"stream": {"namespace": ns, "c": "b"}, "values": values[:1]}])
    push(url, [{"stream": {"namespace": ns, "c": "a"}, "values": values[:1]}])
    _, doc = qr(url, '{namespace="%s"}' % ns, T0, T0 + 1, direction="forward")
    # per stream in push order (which stream comes first is the hash's business)
    assert sorted(entries(doc), key=lambda e: e[1]) == [(T0, "a", "same"), (T0, "a", "other"), (T0, "b", "same")]


def test_limits_and_errors_use_loki_messages(url, ns):
    sel = '{namespace="%s"}' % ns
    status, body = qr(url, sel, T0, T0 + 14 * 3600 * 10**9)
    assert status == 400 and "the query time range exceeds the limit (query length: 14h0m0s, limit: 13h0m0s)" in body
    status, body = qr(url, sel, T0, T0 + 13 * 3600 * 10**9 + 10**6)
    assert status == 400 and "query length: 13h0m0.001s" in body
    status, _ = qr(url, sel, T0, T0 + 13 * 3600 * 10**9)
    assert status == 200
    status, body = qr(url, sel, T0, T0 + 1, limit="5001")
    assert status == 400 and "max entries limit per query exceeded" in body
    status, body = qr(url, sel, T0 + 5, T0)
    assert status == 400 and "end timestamp must not be before" in body
    status, body = qr(url, '{namespace=~".*"}', T0, T0 + 1)
    assert status == 400 and "empty-compatible value" in body
    status, body = qr(url, '{namespace="x"} | json', T0, T0 + 1)
    assert status == 400 and "parse error" in body


def test_logql_string_literals_and_filters(url, ns):
    lines = ['say "hi"', "C:\\dir\\file", "a.b*c", "tab\there", "plain"]
    push(url, [{"stream": {"namespace": ns, "c": "a"}, "values": [[str(T0 + i), l] for i, l in enumerate(lines)]}])

    def lines_for(pipeline):
        status, doc = qr(url, '{namespace="%s"} %s' % (ns, pipeline), T0, T0 + 10, direction="forward")
        assert status == 200, doc
        return [e[2] for e in entries(doc)]

    assert lines_for(r'|= "say \"hi\""') == ['say "hi"']
    assert lines_for('|= `say "hi"`') == ['say "hi"']
    assert lines_for(r'|= "C:\\dir"') == ["C:\\dir\\file"]
    assert lines_for(r'|= `C:\dir`') == ["C:\\dir\\file"]
    assert lines_for(r'|~ "a\\.b\\*c"') == ["a.b*c"]
    assert lines_for(r'|= "tab\there"') == ["tab\there"]
    assert lines_for(r'|= "\x70lain"') == ["plain"]
    assert lines_for(r'!~ "[\"\\\\.]" != "tab"') == ["plain"]
    status, body = qr(url, r'{namespace="%s"} |= "bad \q escape"' % ns, T0, T0 + 10)
    assert status == 400 and "escape" in body


def test_faults_endpoint(url):
    import http.client

    req = urllib.request.Request(url + "/_faults", data=json.dumps({"rate_429": 1.0, "retry_after": "2",
                                                                    "max_consecutive": 1}).encode(), method="POST")
    urllib.request.urlopen(req, timeout=5).read()
    parsed = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=10)
    path = "/loki/api/v1/query_range?" + urllib.parse.urlencode(
        {"query": '{namespace="x"}', "start": str(T0), "end": str(T0 + 1)})
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 429 and resp.getheader("Retry-After") == "2"
        conn.request("GET", path)  # same connection: max_consecutive reached, this one passes
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 200
    finally:
        conn.close()
        urllib.request.urlopen(urllib.request.Request(url + "/_faults", data=b"{}", method="POST"), timeout=5).read()
