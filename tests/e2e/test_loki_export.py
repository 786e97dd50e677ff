"""echo.platform.loki_query against the Loki API stand-in of the rehearsal environment.

Needs `testenv/bin/testenv up` (component 60-loki; the service-proxy case also needs the API server).
One data set of 200 000 entries over 3 days is pushed once into a namespace unique to this run:
5 000 entries share one timestamp across 8 streams (with identical lines in every stream), entries
sit on and next to the 13h window boundaries, and exact duplicates are pushed again (Loki keeps one).
Every export must contain exactly the expected entries, once each, in the export's order (timestamp,
stream label string, push order); the stand-in returns equal timestamps in stream-hash order, as Loki 3.
The module runs as a real Ansible module process (args file), in check mode where noted.
"""

import csv
import json
import os
import pathlib
import subprocess
import sys
import time
import urllib.request
import uuid

import pytest

from _testenv import REPO, STATE, load_source, read_env

MODULE = REPO / "collections/ansible_collections/echo/platform/plugins/modules/loki_query.py"
NS = 10**9
HOUR = 3600 * NS
START = 1767571200 * NS  # 2026-01-05T00:00:00Z


gen = load_source("loki_generate", REPO / "testenv/loki/generate.py")


@pytest.fixture(scope="module")
def loki():
    env = read_env()
    if "LOKI_URL" not in env:
        pytest.fail("the rehearsal environment's Loki is not up (LOKI_URL missing from %s/env.d); run "
                    "`testenv/bin/testenv up` first" % STATE)
    try:
        urllib.request.urlopen(env["LOKI_URL"] + "/ready", timeout=5).read()
    except OSError as exc:
        pytest.fail("Loki at %s does not answer (%s); run `testenv/bin/testenv up`" % (env["LOKI_URL"], exc))
    return env


