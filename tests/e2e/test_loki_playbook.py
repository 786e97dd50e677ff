"""playbooks/query_logs.yml end to end: inventory defaults, the service-proxy path, check mode.

Needs `testenv/bin/testenv up` (API server + component 60-loki). Runs ansible-playbook with the
local inventory; Loki is reached through the Kubernetes API service proxy (echo_loki_url is "").
"""

import csv
import json
import os
import subprocess
import uuid

import pytest

from _testenv import REPO, STATE, load_source, read_env

NS = 10**9
START = 1767571200 * NS  # 2026-01-05T00:00:00Z


gen = load_source("loki_generate_pb", REPO / "testenv/loki/generate.py")


@pytest.fixture(scope="module")
def data():
    env = read_env()
    if "LOKI_PROXY_PATH" not in env:
        pytest.fail("Loki is not up behind the API service proxy (no LOKI_PROXY_PATH in %s/env.d); run "
                    "`testenv/bin/testenv up`" % STATE)
    ds = gen.dataset("pb-" + uuid.uuid4().hex[:8], START, days=1, entries=30_000, crowd=1500)
    gen.push(env["LOKI_URL"], ds)
    yield ds
    gen.drop(env["LOKI_URL"], ds.namespace)


def playbook(tmp_path, *extra, check=False):
    cmd = [str(REPO / ".venv/bin/ansible-playbook"), "playbooks/query_logs.yml", "-i", "inventories/local",
           "-e", "query_logs_context=", "-e", "echo_state_dir=%s" % STATE]
    for e in extra:
        cmd += ["-e", e]
    if check:
        cmd.append("--check")
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json",
               ANSIBLE_FORCE_COLOR="0")
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=600, env=env, check=False)
    try:
        out = json.loads(proc.stdout)
    except ValueError:
        raise AssertionError("not JSON: %s\n%s" % (proc.stdout[-3000:], proc.stderr[-3000:]))
    return proc.returncode, out


def task_result(out, name):
    for play in out["plays"]:
        for task in play["tasks"]:
            if task["task"]["name"] == name:
                return task["hosts"]["localhost"]
    raise KeyError(name)


def test_playbook_exports_through_service_proxy_in_check_mode(data, tmp_path):
    dest = tmp_path / "workers.csv"
    rc, out = playbook(tmp_path, "query_logs_namespace=%s" % data.namespace,
                       json.dumps({"query_logs_components": ["worker", "worker-cpu"]}),
                       "query_logs_from_date=2026-01-05", "query_logs_from_time=00:00",
                       "query_logs_to_date=2026-01-06", "query_logs_to_time=00:00",
                       "query_logs_format=csv", "query_logs_dest=%s" % dest, check=True)
    assert rc == 0, json.dumps(out)[-3000:]
    res = task_result(out, "Export the logs")
    assert res["changed"] is False
    want = [e for e in gen.expected(data) if 'component="worker' in e[1]]
    assert res["entries"] == len(want) > 5000
    assert res["query"] == '{namespace="%s", app="echo", component=~"worker|worker-cpu"}' % data.namespace
    with open(dest, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert [r[5] for r in rows[1:]] == [e[2] for e in want]


def test_playbook_all_components_and_text_filter(data, tmp_path):
    dest = tmp_path / "x.jsonl"
    rc, out = playbook(tmp_path, "query_logs_namespace=%s" % data.namespace, "query_logs_all=true",
                       json.dumps({"query_logs_text_contains": ['quote " inside']}),
                       "query_logs_from_date=2026-01-05", "query_logs_to_date=2026-01-06",
                       "query_logs_dest=%s" % dest)
    assert rc == 0, json.dumps(out)[-3000:]
    res = task_result(out, "Export the logs")
    assert res["entries"] == 1 and res["sample"][0]["line"] == 'quote " inside'


def test_playbook_rejects_bad_format(data, tmp_path):
    rc, out = playbook(tmp_path, "query_logs_format=xml", "query_logs_dest=%s" % (tmp_path / "x"))
    assert rc != 0
    assert "query_logs_format must be jsonl, csv or raw" in json.dumps(out)
    assert list(tmp_path.iterdir()) == []
