"""Helpers for the bootstrap/deploy end-to-end tests (playbooks/bootstrap.yml, playbooks/deploy.yml).

They run the playbooks with the local inventory against the rehearsal environment
(`testenv/bin/testenv up`): the real API server, the local chart repository and the DigitalOcean
emulator (its registry answers the image-tag check and hands out pull-secret credentials).
"""

from __future__ import annotations

import json
import os
import subprocess

import requests

from _testenv import REPO, STATE, require_env  # pylint: disable=import-error

KUBECONFIG = STATE / "kubeconfig"
DO_TOKEN = "rehearsal-do-token"  # the local inventory's emulator token, not a credential
REGISTRY = "dbr-cr"


def require_testenv() -> dict[str, str]:
    return require_env("TESTENV_CHART_REPO_URL", "DO_API_URL")


def seed_registry(do_url: str, tags: dict[str, tuple[str, int]]) -> None:
    """Create the registry (if absent) and push repository -> (tag, size) into the emulator."""
    r = requests.post(do_url + "/v2/registries", headers={"Authorization": "Bearer " + DO_TOKEN},
                      json={"name": REGISTRY, "subscription_tier_slug": "basic", "region": "ams3"}, timeout=10)
    assert r.status_code in (201, 409), r.text
    for repo, (tag, size) in tags.items():
        r = requests.post(do_url + "/_emulator/registry_tags", timeout=10,
                          json={"registry": REGISTRY, "repository": repo, "tag": tag, "size_bytes": size})
        assert r.status_code == 201, r.text


def run_playbook(name: str, *extra: str, check: bool = False, diff: bool = False, json_output: bool = True,
                 verbose: bool = False, tags: str | None = None) -> tuple[int, dict | None, str]:
    """Run playbooks/<name> on the local inventory; returns (rc, parsed JSON or None, raw output)."""
    cmd = [str(REPO / ".venv/bin/ansible-playbook"), "playbooks/" + name, "-i", "inventories/local",
           "-e", "echo_kube_context=", "-e", "echo_state_dir=%s" % STATE]
    for e in extra:
        cmd += ["-e", e]
    if check:
        cmd.append("--check")
    if diff:
        cmd.append("--diff")
    if verbose:
        cmd.append("-vv")
    if tags:
        cmd += ["--tags", tags]
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_FORCE_COLOR="0",
               ANSIBLE_NOCOLOR="1", PATH=str(REPO / ".venv/bin") + os.pathsep + os.environ.get("PATH", ""))
    if json_output:
        env["ANSIBLE_STDOUT_CALLBACK"] = "ansible.builtin.json"
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=900, env=env, check=False)
    raw = proc.stdout + "\n" + proc.stderr
    parsed = None
    if json_output:
        try:
            parsed = json.loads(proc.stdout)
        except ValueError as exc:
            raise AssertionError("not JSON output:\n%s" % raw[-4000:]) from exc
    return proc.returncode, parsed, raw


def task_results(out: dict, name: str) -> list[dict]:
    """Every localhost result of tasks whose name ends with `name` (role tasks are prefixed)."""
    found = []
    for play in out["plays"]:
        for task in play["tasks"]:
            if task["task"]["name"].split(" : ")[-1] == name and "localhost" in task["hosts"]:
                found.append(task["hosts"]["localhost"])
    return found


def fact(out: dict, name: str):
    """The last value a set_fact gave `name` during the run."""
    value = None
    for play in out["plays"]:
        for task in play["tasks"]:
            facts = task["hosts"].get("localhost", {}).get("ansible_facts", {})
            if name in facts:
                value = facts[name]
    return value


def kubectl(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([str(REPO / ".venv/bin/kubectl"), "--kubeconfig", str(KUBECONFIG), *args],
                          capture_output=True, text=True, timeout=120, check=check)


def helm_releases(namespace: str) -> dict[str, int]:
    proc = subprocess.run([str(REPO / ".venv/bin/helm"), "--kubeconfig", str(KUBECONFIG), "list", "-n", namespace,
                           "-o", "json"], capture_output=True, text=True, timeout=120, check=True)
    return {r["name"]: int(r["revision"]) for r in json.loads(proc.stdout or "[]")}
