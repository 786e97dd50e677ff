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


# ---- cut-over: Applications another repository manages ------------------------------------------
OLD_REPO = "https://github.com/dembrane/echo-gitops.git"  # the repository this one replaces (reference 3)


def live_app(name: str) -> dict:
    return json.loads(kubectl("-n", "argocd", "get", "applications.argoproj.io", name, "-o", "json").stdout)


def make_foreign(name: str) -> None:
    """Make the live Application look hand-applied from the old repository (no label of ours)."""
    patch = [
        {"op": "remove", "path": "/metadata/labels/app.kubernetes.io~1managed-by"},
        {"op": "replace", "path": "/spec/source/repoURL", "value": OLD_REPO},
        {"op": "replace", "path": "/spec/source/path", "value": "helm/monitoring"},
    ]
    kubectl("-n", "argocd", "patch", "applications.argoproj.io", name, "--type", "json", "-p", json.dumps(patch))


def test_foreign_application_shows_the_adoption_plan_in_check_mode(argocd_apps):
    make_foreign(APP)
    rc, out, raw = run_playbook("deploy.yml", "echo_deploy_method=argocd", check=True, tags="argocd_apps")
    assert rc == 0, raw[-4000:]
    plan = task_results(out, "Show the adoption plan")[0]["results"]
    assert [r["item"]["application"] for r in plan] == [APP]
    lines = "\n".join(plan[0]["msg"])
    assert "repoURL: %s -> " % OLD_REPO in lines and "path: helm/monitoring -> charts/monitoring" in lines
    assert "echo_argocd_adopt=true" in lines
    assert live_app(APP)["spec"]["source"]["repoURL"] == OLD_REPO  # check mode changed nothing


def test_foreign_application_is_not_taken_over_without_consent(argocd_apps):
    if "app.kubernetes.io/managed-by" in live_app(APP)["metadata"].get("labels", {}):
        make_foreign(APP)
    rc, out, raw = run_playbook("deploy.yml", "echo_deploy_method=argocd", tags="argocd_apps")
    assert rc != 0
    failed = task_results(out, "Refuse to take over Applications another tool manages")[0]
    assert APP in failed["msg"] and OLD_REPO in failed["msg"] and "-e echo_argocd_adopt=true" in failed["msg"]
    assert not task_results(out, "Apply the Applications") or \
        all(r.get("skipped") for r in task_results(out, "Apply the Applications")[0].get("results", []))
    live = live_app(APP)
    assert live["spec"]["source"]["repoURL"] == OLD_REPO
    assert "app.kubernetes.io/managed-by" not in live["metadata"].get("labels", {})


def test_adoption_when_allowed_repoints_and_labels(argocd_apps):
    if "app.kubernetes.io/managed-by" in live_app(APP)["metadata"].get("labels", {}):
        make_foreign(APP)
    rc, out, raw = run_playbook("deploy.yml", "echo_deploy_method=argocd", "echo_argocd_adopt=true",
                                tags="argocd_apps")
    assert rc == 0, raw[-4000:]
    assert fact(out, "argocd_apps_result")["adopted"] == [APP]
    live = live_app(APP)
    assert live["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "echo-platform-ansible"
    assert live["spec"]["source"]["repoURL"] != OLD_REPO
    assert live["spec"]["source"]["path"] == "charts/monitoring"
    # adopted: the next run without the flag is quiet again
    rc, out, raw = run_playbook("deploy.yml", "echo_deploy_method=argocd", tags="argocd_apps")
    assert rc == 0, raw[-4000:]
    assert fact(out, "__argocd_apps_foreign") == []