def set_faults(url, **cfg):
    req = urllib.request.Request(url + "/_faults", data=json.dumps(cfg).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    return json.loads(urllib.request.urlopen(req, timeout=10).read())


@pytest.fixture(scope="module")
def data(loki):
    ns = "e2e-" + uuid.uuid4().hex[:10]
    ds = gen.dataset(ns, START, days=3, entries=200_000, crowd=5000)
    gen.push(loki["LOKI_URL"], ds)
    yield ds
    gen.drop(loki["LOKI_URL"], ns)


def run_module(args, check_mode=False, timeout=300):
    """Run loki_query as Ansible runs it (a process reading an args file); returns (rc, result)."""
    payload = dict(args)
    payload["_ansible_check_mode"] = check_mode
    tmp = pathlib.Path(os.environ.get("TMPDIR", "/tmp")) / ("loki-args-%s.json" % uuid.uuid4().hex)
    tmp.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": payload}))
    try:
        env = dict(os.environ, PYTHONPATH=str(REPO / "collections"))
        proc = subprocess.run([sys.executable, str(MODULE), str(tmp)], capture_output=True, text=True,
                              timeout=timeout, env=env, check=False)
    finally:
        tmp.unlink()
    try:
        result = json.loads(proc.stdout)
    except ValueError:
        raise AssertionError("module output is not JSON: %s %s" % (proc.stdout[-2000:], proc.stderr[-2000:]))
    return proc.returncode, result


def read_jsonl(path):
    with open(path, encoding="utf-8") as fh:
        return [(int(d["ts_ns"]), gen.labels_key(d["labels"]), d["line"]) for d in map(json.loads, fh)]


def fmt(ns):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ns // NS)) + ".%09dZ" % (ns % NS)


def test_full_export_is_exact_parallel_windows(loki, data, tmp_path):
    dest = tmp_path / "all.jsonl"
    rc, res = run_module(dict(url=loki["LOKI_URL"], namespace=data.namespace, start=fmt(data.start),
                              end=fmt(data.end), workers=2, limit=1000, dest=str(dest)), check_mode=True)
    assert rc == 0, res
    assert res["changed"] is False
    expected = gen.expected(data)
    got = read_jsonl(dest)
    assert len(got) == len(expected) == 200_000
    assert len(set(got)) == len(got), "duplicates in the export"
    assert got == expected
    assert res["entries"] == 200_000 and res["windows"] == 6 and res["streams"] == 8
    # the crowd needed more than the plain page walk (per-timestamp resolution)
    assert res["requests"] > res["pages"]
    crowd = [e for e in got if e[0] == data.crowd_ts]
    assert len(crowd) == 5000
    assert len({e[2] for e in crowd}) == 5000 // 8  # the same lines in every stream
    assert not (tmp_path / "all.jsonl.partial").exists()
    assert res["sample"][0]["timestamp"] == fmt(data.start)


def test_window_boundaries_one_worker_small_pages(loki, data, tmp_path):
    # a range that starts and ends on 13h boundaries; tiny pages make boundaries and crowds meet page edges
    start, end = data.start + 13 * HOUR, data.start + 39 * HOUR
    dest = tmp_path / "b.jsonl"
    rc, res = run_module(dict(url=loki["LOKI_URL"], namespace=data.namespace, components=["api"],
                              start=fmt(start), end=fmt(end), workers=1, limit=997, dest=str(dest)))
    assert rc == 0, res
    want = [e for e in gen.expected(data, start, end) if 'component="api"' in e[1]]
    got = read_jsonl(dest)
    assert got == want
    assert got[0][0] == start  # start inclusive
    assert all(e[0] < end for e in got)  # end exclusive
    assert any(e[0] == data.start + 26 * HOUR for e in got) and any(e[0] == data.start + 26 * HOUR - 1 for e in got)


def test_csv_and_raw_formats(loki, data, tmp_path):
    start, end = data.start, data.start + 6 * HOUR
    want = gen.expected(data, start, end)
    rc, res = run_module(dict(url=loki["LOKI_URL"], namespace=data.namespace, start=fmt(start), end=fmt(end),
                              format="csv", dest=str(tmp_path / "o.csv")))
    assert rc == 0, res
    with open(tmp_path / "o.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["timestamp", "component", "pod", "container", "level", "message"]
    assert [r[5] for r in rows[1:]] == [e[2] for e in want]
    assert [r[0] for r in rows[1:]] == [fmt(e[0]) for e in want]
    assert {r[1] for r in rows[1:]} == {"api", "worker", "worker-cpu", "directus"}
    assert rows[1][2].startswith("echo-") and "/" not in rows[1][2]
    assert "error" in {r[4] for r in rows[1:]}
    rc, res = run_module(dict(url=loki["LOKI_URL"], namespace=data.namespace, start=fmt(start), end=fmt(end),
                              format="raw", dest=str(tmp_path / "o.log")))
    assert rc == 0, res
    assert (tmp_path / "o.log").read_text(encoding="utf-8") == "".join(e[2] + "\n" for e in want)


@pytest.mark.parametrize("needle", gen.TRICKY)
def test_line_contains_escaping(loki, data, tmp_path, needle):
    dest = tmp_path / "t.jsonl"
    rc, res = run_module(dict(url=loki["LOKI_URL"], namespace=data.namespace, start=fmt(data.start),
                              end=fmt(data.start + 2 * HOUR), line_contains=[needle], dest=str(dest)))
    assert rc == 0, res
    assert [e[2] for e in read_jsonl(dest)] == [needle]


def test_regex_filters_with_metacharacters(loki, data, tmp_path):
    dest = tmp_path / "r.jsonl"
    # a regex that must treat the escaped metacharacters literally, and a not-regex removing a backslash line
    rc, res = run_module(dict(url=loki["LOKI_URL"], namespace=data.namespace, start=fmt(data.start),
                              end=fmt(data.start + 2 * HOUR),
                              line_regex=[r"a\.b\*c\?\(d\)\[e\]\{f\}\|g\^\$|back\\slash"],
                              line_not_regex=[r"\\d$"], dest=str(dest)))
    assert rc == 0, res
    assert [e[2] for e in read_jsonl(dest)] == ["regex a.b*c?(d)[e]{f}|g^$"]
    rc, res = run_module(dict(url=loki["LOKI_URL"], namespace=data.namespace, start=fmt(data.start),
                              end=fmt(data.start + 2 * HOUR), line_contains=["a.b*c"], line_not_contains=['"'],
                              dest=str(dest)))
    assert rc == 0, res
    assert [e[2] for e in read_jsonl(dest)] == ["regex a.b*c?(d)[e]{f}|g^$"]


def test_faults_429_503_still_exact(loki, data, tmp_path):
    start, end = data.start + 30 * HOUR, data.start + 45 * HOUR  # includes the crowd
    dest = tmp_path / "f.jsonl"
    set_faults(loki["LOKI_URL"], rate_429=0.25, rate_503=0.15, retry_after="0", seed=11, max_consecutive=2)
    try:
        rc, res = run_module(dict(url=loki["LOKI_URL"], namespace=data.namespace, start=fmt(start), end=fmt(end),
                                  workers=2, limit=1000, retries=4, dest=str(dest)))
        counts = json.loads(urllib.request.urlopen(loki["LOKI_URL"] + "/_faults", timeout=10).read())["counts"]
    finally:
        set_faults(loki["LOKI_URL"])
    assert rc == 0, res
    assert counts["429"] > 0 and counts["503"] > 0
    assert res["retries"] >= counts["429"] + counts["503"] - 1
    assert read_jsonl(dest) == gen.expected(data, start, end)


def test_max_entries_cut_in_time_order(loki, data, tmp_path):
    dest = tmp_path / "m.jsonl"
    rc, res = run_module(dict(url=loki["LOKI_URL"], namespace=data.namespace, start=fmt(data.start),
                              end=fmt(data.end), max_entries=12_345, workers=3, dest=str(dest)))
    assert rc == 0, res
    assert res["truncated"] is True and res["entries"] == 12_345
    assert read_jsonl(dest) == gen.expected(data)[:12_345]


def _assert_failed_cleanly(rc, res, dest, *needles):
    assert rc != 0 and res.get("failed") is True, res
    for needle in needles:
        assert needle in res["msg"], res["msg"]
    assert not dest.exists()
    assert not pathlib.Path(str(dest) + ".partial").exists()
    assert [p.name for p in dest.parent.iterdir()] == []


def test_bad_input_end_before_start(loki, tmp_path):
    dest = tmp_path / "x.jsonl"
    rc, res = run_module(dict(url=loki["LOKI_URL"], namespace="echo-dev", start="2026-01-07 00:00",
                              end="2026-01-06 00:00", dest=str(dest)))
    _assert_failed_cleanly(rc, res, dest, "not after its start")


def test_bad_input_component_format(loki, tmp_path):
    dest = tmp_path / "x.jsonl"
    rc, res = run_module(dict(url=loki["LOKI_URL"], namespace="echo-dev", components=['api"} or {a="'],
                              since="1h", dest=str(dest)))
    _assert_failed_cleanly(rc, res, dest, "Invalid component")


def test_unreachable_loki(tmp_path):
    dest = tmp_path / "x.jsonl"
    rc, res = run_module(dict(url="http://127.0.0.1:9", namespace="echo-dev", since="1h", retries=1,
                              dest=str(dest)))
    _assert_failed_cleanly(rc, res, dest, "cannot connect", "127.0.0.1:9")


def test_server_limit_mismatch_reports_loki_message(loki, data, tmp_path):
    dest = tmp_path / "x.jsonl"
    rc, res = run_module(dict(url=loki["LOKI_URL"], namespace=data.namespace, start=fmt(data.start),
                              end=fmt(data.end), max_query_length="20h", dest=str(dest)))
    _assert_failed_cleanly(rc, res, dest, "HTTP 400", "the query time range exceeds the limit")
    rc, res = run_module(dict(url=loki["LOKI_URL"], namespace=data.namespace, start=fmt(data.start),
                              end=fmt(data.start + HOUR), limit=6000, server_max_entries=9000, dest=str(dest)))
    _assert_failed_cleanly(rc, res, dest, "max entries limit per query exceeded")


def test_failure_midway_removes_partial_and_keeps_previous_file(loki, data, tmp_path):
    dest = tmp_path / "keep.jsonl"
    dest.write_text("previous\n")
    set_faults(loki["LOKI_URL"], rate_503=1.0, max_consecutive=1000, start_after=40)
    try:
        rc, res = run_module(dict(url=loki["LOKI_URL"], namespace=data.namespace, start=fmt(data.start),
                                  end=fmt(data.end), retries=1, workers=2, dest=str(dest)))
    finally:
        set_faults(loki["LOKI_URL"])
    assert rc != 0 and "HTTP 503" in res["msg"]
    assert dest.read_text() == "previous\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.jsonl"]


def test_service_proxy_path(loki, data, tmp_path):
    env = read_env()
    if "LOKI_PROXY_PATH" not in env or "KUBECONFIG" not in env:
        pytest.fail("Loki is not exposed through the API server (LOKI_PROXY_PATH/KUBECONFIG missing in env.d)")
    start, end = data.crowd_ts - HOUR, data.crowd_ts + HOUR
    dest = tmp_path / "p.jsonl"
    rc, res = run_module(dict(url="", kubeconfig=env["KUBECONFIG"], service_namespace=env["LOKI_SERVICE_NAMESPACE"],
                              service_name=env["LOKI_SERVICE_NAME"], service_port=env["LOKI_SERVICE_PORT"],
                              namespace=data.namespace, start=fmt(start), end=fmt(end), dest=str(dest)))
    assert rc == 0, res
    assert read_jsonl(dest) == gen.expected(data, start, end)
    assert res["entries"] > 5000


def test_secrets_never_in_output(loki, data, tmp_path):
    canary = "canary-" + uuid.uuid4().hex
    dest = tmp_path / "s.jsonl"
    args = dict(url=loki["LOKI_URL"], username="reader", password=canary, namespace=data.namespace,
                start=fmt(data.start), end=fmt(data.start + HOUR), dest=str(dest))
    payload = json.dumps({"ANSIBLE_MODULE_ARGS": args})
    tmp = tmp_path / "args.json"
    tmp.write_text(payload)
    proc = subprocess.run([sys.executable, str(MODULE), str(tmp)], capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, PYTHONPATH=str(REPO / "collections")), check=False)
    assert proc.returncode == 0, proc.stdout
    assert canary not in proc.stdout and canary not in proc.stderr
    assert canary not in dest.read_text()
    # failure path: a bearer token against an unreachable URL
    rc, res = run_module(dict(url="http://127.0.0.1:9", bearer_token=canary, namespace="echo-dev", since="1h",
                              retries=0, dest=str(tmp_path / "f.jsonl")))
    assert rc != 0 and canary not in json.dumps(res)


