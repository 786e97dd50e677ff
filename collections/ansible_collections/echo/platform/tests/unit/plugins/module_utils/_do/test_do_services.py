# -*- coding: utf-8 -*-
"""Services with an in-memory client: check mode writes nothing, re-runs do not re-create."""

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.echo.platform.plugins.module_utils._common.errors import DoError
from ansible_collections.echo.platform.plugins.module_utils._do import services


class FakeClient:
    """Answers from canned data and records every write."""

    def __init__(self, lists=None, gets=None, posts=None):
        self.lists = lists or {}
        self.gets = gets or {}
        self.posts = posts or {}
        self.writes = []

    def list_all(self, path, key, kind, params=None):  # pylint: disable=unused-argument
        return list(self.lists.get(path, []))

    def get(self, path, kind, name=None, params=None):  # pylint: disable=unused-argument
        return self.gets.get(path)

    def request(self, method, path, body=None, params=None, **_kw):  # pylint: disable=unused-argument
        if method == "GET":
            return self.gets.get(path)
        self.writes.append((method, path, body))
        return self.posts.get((method, path))

    def delete(self, path, kind, name=None):  # pylint: disable=unused-argument
        self.writes.append(("DELETE", path, None))

    def kubeconfig(self, cid, name=None):  # pylint: disable=unused-argument
        return "apiVersion: v1\nkind: Config\n"


def test_vpc_check_mode_predicts_and_writes_nothing():
    c = FakeClient()
    out = services.ensure_vpc(c, {"name": "v", "state": "present", "region": "ams3", "ip_range": "10.0.0.0/24",
                                  "description": None}, check_mode=True)
    assert out["changed"] and out["vpc"]["name"] == "v" and c.writes == []


def test_vpc_immutable_range_fails_without_writing():
    c = FakeClient(lists={"/v2/vpcs": [{"id": "1", "name": "v", "region": "ams3", "ip_range": "10.0.0.0/24"}]})
    with pytest.raises(DoError, match="ip_range cannot change"):
        services.ensure_vpc(c, {"name": "v", "state": "present", "region": "ams3", "ip_range": "10.9.0.0/24",
                                "description": None}, check_mode=False)
    assert c.writes == []


def _cluster_params(**kw):
    p = {"name": "c", "state": "present", "region": "ams3", "version": "1.34.4-do.0", "vpc_uuid": None, "tags": ["t"],
         "auto_upgrade": None, "surge_upgrade": None, "ha": None, "purge_node_pools": False, "kubeconfig_path": None,
         "wait": True, "wait_timeout": 10,
         "node_pools": [{"name": "p", "size": "s", "auto_scale": True, "min_nodes": 2, "max_nodes": 4, "count": None,
                         "tags": None}]}
    p.update(kw)
    return p


def test_cluster_pool_change_in_place_check_mode_no_write():
    cur = {"id": "c1", "name": "c", "region": "ams3", "version": "1.34.4-do.0", "tags": ["t", "k8s"],
           "status": {"state": "running"},
           "node_pools": [{"id": "p1", "name": "p", "size": "s", "auto_scale": True, "min_nodes": 1, "max_nodes": 3,
                           "count": 1, "tags": []}]}
    put = ("PUT", "/v2/kubernetes/clusters/c1/node_pools/p1")
    c = FakeClient(lists={"/v2/kubernetes/clusters": [cur]},
                   posts={put: {"node_pool": dict(cur["node_pools"][0], min_nodes=2, max_nodes=4, count=2)}})
    out = services.ensure_cluster(c, _cluster_params(), check_mode=True)
    assert out["changed"] and c.writes == []
    assert out["cluster"]["node_pools"][0]["min_nodes"] == 2
    out = services.ensure_cluster(c, _cluster_params(), check_mode=False)
    assert [w[0] for w in c.writes] == ["PUT"]
    assert c.writes[0][1] == "/v2/kubernetes/clusters/c1/node_pools/p1"


def test_cluster_version_drift_is_a_warning(tmp_path):
    cur = {"id": "c1", "name": "c", "region": "ams3", "version": "1.33.1-do.0", "tags": ["t"], "status": {"state": "running"},
           "node_pools": [{"id": "p1", "name": "p", "size": "s", "auto_scale": True, "min_nodes": 2, "max_nodes": 4,
                           "count": 2, "tags": []}]}
    c = FakeClient(lists={"/v2/kubernetes/clusters": [cur]})
    kc = tmp_path / "kubeconfig"
    out = services.ensure_cluster(c, _cluster_params(kubeconfig_path=str(kc)), check_mode=False)
    assert out["warnings"] and "upgrades are not done" in out["warnings"][0]
    assert out["kubeconfig_changed"] and oct(os.stat(kc).st_mode & 0o777) == "0o600"
    out = services.ensure_cluster(c, _cluster_params(kubeconfig_path=str(kc)), check_mode=False)
    assert not out["changed"] and not out["kubeconfig_changed"]


