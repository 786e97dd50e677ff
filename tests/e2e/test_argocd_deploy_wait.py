"""The deploy layer's role (echo.platform.argocd_apps) waits for the real Argo CD: a bad values change
pushed to git stops it with the Application's name and the controller's own message; a good one is
waited for until Synced and Healthy. Needs `testenv/bin/testenv up`; see _argocd_support.py."""

from __future__ import annotations

import json
import os
import pathlib
import re
import subprocess
import time
import uuid

import pytest
import yaml

from _argocd_support import (NS, STATE, install_argocd, kget, kubectl, local_chart_source, push_checkout,
                             require_argocd_env, served_main, sync_repo)
from _testenv import REPO

APP_NS = "e2e-argocd-role-" + uuid.uuid4().hex[:6]
APP = "echo-local"  # the role's own name for the local environment's echo Application


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    env = require_argocd_env()
    install_argocd(env, tmp_path_factory)
    yield env
    kubectl("-n", NS, "delete", "application", APP, "--wait=false", check=False)
    sync_repo()  # the served repository back to this work tree


def run_role(env: dict, tmp_path: pathlib.Path, timeout: int = 240) -> subprocess.CompletedProcess:
    playbook = tmp_path / "deploy.yml"
    playbook.write_text(yaml.safe_dump([{
        "name": "Deploy through Argo CD",
        "hosts": "localhost",
        "gather_facts": False,
        "roles": [{"role": "echo.platform.argocd_apps", "vars": {
            "argocd_apps_env": "local",
            "argocd_apps_kubeconfig": str(STATE / "kubeconfig"),
            "argocd_apps_repo_url": env["TESTENV_GIT_URL"],
            "argocd_apps_target_revision": "main",
            "argocd_apps_app_namespace": APP_NS,
            # what the local inventory gives: value files with the release file, and the inventory values
            "argocd_apps_values_files": {"echo": local_chart_source("echo")["valueFiles"]},
            "argocd_apps_values": {"echo": local_chart_source("echo")["valuesObject"]},
            "argocd_apps_monitoring_enabled": False,
            "argocd_apps_secrets_enabled": False,
            "argocd_apps_ai_secret_enabled": False,
            "argocd_apps_wait_timeout": timeout,
        }}],
    }]))
    inventory = tmp_path / "hosts.ini"
    inventory.write_text("localhost ansible_connection=local ansible_python_interpreter=%s\n" % (REPO / ".venv/bin/python"))
    return subprocess.run([str(REPO / ".venv/bin/ansible-playbook"), "-i", str(inventory), str(playbook)],
                          cwd=REPO, capture_output=True, text=True, check=False,
                          env=dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
                                   # one JSON line per result: the failure message is read back exactly as sent
                                   ANSIBLE_CALLBACK_RESULT_FORMAT="json"))


def failure_messages(out: str) -> list[str]:
    """The `msg` of every failed task result in the default callback's output (json result format)."""
    found = []
    for line in out.splitlines():
        match = re.match(r"^(?:failed|fatal): \[localhost\].*? => (\{.*\})\s*$", line)
        if match:
            found.append(json.loads(match.group(1)).get("msg", ""))
    return found


def test_bad_values_change_stops_the_deploy_with_the_controllers_message(env, tmp_path):
    sync_repo()
    values = pathlib.Path(env["TESTENV_GIT_CHECKOUT"]) / "charts/echo/values-local.yaml"
    doc = yaml.safe_load(values.read_text())
    doc.setdefault("api", {})["replicaCount"] = "many"  # the chart's schema wants an integer
    values.write_text(yaml.safe_dump(doc, sort_keys=False))
    bad = push_checkout(env, "e2e: a values change the chart's schema refuses")

    result = run_role(env, tmp_path)
    out = result.stdout + result.stderr
    assert result.returncode != 0, out
    assert "Argo CD could not sync Application %s (targetRevision main" % APP in out, out
    # the failure is that of the pushed commit: the controller compared the served main, which is `bad`
    assert served_main(env) == bad
    # the message is the controller's own, as it stands in the Application's conditions. Its prefix changes from
    # one render to the next (the repo server writes the valuesObject to a fresh temporary file whose path is in
    # the text, marks repeated failures "Manifest generation error (cached)" and may add a pause notice), so the
    # comparison uses its core: helm's own error, from helm's "Error: " to the end, which names the refused value.
    def core(text):
        text = " ".join(text.split())
        at = text.rfind("Error: ")
        return text[at:] if at >= 0 else text

    reported = " ".join(" ".join(m.split()) for m in failure_messages(out) if "could not sync Application" in m)
    assert reported, out
    assert "ComparisonError: " in reported, reported
    seen = []
    for _ in range(20):  # the controller may be between two renders when the test reads the Application
        app = kget("-n", NS, "application", APP)
        cores = [core(c["message"]) for c in app["status"].get("conditions", []) if c["type"].endswith("Error")]
        seen.append(cores)
        if any("replicaCount" in c and c in reported for c in cores):
            break
        time.sleep(1)
    else:
        pytest.fail("the role's message does not hold the controller's:\nrole: %s\ncontroller's cores (each read): %s"
                    % (reported, json.dumps(seen, indent=1)))


def test_good_change_is_waited_for_until_synced_and_healthy(env, tmp_path):
    good = sync_repo()
    result = run_role(env, tmp_path, timeout=300)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    app = kget("-n", NS, "application", APP)
    assert app["status"]["sync"]["status"] == "Synced"
    assert app["status"]["sync"]["revision"] == good
    assert app["status"]["health"]["status"] == "Healthy"
    assert "argocd.argoproj.io/refresh" not in (app["metadata"].get("annotations") or {})
