from __future__ import annotations

import csv
import json
import os
import threading

import pytest

from ansible_collections.echo.platform.plugins.module_utils._common.errors import LokiError, ValidationError
from ansible_collections.echo.platform.plugins.module_utils._common.retry import RetryPolicy
from ansible_collections.echo.platform.plugins.module_utils._loki import client as client_mod
from ansible_collections.echo.platform.plugins.module_utils._loki import export as export_mod
from ansible_collections.echo.platform.plugins.module_utils._loki import query as q


class FakeClient:
    """Answers query_range/series like Loki (forward order, limits, per-stream selectors)."""

    def __init__(self, streams, server_max=5000, fail_at=None):
        # streams: {labels_tuple: [(ts, line), ...]}
        self.streams = {tuple(sorted(k)): sorted(v, key=lambda e: e[0]) for k, v in streams.items()}
        self.server_max = server_max
        self.fail_at = fail_at
        self.calls = 0
        self.retries = 0
        self.lock = threading.Lock()

    def _matching(self, query):
        selector, _rest = q.split_query(query)
        out = []
        for labels in self.streams:
            if q.labels_key(dict(labels)) == selector or selector == '{app="echo"}':
                out.append(labels)
        return out

    def query_range(self, query, start, end, limit, direction="forward"):
        with self.lock:
            self.calls += 1
            if self.fail_at is not None and self.calls >= self.fail_at:
                raise LokiError("Failed to query Loki: HTTP 500: boom", status=500)
        assert limit <= self.server_max and direction == "forward"
        rows = []
        for labels in self._matching(query):
            for idx, (ts, line) in enumerate(self.streams[labels]):
                if start <= ts < end:
                    rows.append((ts, q.labels_key(dict(labels)), idx, line, labels))
        rows.sort()
        rows = rows[:limit]
        result = {}
        for ts, _k, _i, line, labels in rows:
            result.setdefault(labels, []).append([str(ts), line])
        return {"resultType": "streams", "result": [{"stream": dict(k), "values": v} for k, v in result.items()]}

    def series(self, match, start, end):
        return [dict(k) for k in self._matching(match)]


def dataset():
    a = (("app", "echo"), ("component", "api"), ("pod", "echo-dev/echo-api-1"), ("container", "api-server"))
    b = (("app", "echo"), ("component", "worker"), ("pod", "echo-dev/echo-worker-1"), ("container", "worker"))
    sa = [(t * 10, "api line %d" % t) for t in range(300)]
    sb = [(t * 7, "same line %d" % (t % 5)) for t in range(300)]
    crowd = [(1500, "crowd %d" % i) for i in range(20)]  # 20 at one ts in each stream, same lines
    return {a: sa + crowd, b: sb + crowd}


def expected(streams):
    rows = []
    for labels, values in streams.items():
        key = q.labels_key(dict(labels))
        ordered = sorted(enumerate(values), key=lambda p: (p[1][0], p[0]))
        for idx, (ts, line) in ordered:
            rows.append((ts, key, idx, line))
    rows.sort()
    return [(r[0], r[1], r[3]) for r in rows]


def read_jsonl(path):
    with open(path, encoding="utf-8") as fh:
        return [(int(d["ts_ns"]), q.labels_key(d["labels"]), d["line"]) for d in map(json.loads, fh)]


@pytest.mark.parametrize("workers,window,limit,server_max", [(1, None, 50, 5000), (3, 333, 17, 40), (4, 100, 7, 25)])
def test_export_is_exact_and_ordered(tmp_path, workers, window, limit, server_max):
    streams = dataset()
    client = FakeClient(streams, server_max=server_max)
    dest = tmp_path / "out.jsonl"
    summary = export_mod.export(client, '{app="echo"}', 0, 3000, str(dest), limit=limit, workers=workers,
                                window_ns=window, server_max_entries=server_max)
    assert read_jsonl(dest) == expected(streams)
    assert summary["entries"] == len(expected(streams))
    assert summary["streams"] == 2
    assert not os.path.exists(str(dest) + ".partial")
    assert [p for p in os.listdir(tmp_path) if p != "out.jsonl"] == []


def test_crowd_larger_than_server_max_in_one_stream_fails_clearly(tmp_path):
    streams = {(("app", "echo"),): [(5, "x%d" % i) for i in range(30)]}
    client = FakeClient(streams, server_max=20)
    with pytest.raises(LokiError, match="single timestamp"):
        export_mod.export(client, '{app="echo"}', 0, 10, str(tmp_path / "o.jsonl"), limit=10, server_max_entries=20)
    assert os.listdir(tmp_path) == []


