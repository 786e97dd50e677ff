# -*- coding: utf-8 -*-
"""do_kubernetes_cluster_info.run with an in-memory client: read-only, kubeconfig only on request and when running."""

from __future__ import annotations

from ansible_collections.echo.platform.plugins.modules import do_kubernetes_cluster_info as mod


class Client:
    def __init__(self, clusters, kubeconfig="apiVersion: v1\nkind: Config\n"):
        self.clusters = clusters
        self.text = kubeconfig
        self.fetched = []

    def list_all(self, path, key, kind, params=None):  # pylint: disable=unused-argument
        assert path == "/v2/kubernetes/clusters"
        return list(self.clusters)

    def kubeconfig(self, cluster_id, name=None, expiry_seconds=0):
        self.fetched.append((cluster_id, name, expiry_seconds))
        return self.text


def cluster(state="running"):
    return {"id": "c-1", "name": "dbr-echo-dev-k8s-cluster", "region": "ams3", "endpoint": "https://c-1.k8s.example",
            "status": {"state": state}, "node_pools": []}


def params(**kw):
    out = dict(name="dbr-echo-dev-k8s-cluster", return_kubeconfig=False, expiry_seconds=0)
    out.update(kw)
    return out


def test_absent_cluster():
    assert mod.run(Client([]), params(return_kubeconfig=True)) == dict(changed=False, exists=False, kubeconfig="")


def test_found_without_kubeconfig_fetches_nothing():
    client = Client([cluster()])
    res = mod.run(client, params())
    assert res["exists"] and res["id"] == "c-1" and res["status"] == "running" and res["kubeconfig"] == ""
    assert client.fetched == [] and res["changed"] is False


def test_kubeconfig_on_request_with_expiry():
    client = Client([cluster()])
    res = mod.run(client, params(return_kubeconfig=True, expiry_seconds=3600))
    assert res["kubeconfig"].startswith("apiVersion") and client.fetched == [("c-1", "dbr-echo-dev-k8s-cluster", 3600)]


def test_no_kubeconfig_while_provisioning():
    client = Client([cluster("provisioning")])
    res = mod.run(client, params(return_kubeconfig=True))
    assert res["status"] == "provisioning" and res["kubeconfig"] == "" and client.fetched == []
