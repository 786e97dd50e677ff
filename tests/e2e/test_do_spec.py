"""DigitalOcean layer against the running emulator (testenv component 50-do-emulator).

* a request that violates DigitalOcean's OpenAPI spec fails, both raw and through the collection's
  client (DoError with the emulator's explanation), and the emulator records it;
* canaries: the API token and the database password never appear in any module output, even at -vvv.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import urllib.error
import urllib.request

import pytest
from _testenv import REPO, STATE  # pylint: disable=import-error

sys.path.insert(0, str(REPO / "collections"))


def do_env():
    path = STATE / "env.d" / "do-emulator.env"
    if not path.is_file():
        pytest.fail("the DigitalOcean emulator is not up (%s missing); run `testenv/bin/testenv up do-emulator`" % path)
    env = {}
    for line in path.read_text().splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            env[key.strip()] = value.strip()
    return env


def call(url, method="GET", body=None, token="e2e-token"):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json",
                                                                          "Authorization": "Bearer " + token})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def test_spec_violation_fails_raw_request():
    base = do_env()["DO_API_URL"]
    before = len(call(base + "/_emulator/violations")[1]["violations"])
    status, body = call(base + "/v2/databases", "POST", {"name": "e2e-bad", "engine": "pg", "size": "db-s-1vcpu-1gb"})
    assert status == 422 and body["id"] == "spec_violation"
    assert "num_nodes" in body["message"] and "region" in body["message"]
    assert len(call(base + "/_emulator/violations")[1]["violations"]) == before + 1


def test_spec_violation_fails_through_the_client():
    from ansible_collections.echo.platform.plugins.module_utils._common.errors import DoError
    from ansible_collections.echo.platform.plugins.module_utils._do.client import DoClient

    client = DoClient(do_env()["DO_API_URL"], "e2e-token")
    with pytest.raises(DoError) as err:
        # engine "mongo" is not in the spec's enum
        client.request("POST", "/v2/databases", body={"name": "e2e-bad", "engine": "mongo", "num_nodes": 1,
                                                      "size": "db-s-1vcpu-1gb", "region": "ams3"},
                       verb="create", kind="database cluster", name="e2e-bad")
    assert err.value.status == 422
    assert str(err.value).startswith("Failed to create database cluster e2e-bad:")
    assert "engine" in str(err.value)


def run_module(module, args, token, extra_env=None):
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), DIGITALOCEAN_TOKEN=token, **(extra_env or {}))
    env["PATH"] = str(REPO / ".venv" / "bin") + os.pathsep + env.get("PATH", "")
    cmd = [str(REPO / ".venv" / "bin" / "ansible"), "localhost", "-vvv", "-m", module, "-a", json.dumps(args)]
    proc = subprocess.run(cmd, cwd=str(REPO), env=env, capture_output=True, text=True, timeout=300, check=False)
    return proc.returncode, proc.stdout + proc.stderr


def test_canaries_never_in_output():
    base = do_env()["DO_API_URL"]
    token = "canary-token-" + secrets.token_hex(8)
    name = "e2e-canary-" + secrets.token_hex(3)
    rc, out = run_module("echo.platform.do_database_cluster",
                         {"name": name, "engine": "pg", "version": "16", "size": "db-s-1vcpu-1gb", "region": "ams3",
                          "api_url": base, "wait_timeout": 120}, token)
    try:
        assert rc == 0, out
        state = call(base + "/_emulator/state")[1]
        db = [d for d in state["databases"] if d["name"] == name][0]
        password = db["connection"]["password"]
        assert len(password) > 10
        assert token not in out
        assert password not in out
        # a failing call must not leak the token either
        rc, out = run_module("echo.platform.do_vpc", {"name": "bad name!", "region": "ams3", "api_url": base}, token)
        assert rc != 0 and "spec" in out and token not in out
    finally:
        run_module("echo.platform.do_database_cluster", {"name": name, "engine": "pg", "state": "absent", "api_url": base},
                   token)
