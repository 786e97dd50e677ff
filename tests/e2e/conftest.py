"""Session set-up shared by the e2e suites: the local environment converged, as an operator leaves it.

Pods only run on Nodes, and the rehearsal's Nodes follow the node pools of the DigitalOcean emulator's
clusters (testenv/do_nodes); the deploy layer refuses to roll out while a Secret key the pods reference is
missing (role rollout_check). A freshly started rehearsal has neither a cluster nor the sealed Secrets, so
before the first test this does what `make demo` does (push the rehearsal images, run
`site.yml -i inventories/local`) unless the local platform is already there, and waits for the Nodes.
Suites then change, break and restore that platform as they need.
"""

from __future__ import annotations

import json
import os
import subprocess
import time

import pytest

from _testenv import REPO, STATE, read_env

NAMESPACE = "echo-local"  # inventories/local: echo_namespace
BACKEND_SECRET = "echo-backend-secrets"


def _kubectl(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(REPO / ".venv/bin/kubectl"), "--kubeconfig", str(STATE / "kubeconfig"), *args],
                          capture_output=True, text=True, timeout=60, check=False)


def _ready_nodes() -> int:
    out = _kubectl("get", "nodes", "-l", "doks.digitalocean.com/node-pool", "-o", "json")
    if out.returncode:
        return 0
    return sum(1 for n in json.loads(out.stdout)["items"]
               if any(c["type"] == "Ready" and c["status"] == "True" for c in n["status"].get("conditions", [])))


def _converged() -> bool:
    return _ready_nodes() > 0 and _kubectl("-n", NAMESPACE, "get", "secret", BACKEND_SECRET).returncode == 0


@pytest.fixture(scope="session", autouse=True)
def local_platform():
    if "DO_API_URL" not in read_env() or not (STATE / "kubeconfig").is_file():
        yield None  # the suites themselves report that the rehearsal is not up
        return
    if not _converged():
        env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"),
                   PATH=str(REPO / ".venv/bin") + os.pathsep + os.environ.get("PATH", ""))
        for cmd in (["testenv/bin/sync-repo"], ["testenv/bin/seed-images", "rehearsal"],
                    [str(REPO / ".venv/bin/ansible-playbook"), "site.yml", "-i", "inventories/local",
                     "-e", "echo_kube_context=", "-e", "echo_state_dir=%s" % STATE]):
            proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=1500, check=False, env=env)
            assert proc.returncode == 0, "%s failed:\n%s" % (" ".join(cmd), (proc.stdout + proc.stderr)[-4000:])
    deadline = time.monotonic() + 120
    while _ready_nodes() == 0:
        assert time.monotonic() < deadline, "the local cluster's Nodes did not become Ready within 120 s"
        time.sleep(1)
    yield NAMESPACE
