"""The whole DigitalOcean layer through Stoplight Prism's validating proxy (DigitalOcean's own choice of
OpenAPI validator), in front of the rehearsal's DigitalOcean emulator.

playbooks/provision_do.yml creates everything, runs again (no change), changes the node pool and the
Valkey eviction policy, then playbooks/teardown.yml removes it all, every request going through
``prism proxy --errors``. Prism checks requests and responses against the same spec the emulator
uses, with its own validator: any violation it reports (in its log, or as an error answer that fails
the playbook) fails this test, and so does any violation the emulator recorded meanwhile.

Prism comes from npm (``make setup`` caches @stoplight/prism-cli and links .venv/bin/prism).
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from test_do_spec import call, do_env  # noqa: E402  pylint: disable=wrong-import-position
from _testenv import REPO  # pylint: disable=import-error

SPEC = pathlib.Path(os.environ.get("DO_OPENAPI_SPEC") or REPO.parent / "shared" / "reference" / "digitalocean-openapi.json")
PRISM = REPO / ".venv" / "bin" / "prism"
# a request or response Prism finds invalid is logged with "Violation" or answered with its VIOLATIONS error
VIOLATION = re.compile(r"violation|errors#VIOLATIONS|errors#UNPROCESSABLE_ENTITY", re.IGNORECASE)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def prism(tmp_path_factory):
    if not PRISM.exists():
        pytest.fail("Stoplight Prism is not installed at %s: run `make setup` (it installs @stoplight/prism-cli "
                    "from npm)" % PRISM)
    if not SPEC.is_file():
        pytest.fail("DigitalOcean OpenAPI spec not found at %s (expected at ../shared/reference/, or set "
                    "DO_OPENAPI_SPEC)" % SPEC)
    upstream = do_env()["DO_API_URL"]
    port = free_port()
    log_path = tmp_path_factory.mktemp("prism") / "prism.log"
    log = open(log_path, "w", encoding="utf-8")  # pylint: disable=consider-using-with
    proc = subprocess.Popen([str(PRISM), "proxy", str(SPEC), upstream, "--host", "127.0.0.1", "--port", str(port),
                             "--errors"], stdout=log, stderr=subprocess.STDOUT, cwd=str(REPO))
    try:
        deadline = time.time() + 240  # Prism parses the whole spec (about 450 paths) before it listens
        while "Prism is listening" not in log_path.read_text(encoding="utf-8"):
            if proc.poll() is not None:
                pytest.fail("prism exited with %s:\n%s" % (proc.returncode, log_path.read_text(encoding="utf-8")[-3000:]))
            if time.time() > deadline:
                pytest.fail("prism did not listen within 240s:\n%s" % log_path.read_text(encoding="utf-8")[-3000:])
            time.sleep(1)
        started = len(log_path.read_text(encoding="utf-8"))
        yield {"url": "http://127.0.0.1:%d" % port, "upstream": upstream, "log": log_path, "offset": started}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def prism_violations(prism):
    text = prism["log"].read_text(encoding="utf-8")[prism["offset"]:]
    return [line for line in text.splitlines() if VIOLATION.search(line)]


def playbook(name, extra, tmp):
    path = os.path.join(tmp, "vars-%s.json" % secrets.token_hex(3))
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(extra, handle)
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               PATH=str(REPO / ".venv" / "bin") + os.pathsep + os.environ.get("PATH", ""))
    proc = subprocess.run([str(REPO / ".venv" / "bin" / "ansible-playbook"), "-i", "inventories/local", name,
                           "-e", "@" + path], cwd=str(REPO), env=env, capture_output=True, text=True, timeout=1200,
                          check=False)
    return proc.returncode, proc.stdout + proc.stderr


def recap(out):
    match = re.search(r"localhost\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", out)
    assert match, out[-3000:]
    return {"ok": int(match.group(1)), "changed": int(match.group(2)), "failed": int(match.group(4))}


def test_prism_catches_a_response_that_breaks_the_spec(prism):
    """The detector detects: a response the emulator sends unvalidated (a test-only fault) with a
    relative links.self (format uri) must come back from Prism as its VIOLATIONS error."""
    import urllib.request  # pylint: disable=import-outside-toplevel

    base = prism["upstream"]
    bad = {"resources": [{"urn": "do:dbaas:x", "links": {"self": "/v2/databases/x"}, "status": "ok",
                          "assigned_at": "2026-01-01T00:00:00Z"}], "links": {}, "meta": {"total": 1}}
    call(base + "/_emulator/faults", "POST", {"faults": [{"status": 200, "method": "GET", "count": 1,
                                                          "path": "^/v2/projects/default/resources$",
                                                          "unchecked_body": bad}]})
    req = urllib.request.Request(prism["url"] + "/v2/projects/default/resources",
                                 headers={"Authorization": "Bearer prism-check"})
    try:
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(req, timeout=30)  # pylint: disable=consider-using-with
        assert err.value.code == 500
        assert "links.self" in err.value.headers.get("sl-violations", "") and "uri" in err.value.headers["sl-violations"]
    finally:
        call(base + "/_emulator/faults", "DELETE")
    deadline = time.time() + 10
    while not prism_violations(prism) and time.time() < deadline:
        time.sleep(0.2)
    assert prism_violations(prism), "prism's log shows no violation line for the broken response"
    # the layer test below starts counting after this deliberate one
    prism["offset"] = len(prism["log"].read_text(encoding="utf-8"))


def test_do_layer_through_prism_has_no_violation(prism):
    base = prism["upstream"]
    before = len(call(base + "/_emulator/violations")[1]["violations"])
    sfx = secrets.token_hex(3)
    tmp = tempfile.mkdtemp(prefix="prism-")
    pools = [{"name": "default-pool", "size": "s-4vcpu-8gb", "auto_scale": True, "min_nodes": 1, "max_nodes": 2,
              "tags": ["echo", "prism"]}]
    valkey = {"name": "prism-vk-" + sfx, "engine": "valkey", "version": "8", "size": "db-s-1vcpu-1gb", "num_nodes": 1,
              "eviction_policy": "volatile_lru"}
    extra = {"echo_do_api_url": prism["url"], "echo_vpc_name": "prism-vpc-" + sfx, "echo_vpc_cidr": "10.10.%d.0/24" % (100 + secrets.randbelow(100)),
             "echo_cluster_name": "prism-k8s-" + sfx, "echo_node_pools": pools,
             "echo_postgres": {"name": "prism-pg-" + sfx, "engine": "pg", "version": "16", "size": "db-s-1vcpu-1gb",
                               "num_nodes": 1},
             "echo_postgres_pool": {"name": "prism-pool-" + sfx, "mode": "transaction", "size": 10, "db": "defaultdb",
                                    "user": "doadmin"},
             "echo_valkey": valkey, "echo_uploads_bucket": "prism-bucket-" + sfx,
             "echo_registry": {"name": "prism-cr-" + sfx, "tier": "basic", "region": "ams3"},
             "echo_do_project": {"name": "prism-" + sfx, "purpose": "Web Application", "environment": "Development"},
             "echo_kubeconfig": os.path.join(tmp, "kubeconfig"), "echo_state_dir": tmp}
    steps = []
    try:
        rc, out = playbook("playbooks/provision_do.yml", extra, tmp)
        assert rc == 0, out[-4000:]
        steps.append(("create", recap(out)))
        assert steps[-1][1]["changed"] > 0

        rc, out = playbook("playbooks/provision_do.yml", extra, tmp)
        assert rc == 0, out[-4000:]
        steps.append(("no-op", recap(out)))
        assert steps[-1][1]["changed"] == 0, out[-4000:]

        changed = dict(extra, echo_node_pools=[dict(pools[0], min_nodes=2, max_nodes=3)],
                       echo_valkey=dict(valkey, eviction_policy="allkeys_lru"))
        rc, out = playbook("playbooks/provision_do.yml", changed, tmp)
        assert rc == 0, out[-4000:]
        steps.append(("node-pool + eviction change", recap(out)))
        assert steps[-1][1]["changed"] > 0
        state = call(base + "/_emulator/state")[1]
        cluster = [c for c in state["kubernetes_clusters"] if c["name"] == extra["echo_cluster_name"]][0]
        assert (cluster["node_pools"][0]["min_nodes"], cluster["node_pools"][0]["max_nodes"]) == (2, 3)
    finally:
        # every emulated cluster's kubeconfig reaches the rehearsal's one API server, whose sealing keys are the
        # local environment's (backed up in its own state folder, not in this run's): the backup gate is
        # tested by test_secrets_key_backup.py, here it is waived for this throwaway cluster
        rc, out = playbook("playbooks/teardown.yml", dict(extra, teardown_confirm=True,
                                                          teardown_allow_unbacked_sealing_keys=True,
                                                          echo_allow_destroy=["postgres", "bucket", "registry"]), tmp)
        steps.append(("teardown", rc))
    assert rc == 0, out[-4000:]
    state = call(base + "/_emulator/state")[1]
    assert extra["echo_vpc_name"] not in [v["name"] for v in state["vpcs"]]
    assert extra["echo_postgres"]["name"] not in [d["name"] for d in state["databases"]]
    assert prism_violations(prism) == [], steps
    assert call(base + "/_emulator/violations")[1]["violations"][before:] == []