def test_direct_tls_url_with_custom_ca_and_bearer_token(loki, tmp_path):
    """The API server's service proxy as a direct https URL: custom CA verified, bearer token sent, 403 reported."""
    env = read_env()
    if "TESTENV_KUBE_API" not in env or "TESTENV_KUBE_CA" not in env:
        pytest.fail("the rehearsal API server is not up (TESTENV_KUBE_API/TESTENV_KUBE_CA missing)")
    token = subprocess.run(["kubectl", "--kubeconfig", env["KUBECONFIG"], "-n", "monitoring", "create", "token",
                            "default", "--duration=10m"], capture_output=True, text=True, check=True,
                           timeout=60).stdout.strip()
    dest = tmp_path / "t.jsonl"
    rc, res = run_module(dict(url=env["TESTENV_KUBE_API"] + env["LOKI_PROXY_PATH"], bearer_token=token,
                              ca_path=env["TESTENV_KUBE_CA"], namespace="echo-dev", since="1h", dest=str(dest)))
    # TLS was verified against the custom CA (no certificate error); the service account may not proxy: 403
    assert rc != 0 and "HTTP 403" in res["msg"], res
    assert "CERTIFICATE" not in res["msg"]
    assert token not in json.dumps(res)
    assert list(tmp_path.iterdir()) == []
