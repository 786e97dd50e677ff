# -*- coding: utf-8 -*-
# Copyright: echo.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure DigitalOcean logic: desired vs current per resource, predicates, URIs (no I/O).

Private to the echo.platform collection. Each ``*_changes`` function returns what must change to go
from ``current`` to ``desired``; an empty result means "in the desired state". Fields that the API
sets itself (ids, timestamps, automatic tags) are ignored. Immutable fields that differ are returned
in ``immutable`` so the service can fail with a message instead of recreating anything.
"""

from __future__ import annotations

import base64
import json

# tags DOKS adds to every cluster by itself
CLUSTER_AUTO_TAG_PREFIXES = ("k8s",)


def _clean_tags(tags, auto_prefixes=()):
    out = set()
    for tag in tags or []:
        if any(tag == p or tag.startswith(p + ":") for p in auto_prefixes):
            continue
        out.add(tag)
    return sorted(out)


# ---- VPC -------------------------------------------------------------------------------------
def vpc_changes(current, desired):
    """(patch body, immutable field names) for a VPC."""
    patch = {}
    if desired.get("description") is not None and current.get("description", "") != desired["description"]:
        patch["description"] = desired["description"]
    immutable = []
    for key in ("region", "ip_range"):
        if desired.get(key) and current.get(key) != desired[key]:
            immutable.append(key)
    return patch, immutable


# ---- Kubernetes ------------------------------------------------------------------------------
def normalize_cluster(cluster):
    """The comparable shape of a cluster (what the module manages, nothing server-set)."""
    if not cluster:
        return {}
    return {
        "name": cluster.get("name"),
        "region": cluster.get("region"),
        "version": cluster.get("version"),
        "vpc_uuid": cluster.get("vpc_uuid") or None,
        "tags": _clean_tags(cluster.get("tags"), CLUSTER_AUTO_TAG_PREFIXES),
        "auto_upgrade": bool(cluster.get("auto_upgrade", False)),
        "surge_upgrade": bool(cluster.get("surge_upgrade", False)),
        "ha": bool(cluster.get("ha", False)),
        "node_pools": sorted((normalize_node_pool(p) for p in cluster.get("node_pools") or []),
                             key=lambda p: p["name"]),
    }


def normalize_node_pool(pool):
    out = {
        "name": pool.get("name"),
        "size": pool.get("size"),
        "auto_scale": bool(pool.get("auto_scale", False)),
        "tags": _clean_tags(pool.get("tags"), CLUSTER_AUTO_TAG_PREFIXES),
    }
    if out["auto_scale"]:
        out["min_nodes"] = pool.get("min_nodes")
        out["max_nodes"] = pool.get("max_nodes")
    else:
        out["count"] = pool.get("count")
    return out


def desired_node_pool_body(pool, for_create=True):
    """API body for one node pool from module options (count defaults to min_nodes when autoscaling)."""
    body = {"name": pool["name"], "tags": sorted(pool.get("tags") or []), "auto_scale": bool(pool.get("auto_scale"))}
    if for_create:
        body["size"] = pool["size"]
    if body["auto_scale"]:
        body["min_nodes"] = pool["min_nodes"]
        body["max_nodes"] = pool["max_nodes"]
        body["count"] = pool.get("count") if pool.get("count") is not None else pool["min_nodes"]
    else:
        body["count"] = pool["count"] if pool.get("count") is not None else 1
    return body


def cluster_changes(current, desired):
    """(update body or {}, immutable field names) for the cluster itself (pools: plan_node_pools)."""
    cur = normalize_cluster(current)
    update = {}
    if desired.get("tags") is not None and cur["tags"] != _clean_tags(desired["tags"], CLUSTER_AUTO_TAG_PREFIXES):
        update["tags"] = _clean_tags(desired["tags"], CLUSTER_AUTO_TAG_PREFIXES)
    for key in ("auto_upgrade", "surge_upgrade", "ha"):
        if desired.get(key) is not None and cur[key] != bool(desired[key]):
            update[key] = bool(desired[key])
    if update:
        update["name"] = cur["name"]  # the update call requires it
    immutable = []
    for key in ("region", "vpc_uuid", "version"):
        if desired.get(key) and cur.get(key) != desired[key]:
            immutable.append(key)
    return update, immutable


def plan_node_pools(current_pools, desired_pools, purge=False):
    """What to do with node pools, matched by name: {'create': [body], 'update': [(id, name, body)],
    'delete': [(id, name)], 'immutable': [(name, field)]}. Pools are changed in place."""
    by_name = dict((p.get("name"), p) for p in current_pools or [])
    plan = {"create": [], "update": [], "delete": [], "immutable": []}
    wanted = set()
    for pool in desired_pools or []:
        wanted.add(pool["name"])
        cur = by_name.get(pool["name"])
        body = desired_node_pool_body(pool)
        if cur is None:
            plan["create"].append(body)
            continue
        if cur.get("size") != pool["size"]:
            plan["immutable"].append((pool["name"], "size"))
        cur_n = normalize_node_pool(cur)
        want_n = normalize_node_pool(body)
        want_n["size"] = cur_n["size"]
        if cur_n != want_n:
            upd = desired_node_pool_body(pool, for_create=False)
            if upd["auto_scale"]:
                # keep the autoscaler's current count when it is inside the new range
                count = cur.get("count") or upd["min_nodes"]
                upd["count"] = min(max(count, upd["min_nodes"]), upd["max_nodes"])
            plan["update"].append((cur.get("id"), pool["name"], upd))
    if purge:
        for name, cur in sorted(by_name.items()):
            if name not in wanted:
                plan["delete"].append((cur.get("id"), name))
    return plan


def cluster_running(cluster):
    return bool(cluster) and (cluster.get("status") or {}).get("state") == "running"


def cluster_failed(cluster):
    state = (cluster or {}).get("status", {}).get("state")
    if state in ("error", "degraded", "deleted"):
        return "cluster state is %s: %s" % (state, (cluster.get("status") or {}).get("message", ""))
    return None


# ---- databases -------------------------------------------------------------------------------
def normalize_database(db):
    if not db:
        return {}
    return {
        "name": db.get("name"),
        "engine": db.get("engine"),
        "version": str(db.get("version")) if db.get("version") is not None else None,
        "size": db.get("size"),
        "num_nodes": db.get("num_nodes"),
        "region": db.get("region"),
        "private_network_uuid": db.get("private_network_uuid") or None,
        "tags": sorted(db.get("tags") or []),
    }


def database_changes(current, desired):
    """{'resize': body or None, 'tags': (add, remove), 'immutable': [fields]} for a database cluster."""
    cur = normalize_database(current)
    out = {"resize": None, "immutable": [], "tags_add": [], "tags_remove": []}
    if cur["size"] != desired["size"] or cur["num_nodes"] != desired["num_nodes"]:
        out["resize"] = {"size": desired["size"], "num_nodes": desired["num_nodes"]}
    for key in ("engine", "region", "private_network_uuid"):
        if desired.get(key) and cur.get(key) != desired[key]:
            out["immutable"].append(key)
    if desired.get("version") and cur.get("version") != str(desired["version"]):
        out["immutable"].append("version")
    if desired.get("tags") is not None:
        want = set(desired["tags"])
        have = set(cur["tags"])
        out["tags_add"] = sorted(want - have)
        out["tags_remove"] = sorted(have - want)
    return out


def normalize_rules(rules):
    """Firewall rules as a sorted list of (type, value) pairs (uuids/timestamps ignored)."""
    return sorted(set((r["type"], r["value"]) for r in rules or []))


def firewall_changes(current_rules, desired_rules):
    """None when equal, else the full rule list to PUT (the API replaces the set)."""
    if normalize_rules(current_rules) == normalize_rules(desired_rules):
        return None
    return [{"type": t, "value": v} for t, v in normalize_rules(desired_rules)]


def database_online(db):
    return bool(db) and db.get("status") == "online"


def pool_changes(current, desired):
    """Body for PUT (mode, size, db, user) or None when the pool matches."""
    keys = ("mode", "size", "db")
    diff = any(current.get(k) != desired[k] for k in keys)
    if desired.get("user") and current.get("user") != desired["user"]:
        diff = True
    if not diff:
        return None
    body = dict((k, desired[k]) for k in keys)
    if desired.get("user"):
        body["user"] = desired["user"]
    return body


def connection_uri(db, private=True):
    """The (private by default) connection URI of a database or pool object, or None."""
    conn = (db or {}).get("private_connection" if private else "connection") or {}
    if not conn.get("uri") and private:
        conn = (db or {}).get("connection") or {}
    return conn.get("uri")


def redact_connection(obj):
    """Copy of a database/pool object without secrets (passwords, URIs)."""
    if not isinstance(obj, dict):
        return obj
    out = {}
    for key, value in obj.items():
        if key in ("connection", "private_connection", "standby_connection", "standby_private_connection",
                   "ui_connection", "schema_registry_connection"):
            continue
        if key == "users":
            out[key] = [dict((k, v) for k, v in (u or {}).items() if k not in ("password", "access_key",
                                                                               "access_cert"))
                        for u in value or []]
            continue
        out[key] = value
    return out


# ---- Spaces keys -----------------------------------------------------------------------------
def normalize_grants(grants):
    return sorted(set((g["bucket"], g["permission"]) for g in grants or []))


def spaces_key_changes(current, desired_grants):
    """Grant list to PUT, or None when the key already has exactly these grants."""
    if normalize_grants(current.get("grants")) == normalize_grants(desired_grants):
        return None
    return [{"bucket": b, "permission": p} for b, p in normalize_grants(desired_grants)]


# ---- registry --------------------------------------------------------------------------------
def registry_endpoint(name, host="registry.digitalocean.com"):
    return "%s/%s" % (host, name)


def dockerconfigjson(auths):
    """The .dockerconfigjson string for a docker-credentials response."""
    return json.dumps(auths, sort_keys=True, separators=(",", ":"))


def docker_username(auths, host="registry.digitalocean.com"):
    """The user name inside a docker-credentials response (the token-shaped secret stays out)."""
    auth = (((auths or {}).get("auths") or {}).get(host) or {}).get("auth")
    if not auth:
        return None
    try:
        return base64.b64decode(auth).decode("utf-8").split(":", 1)[0]
    except (ValueError, UnicodeDecodeError):
        return None


def find_tag(tags, tag):
    """The tag object named ``tag`` in a list of tag objects, or None."""
    for item in tags or []:
        if item.get("tag") == tag:
            return item
    return None


def tag_usable(item, min_size=1):
    """A tag exists and has a non-zero (at least ``min_size``) image size."""
    if not item:
        return False
    size = item.get("compressed_size_bytes") or item.get("size_bytes") or 0
    return size >= min_size


# ---- projects --------------------------------------------------------------------------------
def missing_urns(assigned, desired):
    """URNs of ``desired`` not yet in ``assigned`` (sorted, deduplicated)."""
    have = set(assigned or [])
    return sorted(set(u for u in desired or [] if u not in have))


def urn(kind, ident):
    """Build a DigitalOcean URN (do:<kind>:<id>) for the project assignment API."""
    return "do:%s:%s" % (kind, ident)