def test_max_entries_truncates_in_global_order(tmp_path):
    streams = dataset()
    dest = tmp_path / "out.jsonl"
    summary = export_mod.export(FakeClient(streams), '{app="echo"}', 0, 3000, str(dest), limit=13, workers=3,
                                window_ns=250, max_entries=321)
    assert read_jsonl(dest) == expected(streams)[:321]
    assert summary["truncated"] is True and summary["entries"] == 321


def test_failure_leaves_no_partial_and_keeps_old_file(tmp_path):
    dest = tmp_path / "out.jsonl"
    dest.write_text("previous complete export\n")
    client = FakeClient(dataset(), fail_at=5)
    with pytest.raises(LokiError, match="boom"):
        export_mod.export(client, '{app="echo"}', 0, 3000, str(dest), limit=10, workers=2, window_ns=300)
    assert sorted(os.listdir(tmp_path)) == ["out.jsonl"]
    assert dest.read_text() == "previous complete export\n"


class SlowFirstWindowClient(FakeClient):
    """Window 0 is slow; a later window fails: the real error is reported, not the cancellation."""

    def query_range(self, query, start, end, limit, direction="forward"):
        if start < 100:
            import time
            time.sleep(0.3)
        elif start >= 2000:
            raise LokiError("Failed to query Loki: HTTP 400: bad window", status=400)
        return FakeClient.query_range(self, query, start, end, limit, direction)


def test_failing_later_window_reports_its_error(tmp_path):
    dest = tmp_path / "out.jsonl"
    with pytest.raises(LokiError, match="bad window"):
        export_mod.export(SlowFirstWindowClient(dataset()), '{app="echo"}', 0, 3000, str(dest), limit=5,
                          workers=3, window_ns=1000)
    assert os.listdir(tmp_path) == []


