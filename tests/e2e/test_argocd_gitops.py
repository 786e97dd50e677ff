"""The real Argo CD (application controller, repo server, server) on the rehearsal environment syncs
this repository from the loopback git server: an Application of this repository's echo chart, self-heal,
prune. Needs `testenv/bin/testenv up`; see _argocd_support.py."""

from __future__ import annotations

import pathlib
import textwrap
import uuid

import pytest

from _argocd_support import (NS, apply, git, install_argocd, kget, kubectl, push_checkout, refresh,
                             require_argocd_env, served_main, sync_repo, wait_app, wait_synced, wait_until)

SUFFIX = uuid.uuid4().hex[:6]
PLAIN_APP = "e2e-plain-" + SUFFIX
PLAIN_NS = "e2e-argocd-plain-" + SUFFIX
PLAIN_PATH = "e2e/argocd-plain-" + SUFFIX
CHART_APP = "e2e-chart-" + SUFFIX
CHART_NS = "e2e-argocd-chart-" + SUFFIX


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    env = require_argocd_env()
    install_argocd(env, tmp_path_factory)
    return env


@pytest.fixture(scope="module")
def plain_app(env):
    """An Application of plain manifests committed to the served repository through the checkout."""
    checkout = pathlib.Path(env["TESTENV_GIT_CHECKOUT"])
    sync_repo()
    folder = checkout / PLAIN_PATH
    folder.mkdir(parents=True)
    (folder / "config.yaml").write_text(textwrap.dedent("""\
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: e2e-config}
        data: {greeting: hello}
        """))
    (folder / "extra.yaml").write_text(textwrap.dedent("""\
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: e2e-extra}
        data: {removed: later}
        """))
    (folder / "service.yaml").write_text(textwrap.dedent("""\
        apiVersion: v1
        kind: Service
        metadata: {name: e2e-web}
        spec:
          selector: {app: e2e-web}
          ports: [{port: 80, targetPort: 8080}]
        """))
    (folder / "deployment.yaml").write_text(textwrap.dedent("""\
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: e2e-web}
        spec:
          replicas: 1
          selector: {matchLabels: {app: e2e-web}}
          template:
            metadata: {labels: {app: e2e-web}}
            spec:
              containers:
                - name: web
                  image: registry.digitalocean.com/dbr-cr/e2e-web:1
                  ports: [{containerPort: 8080}]
        """))
    commit = push_checkout(env, "e2e: plain manifests for %s" % PLAIN_APP)
    from _argocd_support import application
    apply(application(PLAIN_APP, env["TESTENV_GIT_URL"], PLAIN_PATH, PLAIN_NS))
    yield commit
    kubectl("-n", NS, "delete", "application", PLAIN_APP, "--wait=false", check=False)


def test_plain_manifests_sync_at_the_pushed_commit(env, plain_app):
    state = wait_synced(PLAIN_APP, 240, plain_app)
    assert served_main(env) == plain_app
    app = kget("-n", NS, "application", PLAIN_APP)
    health = {(r["kind"], r["name"]): (r.get("health") or {}).get("status") for r in app["status"]["resources"]}
    assert health[("Service", "e2e-web")] == "Healthy", health
    assert set(health) == {("ConfigMap", "e2e-config"), ("ConfigMap", "e2e-extra"), ("Service", "e2e-web"),
                           ("Deployment", "e2e-web")}, health
    cm = kget("-n", PLAIN_NS, "configmap", "e2e-config")
    assert cm["data"] == {"greeting": "hello"}
    # Argo CD's tracking label (the key the chart's argocd-cm sets) names the Application that owns the object
    key = (kget("-n", NS, "configmap", "argocd-cm")["data"] or {}).get("application.instanceLabelKey",
                                                                       "app.kubernetes.io/instance")
    assert cm["metadata"]["labels"][key] == PLAIN_APP
    assert kget("-n", PLAIN_NS, "deployment", "e2e-web") is not None


def test_self_heal_restores_a_deleted_deployment(env, plain_app):
    wait_synced(PLAIN_APP, 240, plain_app)
    before = kget("-n", PLAIN_NS, "deployment", "e2e-web")["metadata"]["uid"]
    kubectl("-n", PLAIN_NS, "delete", "deployment", "e2e-web", "--wait=true")
    restored = wait_until(
        lambda: (d := kget("-n", PLAIN_NS, "deployment", "e2e-web")) and d["metadata"]["uid"] != before and d,
        120, "the controller to recreate Deployment e2e-web (self-heal)")
    assert restored["spec"]["template"]["spec"]["containers"][0]["image"] == "registry.digitalocean.com/dbr-cr/e2e-web:1"
    wait_synced(PLAIN_APP, 240, plain_app)


def test_prune_removes_an_object_deleted_from_git(env, plain_app):
    wait_synced(PLAIN_APP, 240, plain_app)
    assert kget("-n", PLAIN_NS, "configmap", "e2e-extra") is not None
    checkout = env["TESTENV_GIT_CHECKOUT"]
    git("rm", "-q", PLAIN_PATH + "/extra.yaml", cwd=checkout)
    commit = push_checkout(env, "e2e: drop e2e-extra")
    refresh(PLAIN_APP)
    wait_until(lambda: kget("-n", PLAIN_NS, "configmap", "e2e-extra") is None, 180,
               "the controller to prune ConfigMap e2e-extra")
    state = wait_synced(PLAIN_APP, 240, commit)
    assert state["revision"] == commit
    assert kget("-n", PLAIN_NS, "configmap", "e2e-config") is not None


def test_plain_manifests_become_healthy_once_pods_run(env, plain_app):
    """Needs the scheduler, the workload controllers and kwok (simulated nodes): the Deployment's pod Ready."""
    state = wait_app(PLAIN_APP, 240)
    assert state["health"] == "Healthy", state


def test_this_repositorys_echo_chart_syncs_and_becomes_healthy(env):
    """The echo chart at the served snapshot of this work tree, with what the local Application carries
    (value files, release file, inventory values), rendered by the repo server (helm v3, as the Argo CD image ships it) and applied by the controller."""
    commit = sync_repo()
    from _argocd_support import application, local_chart_source
    source = local_chart_source("echo")  # value files (release file included) and inventory values
    apply(application(CHART_APP, env["TESTENV_GIT_URL"], "charts/echo", CHART_NS,
                      helm_values=source["valueFiles"], values_object=source["valuesObject"]))
    try:
        state = wait_app(CHART_APP, 300, expected_revision=commit, want=("ready", "failed"))
        assert state["state"] == "ready", state
        app = kget("-n", NS, "application", CHART_APP)
        kinds = {r["kind"] for r in app["status"]["resources"]}
        assert {"Deployment", "Service"} <= kinds, kinds
        api = kget("-n", CHART_NS, "deployment", "echo-api")
        assert api is not None and api["status"].get("readyReplicas", 0) >= 1, api and api["status"]
    finally:
        kubectl("-n", NS, "delete", "application", CHART_APP, "--wait=false", check=False)