def test_spaces_key_never_recreated_and_secret_kept_in_file(tmp_path):
    secret_file = tmp_path / "key.json"
    created = {"name": "k", "access_key": "AK", "secret_key": "CANARY-SECRET",
               "grants": [{"bucket": "b", "permission": "readwrite"}]}
    c = FakeClient(posts={("POST", "/v2/spaces/keys"): {"key": created}})
    params = {"name": "k", "state": "present", "grants": [{"bucket": "b", "permission": "readwrite"}],
              "secret_path": str(secret_file)}
    out = services.ensure_spaces_key(c, params, check_mode=False)
    assert out["secret_key"] == "CANARY-SECRET" and "CANARY-SECRET" not in json.dumps(out["key"])
    assert oct(os.stat(secret_file).st_mode & 0o777) == "0o600"
    c2 = FakeClient(lists={"/v2/spaces/keys": [{"name": "k", "access_key": "AK",
                                                "grants": [{"bucket": "b", "permission": "readwrite"}]}]})
    out = services.ensure_spaces_key(c2, params, check_mode=False)
    assert not out["changed"] and c2.writes == [] and out["secret_key"] == "CANARY-SECRET"
    out = services.ensure_spaces_key(c2, dict(params, secret_path=None), check_mode=False)
    assert out["secret_key"] is None and out["warnings"]


def test_registry_existing_is_only_read():
    c = FakeClient(gets={"/v2/registries/dbr-cr": {"registry": {"name": "dbr-cr", "region": "ams3"}}})
    out = services.ensure_registry(c, {"name": "dbr-cr", "state": "present", "subscription_tier": "basic",
                                       "region": "ams3"}, check_mode=False)
    assert not out["changed"] and not out["created"] and c.writes == []
    assert out["endpoint"] == "registry.digitalocean.com/dbr-cr"


def test_database_connection_only_on_request():
    db = {"id": "d1", "name": "pg", "engine": "pg", "version": "16", "size": "s", "num_nodes": 1, "region": "ams3",
          "status": "online", "tags": [], "connection": {"uri": "postgresql://doadmin:CANARY@h/db", "password": "CANARY"}}
    c = FakeClient(gets={"/v2/databases": {"databases": [db]}, "/v2/databases/d1/firewall": {"rules": []}})
    params = {"name": "pg", "state": "present", "engine": "pg", "version": "16", "size": "s", "num_nodes": 1,
              "region": "ams3", "private_network_uuid": None, "tags": None, "eviction_policy": None,
              "trusted_sources": None, "return_connection": False, "wait": True, "wait_timeout": 10}
    out = services.ensure_database(c, params, check_mode=False)
    assert "CANARY" not in json.dumps(out) and not out["changed"]
    out = services.ensure_database(c, dict(params, return_connection=True), check_mode=False)
    assert out["connection"]["connection"]["password"] == "CANARY"


def test_project_assigns_only_missing():
    c = FakeClient(lists={"/v2/projects": [{"id": "p1", "name": "ECHO"}],
                          "/v2/projects/p1/resources": [{"urn": "do:vpc:1"}]},
                   posts={("POST", "/v2/projects/p1/resources"): {"resources": [{"urn": "do:space:b", "status": "assigned"}]}})
    out = services.ensure_project_resources(c, {"project": "ECHO", "state": "present", "resources": ["do:vpc:1", "do:space:b"],
                                                "purpose": "x", "environment": "Development", "description": None},
                                            check_mode=False)
    assert out["assigned"] == ["do:space:b"] and len(c.writes) == 1


@pytest.mark.parametrize("gets,lists,exists,registry_exists", [
    ({}, {}, False, False),
    ({"/v2/registries/dbr-cr": {"registry": {"name": "dbr-cr"}}}, {}, False, True),
    ({}, {"/v2/registries/dbr-cr/repositories/dbr-echo-server/tags": [{"tag": "v1", "compressed_size_bytes": 9}]}, True, True),
])
def test_registry_tag_info_tells_missing_registry_from_missing_tag(gets, lists, exists, registry_exists):
    c = FakeClient(lists=lists, gets=gets)
    out = services.registry_tag_info(c, {"registry": "dbr-cr", "repository": "dbr-echo-server", "tag": "v1", "min_size_bytes": 1})
    assert (out["exists"], out["registry_exists"], out["usable"]) == (exists, registry_exists, exists)
    assert c.writes == []


class LostResponseClient(FakeClient):
    """The first POST creates the key but its response is lost (the probe finds the key)."""

    def __init__(self):
        super().__init__()
        self.posts_seen = 0

    def request(self, method, path, body=None, params=None, **kw):
        if method == "POST":
            self.posts_seen += 1
            self.writes.append((method, path, body))
            if self.posts_seen == 1:
                return {"access_key": "AK-LOST", "name": body["name"], "grants": body["grants"]}
            return {"key": {"access_key": "AK-NEW", "secret_key": "SK-NEW", "name": body["name"], "grants": body["grants"]}}
        return super().request(method, path, body, params, **kw)


def test_spaces_key_whose_create_response_was_lost_is_replaced():
    c = LostResponseClient()
    out = services.ensure_spaces_key(c, {"name": "k", "state": "present", "grants": [{"bucket": "b", "permission": "readwrite"}],
                                         "secret_path": None}, check_mode=False)
    assert out["access_key"] == "AK-NEW" and out["secret_key"] == "SK-NEW" and out["created"]
    assert [w[0] for w in c.writes] == ["POST", "DELETE", "POST"]
    assert c.writes[1][1] == "/v2/spaces/keys/AK-LOST"