def test_csv_and_raw(tmp_path):
    streams = {(("app", "echo"), ("component", "api"), ("pod", "ns/p1"), ("container", "c")):
               [(1, 'ERROR with "quotes", commas\nand newline'), (2, "ok")]}
    export_mod.export(FakeClient(streams), '{app="echo"}', 0, 10, str(tmp_path / "o.csv"), fmt="csv")
    with open(tmp_path / "o.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == q.CSV_HEADER
    assert rows[1][1:] == ["api", "p1", "c", "error", 'ERROR with "quotes", commas\nand newline']
    export_mod.export(FakeClient(streams), '{app="echo"}', 0, 10, str(tmp_path / "o.txt"), fmt="raw")
    assert (tmp_path / "o.txt").read_text().endswith("\nok\n")


def test_export_validation(tmp_path):
    c = FakeClient({})
    with pytest.raises(ValidationError, match="Unknown output format"):
        export_mod.export(c, '{app="echo"}', 0, 10, str(tmp_path / "o"), fmt="xml")
    with pytest.raises(ValidationError, match="not after its start"):
        export_mod.export(c, '{app="echo"}', 10, 10, str(tmp_path / "o"))
    with pytest.raises(ValidationError, match="does not exist"):
        export_mod.export(c, '{app="echo"}', 0, 10, str(tmp_path / "missing" / "o"))
    with pytest.raises(ValidationError, match="limit"):
        export_mod.export(c, '{app="echo"}', 0, 10, str(tmp_path / "o"), limit=6000)
    assert c.calls == 0 and os.listdir(tmp_path) == []


# ------------------------------------------------------------------ client


def test_service_proxy_path():
    assert client_mod.service_proxy_path("monitoring", "loki", "3100") == \
        "/api/v1/namespaces/monitoring/services/loki:3100/proxy"
    assert client_mod.service_proxy_path("monitoring", "loki", "http-metrics", "https") == \
        "/api/v1/namespaces/monitoring/services/https:loki:http-metrics/proxy"
    with pytest.raises(ValidationError):
        client_mod.service_proxy_path("", "loki", "3100")


class FakeResponse:
    def __init__(self, status, body=None, headers=None):
        self.status_code = status
        self._body = body
        self.headers = headers or {}
        self.reason = "R"
        self.text = json.dumps(body) if isinstance(body, dict) else (body or "")

    def json(self):
        if isinstance(self._body, dict):
            return self._body
        raise ValueError("not json")


class FakeSession:
    def __init__(self, answers):
        self.answers = list(answers)
        self.calls = []

    def get(self, url, params=None, timeout=None, verify=None, cert=None):
        self.calls.append((url, params))
        self.verify = verify
        ans = self.answers.pop(0)
        if isinstance(ans, Exception):
            raise ans
        return ans


def make_client(answers, **conn):
    sleeps = []
    base = dict(url="http://loki.test:3100/", retries=3)
    base.update(conn)
    c = client_mod.LokiClient(base, sleep=sleeps.append,
                              policy=RetryPolicy(attempts=4, base_delay=0.1, jitter=False))
    sess = FakeSession(answers)
    c._local.session = sess
    return c, sess, sleeps


def test_client_retries_429_503_timeouts_and_honours_retry_after():
    ok = FakeResponse(200, {"status": "success", "data": {"resultType": "streams", "result": []}})
    c, sess, sleeps = make_client([
        FakeResponse(429, "slow down", {"Retry-After": "3"}),
        FakeResponse(503, "unavailable"),
        client_mod.requests.exceptions.ReadTimeout("t"),
        ok,
    ])
    assert c.query_range('{a="b"}', 1, 2, 10) == {"resultType": "streams", "result": []}
    assert sleeps == [3.0, 0.2, 0.4]
    assert c.retries == 3
    assert sess.calls[0][0] == "http://loki.test:3100/loki/api/v1/query_range"
    assert sess.calls[0][1] == {"query": '{a="b"}', "start": "1", "end": "2", "limit": "10", "direction": "forward"}


def test_client_does_not_retry_400_and_reports_loki_message():
    c, sess, sleeps = make_client([FakeResponse(400, "the query time range exceeds the limit")])
    with pytest.raises(LokiError, match="HTTP 400: the query time range exceeds the limit") as err:
        c.get("/loki/api/v1/query_range")
    assert err.value.status == 400 and sleeps == [] and len(sess.calls) == 1


def test_client_gives_up_after_attempts():
    conn_err = client_mod.requests.exceptions.ConnectionError("refused")
    c, sess, sleeps = make_client([conn_err] * 4)
    with pytest.raises(LokiError, match="cannot connect"):
        c.get("/ready")
    assert len(sess.calls) == 4 and len(sleeps) == 3


def test_client_passes_ca_per_request(monkeypatch):
    """requests lets REQUESTS_CA_BUNDLE override a Session-level verify, so the CA goes with each request."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    ok = FakeResponse(200, {"status": "success", "data": []})
    c, sess, _sleeps = make_client([ok], url="https://loki.test", ca_path="/custom/ca.pem")
    c.get("/ready")
    assert sess.verify == "/custom/ca.pem"


def test_client_auth_settings_and_secrets():
    c = client_mod.LokiClient({"url": "https://l", "username": "u", "password": "canary-pw", "ca_path": "/ca.pem"})
    s = c._session()
    assert s.auth == ("u", "canary-pw") and s.verify == "/ca.pem"
    assert c.secrets == ["canary-pw"]
    c = client_mod.LokiClient({"url": "https://l", "bearer_token": "canary-tok", "validate_certs": False})
    s = c._session()
    assert s.headers["Authorization"] == "Bearer canary-tok" and s.verify is False
    with pytest.raises(ValidationError, match="not both"):
        client_mod.LokiClient({"url": "https://l", "username": "u", "bearer_token": "t"})
    with pytest.raises(ValidationError, match="http:// or https://"):
        client_mod.LokiClient({"url": "loki:3100"})
    with pytest.raises(ValidationError, match="only apply to a direct url"):
        client_mod.LokiClient({"url": "", "bearer_token": "t"})


def test_client_service_proxy_uses_kubeconfig(tmp_path):
    kc = tmp_path / "kubeconfig"
    kc.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
        "clusters:\n- name: k\n  cluster:\n    server: https://127.0.0.1:26443\n    insecure-skip-tls-verify: true\n"
        "users:\n- name: u\n  user:\n    token: canary-kube-token\n"
        "contexts:\n- name: c\n  context:\n    cluster: k\n    user: u\n")
    c = client_mod.LokiClient({"url": "", "kubeconfig": str(kc), "namespace": "monitoring", "service": "loki",
                               "port": "3100"})
    assert c.via == "service_proxy"
    assert c.base == "https://127.0.0.1:26443/api/v1/namespaces/monitoring/services/loki:3100/proxy"
    assert c._session().headers["Authorization"] == "Bearer canary-kube-token"
    assert "canary-kube-token" in c.secrets
    with pytest.raises(LokiError, match="Failed to load kubeconfig"):
        client_mod.LokiClient({"url": "", "kubeconfig": str(tmp_path / "nope"), "namespace": "m", "service": "l"})
