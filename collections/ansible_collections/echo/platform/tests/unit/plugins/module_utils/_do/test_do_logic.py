# -*- coding: utf-8 -*-
"""Desired vs current per DigitalOcean resource (pure functions, no I/O)."""

from __future__ import annotations

import base64
import json

from ansible_collections.echo.platform.plugins.module_utils._do import logic


def test_vpc_description_change_and_immutables():
    cur = {"name": "v", "region": "ams3", "ip_range": "10.10.11.0/24", "description": ""}
    assert logic.vpc_changes(cur, {"region": "ams3", "ip_range": "10.10.11.0/24", "description": None}) == ({}, [])
    patch, imm = logic.vpc_changes(cur, {"region": "fra1", "ip_range": "10.10.12.0/24", "description": "x"})
    assert patch == {"description": "x"}
    assert imm == ["region", "ip_range"]


def _cluster(**kw):
    base = {"name": "c", "region": "ams3", "version": "1.34.4-do.0", "vpc_uuid": "v1",
            "tags": ["dbr-echo", "dev", "k8s", "k8s:abc"], "auto_upgrade": False, "surge_upgrade": False, "ha": False,
            "node_pools": [{"id": "p1", "name": "default-pool", "size": "s-4vcpu-8gb", "count": 2, "auto_scale": True,
                            "min_nodes": 1, "max_nodes": 3, "tags": ["dbr-echo", "dev", "k8s", "k8s:abc", "k8s:worker"]}]}
    base.update(kw)
    return base


def test_cluster_auto_tags_ignored():
    update, imm = logic.cluster_changes(_cluster(), {"tags": ["dev", "dbr-echo"], "region": "ams3",
                                                     "version": "1.34.4-do.0", "vpc_uuid": "v1"})
    assert update == {} and imm == []


def test_cluster_tag_change_includes_name_and_immutables_reported():
    update, imm = logic.cluster_changes(_cluster(), {"tags": ["dev"], "region": "nyc1", "version": "1.35.0-do.0"})
    assert update == {"tags": ["dev"], "name": "c"}
    assert set(imm) == {"region", "version"}


def test_node_pools_unchanged_when_count_within_range():
    desired = [{"name": "default-pool", "size": "s-4vcpu-8gb", "auto_scale": True, "min_nodes": 1, "max_nodes": 3,
                "tags": ["dbr-echo", "dev"], "count": None}]
    plan = logic.plan_node_pools(_cluster()["node_pools"], desired)
    assert plan == {"create": [], "update": [], "delete": [], "immutable": []}


def test_node_pool_range_change_is_in_place_and_keeps_count():
    desired = [{"name": "default-pool", "size": "s-4vcpu-8gb", "auto_scale": True, "min_nodes": 2, "max_nodes": 6,
                "tags": ["dbr-echo", "dev"], "count": None}]
    plan = logic.plan_node_pools(_cluster()["node_pools"], desired)
    assert plan["create"] == [] and plan["delete"] == []
    (pool_id, name, body), = plan["update"]
    assert (pool_id, name) == ("p1", "default-pool")
    assert body["min_nodes"] == 2 and body["max_nodes"] == 6 and body["count"] == 2
    assert "size" not in body  # the update call cannot change the size


def test_node_pool_new_pool_created_size_change_immutable_purge_optional():
    desired = [{"name": "default-pool", "size": "s-8vcpu-16gb", "auto_scale": True, "min_nodes": 1, "max_nodes": 3,
                "tags": ["dbr-echo", "dev"]},
               {"name": "monitoring", "size": "s-2vcpu-4gb", "auto_scale": False, "count": 3, "tags": []}]
    plan = logic.plan_node_pools(_cluster()["node_pools"], desired)
    assert plan["immutable"] == [("default-pool", "size")]
    assert plan["create"] == [{"name": "monitoring", "size": "s-2vcpu-4gb", "tags": [], "auto_scale": False, "count": 3}]
    plan = logic.plan_node_pools(_cluster()["node_pools"], [desired[1]], purge=True)
    assert plan["delete"] == [("p1", "default-pool")]
    assert logic.plan_node_pools(_cluster()["node_pools"], [desired[1]])["delete"] == []


def test_autoscale_create_body_count_defaults_to_min():
    body = logic.desired_node_pool_body({"name": "p", "size": "s", "auto_scale": True, "min_nodes": 2, "max_nodes": 4})
    assert body["count"] == 2


