# -*- coding: utf-8 -*-
"""Kubernetes clusters with an in-memory client: pools change in place, check mode writes nothing,
a version drift is a warning; the module writes the kubeconfig (mode 0600) only when it differs."""

from __future__ import annotations

import os

from ansible_collections.echo.platform.plugins.module_utils._do import cluster
from ansible_collections.echo.platform.plugins.modules import do_kubernetes_cluster as mod
from ansible_collections.echo.platform.tests.unit.plugins.module_utils._do.fakes import FakeClient


def _cluster_params(**kw):
    p = {"name": "c", "state": "present", "region": "ams3", "version": "1.34.4-do.0", "vpc_uuid": None, "tags": ["t"],
         "auto_upgrade": None, "surge_upgrade": None, "ha": None, "purge_node_pools": False, "kubeconfig_path": None,
         "wait": True, "wait_timeout": 10,
         "node_pools": [{"name": "p", "size": "s", "auto_scale": True, "min_nodes": 2, "max_nodes": 4, "count": None,
                         "tags": None}]}
    p.update(kw)
    return p


def _running(version="1.34.4-do.0"):
    return {"id": "c1", "name": "c", "region": "ams3", "version": version, "tags": ["t"], "status": {"state": "running"},
            "node_pools": [{"id": "p1", "name": "p", "size": "s", "auto_scale": True, "min_nodes": 2, "max_nodes": 4,
                            "count": 2, "tags": []}]}


def test_cluster_pool_change_in_place_check_mode_no_write():
    cur = {"id": "c1", "name": "c", "region": "ams3", "version": "1.34.4-do.0", "tags": ["t", "k8s"],
           "status": {"state": "running"},
           "node_pools": [{"id": "p1", "name": "p", "size": "s", "auto_scale": True, "min_nodes": 1, "max_nodes": 3,
                           "count": 1, "tags": []}]}
    put = ("PUT", "/v2/kubernetes/clusters/c1/node_pools/p1")
    c = FakeClient(lists={"/v2/kubernetes/clusters": [cur]},
                   posts={put: {"node_pool": dict(cur["node_pools"][0], min_nodes=2, max_nodes=4, count=2)}})
    out = cluster.ensure_cluster(c, _cluster_params(), check_mode=True)
    assert out["changed"] and c.writes == []
    assert out["cluster"]["node_pools"][0]["min_nodes"] == 2
    out = cluster.ensure_cluster(c, _cluster_params(), check_mode=False)
    assert [w[0] for w in c.writes] == ["PUT"]
    assert c.writes[0][1] == "/v2/kubernetes/clusters/c1/node_pools/p1"


def test_cluster_version_drift_is_a_warning(tmp_path):
    c = FakeClient(lists={"/v2/kubernetes/clusters": [_running("1.33.1-do.0")]})
    kc = tmp_path / "kubeconfig"
    out = mod.ensure(c, _cluster_params(kubeconfig_path=str(kc)), check_mode=False, poll_interval=2)
    assert out["warnings"] and "upgrades are not done" in out["warnings"][0]
    assert out["kubeconfig_changed"] and oct(os.stat(kc).st_mode & 0o777) == "0o600"
    out = mod.ensure(c, _cluster_params(kubeconfig_path=str(kc)), check_mode=False, poll_interval=2)
    assert not out["changed"] and not out["kubeconfig_changed"]


def test_kubeconfig_text_goes_to_the_module_which_only_compares_in_check_mode(tmp_path):
    c = FakeClient(lists={"/v2/kubernetes/clusters": [_running()]})
    kc = tmp_path / "kubeconfig"
    out = cluster.ensure_cluster(c, _cluster_params(kubeconfig_path=str(kc)), check_mode=False)
    assert out["kubeconfig"].startswith("apiVersion") and not out["changed"] and not kc.exists()
    out = mod.ensure(c, _cluster_params(kubeconfig_path=str(kc)), check_mode=True, poll_interval=2)
    assert "kubeconfig" not in out and out["changed"] and out["kubeconfig_changed"] and not kc.exists()
