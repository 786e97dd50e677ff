"""Argo CD Applications: a live Application that tracks another revision is reported and restored.

The original's monitoring Application tracked a feature branch for eight months (reference 9.2 G1).
Here playbooks/deploy.yml (echo_deploy_method=argocd) compares every live Application with the
inventory, reports the drift (a WARNING line and argocd_apps_result.drift) and restores it; check
mode reports the same drift without touching the cluster.

Needs `testenv/bin/testenv up`; runs playbooks/bootstrap.yml first when Argo CD is not installed.
"""

from __future__ import annotations

import json

import pytest

from _deploy_support import fact, kubectl, require_testenv, run_playbook, seed_registry, task_results

APP = "echo-monitoring-local"
FEATURE = "feature/monitoring_prod"


def live_revision(name: str) -> str:
    out = kubectl("-n", "argocd", "get", "applications.argoproj.io", name, "-o", "json").stdout
    return json.loads(out)["spec"]["source"]["targetRevision"]


def set_revision(name: str, revision: str) -> None:
    patch = json.dumps({"spec": {"source": {"targetRevision": revision}}})
    kubectl("-n", "argocd", "patch", "applications.argoproj.io", name, "--type", "merge", "-p", patch)


@pytest.fixture(scope="module")
def argocd_apps():
    env = require_testenv()
    if kubectl("get", "crd", "applications.argoproj.io", check=False).returncode != 0 or \
            kubectl("get", "namespace", "argocd", check=False).returncode != 0:
        seed_registry(env["DO_API_URL"], {})
        rc, _, raw = run_playbook("bootstrap.yml", json_output=False)
        assert rc == 0, raw[-4000:]
    rc, out, raw = run_playbook("deploy.yml", "echo_deploy_method=argocd")
    assert rc == 0, raw[-4000:]
    return out


def test_applications_created_with_inventory_revision(argocd_apps):
    result = fact(argocd_apps, "argocd_apps_result")
    assert result["target_revision"] == "main"
    assert set(result["applications"]) >= {"echo-local", APP, "echo-secrets-local", "echo-ai-secrets-local"}
    for name in result["applications"]:
        assert live_revision(name) == "main"


def test_check_mode_reports_drift_and_changes_nothing(argocd_apps):
    set_revision(APP, FEATURE)
    rc, out, raw = run_playbook("deploy.yml", "echo_deploy_method=argocd", check=True)
    assert rc == 0, raw[-4000:]
    drift = fact(out, "argocd_apps_result")["drift"]
    assert {"application": APP, "field": "targetRevision", "live": FEATURE, "desired": "main"} in \
        [{k: d[k] for k in ("application", "field", "live", "desired")} for d in drift]
    assert live_revision(APP) == FEATURE  # check mode left it alone


def test_next_run_restores_and_reports_the_drift(argocd_apps):
    set_revision(APP, FEATURE)
    rc, out, raw = run_playbook("deploy.yml", "echo_deploy_method=argocd")
    assert rc == 0, raw[-4000:]
    result = fact(out, "argocd_apps_result")
    assert [d["application"] for d in result["drift"]] == [APP]
    assert result["drift"][0]["live"] == FEATURE and result["drift"][0]["desired"] == "main"
    assert result["drift_restored"] is True
    warnings = [r["msg"] for r in task_results(out, "Warn about drifted Applications")[0]["results"]]
    assert any(APP in w and FEATURE in w and "restoring" in w for w in warnings), warnings
    applied = task_results(out, "Apply the Applications")[0]["results"]
    changed = sorted(r["item"]["metadata"]["name"] for r in applied if r.get("changed"))
    assert changed == [APP]
    assert live_revision(APP) == "main"


def test_run_without_drift_changes_nothing(argocd_apps):
    rc, out, raw = run_playbook("deploy.yml", "echo_deploy_method=argocd")
    assert rc == 0, raw[-4000:]
    assert fact(out, "argocd_apps_result")["drift"] == []
    assert out["stats"]["localhost"]["changed"] == 0