def test_database_changes():
    cur = {"name": "pg", "engine": "pg", "version": "16", "size": "db-s-1vcpu-1gb", "num_nodes": 1, "region": "ams3",
           "private_network_uuid": "v1", "tags": ["a"]}
    same = dict(cur, version="16")
    out = logic.database_changes(cur, same)
    assert out == {"resize": None, "immutable": [], "tags_add": [], "tags_remove": []}
    out = logic.database_changes(cur, dict(cur, size="db-s-2vcpu-4gb", version="17", engine="valkey", tags=["b"]))
    assert out["resize"] == {"size": "db-s-2vcpu-4gb", "num_nodes": 1}
    assert set(out["immutable"]) == {"engine", "version"}
    assert out["tags_add"] == ["b"] and out["tags_remove"] == ["a"]


def test_firewall_compares_type_value_only():
    cur = [{"uuid": "u1", "type": "k8s", "value": "c1", "created_at": "t", "cluster_uuid": "d"}]
    assert logic.firewall_changes(cur, [{"type": "k8s", "value": "c1"}]) is None
    assert logic.firewall_changes(cur, [{"type": "k8s", "value": "c2"}, {"type": "ip_addr", "value": "1.2.3.4"}]) == [
        {"type": "ip_addr", "value": "1.2.3.4"}, {"type": "k8s", "value": "c2"}]


def test_pool_changes():
    cur = {"name": "p", "mode": "transaction", "size": 10, "db": "defaultdb", "user": "doadmin"}
    assert logic.pool_changes(cur, dict(cur)) is None
    assert logic.pool_changes(cur, dict(cur, size=20)) == {"mode": "transaction", "size": 20, "db": "defaultdb",
                                                           "user": "doadmin"}


def test_connection_uri_prefers_private_and_redaction_drops_secrets():
    db = {"name": "pg", "connection": {"uri": "postgresql://u:SECRET@pub/db"},
          "private_connection": {"uri": "postgresql://u:SECRET@priv/db"},
          "users": [{"name": "doadmin", "password": "SECRET"}]}
    assert logic.connection_uri(db) == "postgresql://u:SECRET@priv/db"
    assert logic.connection_uri(db, private=False) == "postgresql://u:SECRET@pub/db"
    assert logic.connection_uri({"connection": {"uri": "x"}}) == "x"
    assert "SECRET" not in json.dumps(logic.redact_connection(db))


def test_spaces_grants():
    cur = {"grants": [{"bucket": "b", "permission": "readwrite"}]}
    assert logic.spaces_key_changes(cur, [{"bucket": "b", "permission": "readwrite"}]) is None
    assert logic.spaces_key_changes(cur, [{"bucket": "b", "permission": "read"}]) == [{"bucket": "b", "permission": "read"}]


def test_registry_helpers():
    assert logic.registry_endpoint("dbr-cr") == "registry.digitalocean.com/dbr-cr"
    auth = base64.b64encode(b"tokuser:tokpass").decode()
    auths = {"auths": {"registry.digitalocean.com": {"auth": auth}}}
    assert logic.docker_username(auths) == "tokuser"
    assert json.loads(logic.dockerconfigjson(auths)) == auths
    tags = [{"tag": "a", "compressed_size_bytes": 0, "size_bytes": 0}, {"tag": "b", "compressed_size_bytes": 10}]
    assert logic.tag_usable(logic.find_tag(tags, "b"))
    assert logic.find_tag(tags, "a") is not None and not logic.tag_usable(logic.find_tag(tags, "a"))
    assert logic.find_tag(tags, "c") is None and not logic.tag_usable(None)


def test_project_urns():
    assert logic.urn("kubernetes", "x") == "do:kubernetes:x"
    assert logic.missing_urns(["do:vpc:1"], ["do:vpc:1", "do:space:b", "do:space:b"]) == ["do:space:b"]


def test_predicates():
    assert logic.cluster_running({"status": {"state": "running"}})
    assert not logic.cluster_running({"status": {"state": "provisioning"}})
    assert logic.cluster_failed({"status": {"state": "error", "message": "boom"}})
    assert logic.cluster_failed({"status": {"state": "provisioning"}}) is None
    assert logic.database_online({"status": "online"}) and not logic.database_online({"status": "creating"})
