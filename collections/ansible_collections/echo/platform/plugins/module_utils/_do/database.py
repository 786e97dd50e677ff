# -*- coding: utf-8 -*-
# Copyright: echo.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Managed database clusters: find, read, plan (``logic``), create or resize, wait, then the
eviction policy (Valkey) and the firewall (trusted sources).

Private to the echo.platform collection. A cluster is never recreated: fields that cannot change
fail with a message; a version or tag drift is a warning.
"""

from __future__ import annotations

import time

from ansible_collections.echo.platform.plugins.module_utils._common.errors import DoError, failed_to
from ansible_collections.echo.platform.plugins.module_utils._common.waiter import wait_for
from ansible_collections.echo.platform.plugins.module_utils._do import logic
from ansible_collections.echo.platform.plugins.module_utils._do.common import POLL_INTERVAL, diff, find_by_name, wrap_probe

# The DigitalOcean API paths of this resource, named once.
DATABASES_PATH = "/v2/databases"
DATABASE_PATH = "/v2/databases/%s"
RESIZE_PATH = "/v2/databases/%s/resize"
FIREWALL_PATH = "/v2/databases/%s/firewall"
EVICTION_POLICY_PATH = "/v2/databases/%s/eviction_policy"
KIND = "database cluster"
EVICTING_ENGINES = ("valkey", "redis")


# ---- find and read ---------------------------------------------------------------------------
def find_database(client, name):
    return find_by_name((client.request("GET", DATABASES_PATH, verb="list", kind="database clusters") or {})
                        .get("databases") or [], name)


def read_database(client, did, name):
    return (client.get(DATABASE_PATH % did, KIND, name) or {}).get("database")


def resolve_database(client, name_or_id):
    """The database cluster named ``name_or_id``, or else the one with that id (a uuid), or None."""
    db = find_database(client, name_or_id)
    if db is None and len(name_or_id) == 36:
        db = read_database(client, name_or_id, name_or_id)
    return db


def _read_firewall(client, db, name):
    return (client.request("GET", FIREWALL_PATH % db["id"], verb="read firewall of", kind=KIND, name=name)
            or {}).get("rules") or []


def _read_eviction_policy(client, db, name):
    return (client.get(EVICTION_POLICY_PATH % db["id"], "eviction policy of database cluster", name)
            or {}).get("eviction_policy")


def connection_details(db):
    """The connection fields of a database or pool object (secrets included: only on request)."""
    out = {}
    for key in ("connection", "private_connection"):
        conn = db.get(key) or {}
        if conn:
            out[key] = dict((k, conn.get(k)) for k in ("uri", "host", "port", "user", "password", "database", "ssl"))
    return out


def database_result(db, rules=None, eviction_policy=None):
    if not db:
        return {}
    out = logic.normalize_database(db)
    out.update({"id": db.get("id"), "status": db.get("status"), "urn": logic.urn("dbaas", db.get("id"))})
    if rules is not None:
        out["trusted_sources"] = [{"type": t, "value": v} for t, v in logic.normalize_rules(rules)]
    if eviction_policy is not None:
        out["eviction_policy"] = eviction_policy
    return out


# ---- plan (pure) -----------------------------------------------------------------------------
def _create_body(p):
    body = {"name": p["name"], "engine": p["engine"], "version": str(p["version"]), "size": p["size"],
            "num_nodes": p["num_nodes"], "region": p["region"], "tags": sorted(p.get("tags") or [])}
    if p.get("private_network_uuid"):
        body["private_network_uuid"] = p["private_network_uuid"]
    return body


def _resize_body(cur, p, warnings):
    """The resize body (or None); a version or tag drift is a warning, other drifts fail."""
    name = p["name"]
    plan = logic.database_changes(cur, dict(p, version=str(p["version"])))
    if "version" in plan["immutable"]:
        warnings.append("database cluster %s runs %s %s, the inventory asks for %s; major upgrades are not done by "
                        "this module" % (name, p["engine"], cur.get("version"), p["version"]))
        plan["immutable"].remove("version")
    if plan["immutable"]:
        raise DoError(failed_to("update", KIND, name, "%s cannot change on an existing cluster; fix "
                                "the inventory (the cluster is never recreated)" % ", ".join(plan["immutable"])))
    if plan["tags_add"] or plan["tags_remove"]:
        warnings.append("database cluster %s has tags %s; the API sets tags only at creation, so the difference is "
                        "reported, not changed" % (name, sorted(cur.get("tags") or [])))
    return plan["resize"]


# ---- apply -----------------------------------------------------------------------------------
def ensure_database(client, p, check_mode, sleep=time.sleep, poll_interval=POLL_INTERVAL):
    name = p["name"]
    cur = find_database(client, name)
    engine = p["engine"]
    if p["state"] == "absent":
        if cur is None:
            return {"changed": False, "database": {}, "diff": diff({}, {})}
        if not check_mode:
            client.delete(DATABASE_PATH % cur["id"], KIND, name)
        return {"changed": True, "database": {}, "diff": diff(database_result(cur), {})}
    warnings = []
    changed = False
    rules_now, evict_now = None, None
    if cur is not None:
        rules_now = _read_firewall(client, cur, name)
        if engine in EVICTING_ENGINES:
            evict_now = _read_eviction_policy(client, cur, name)
    before = database_result(cur, rules_now, evict_now)
    desired_rules = p.get("trusted_sources")
    if cur is None:
        body = _create_body(p)
        if check_mode:
            res = database_result(dict(body, status="creating"), desired_rules or [], p.get("eviction_policy"))
            return {"changed": True, "database": res, "diff": diff({}, res)}
        cur = client.request("POST", DATABASES_PATH, body=body, verb="create", kind=KIND, name=name,
                             probe=wrap_probe("database", lambda: find_database(client, name)))["database"]
        changed = True
        rules_now = []
    else:
        resize = _resize_body(cur, p, warnings)
        if resize:
            changed = True
            if not check_mode:
                client.request("PUT", RESIZE_PATH % cur["id"], body=resize, verb="resize", kind=KIND, name=name)
            cur = dict(cur, **resize)
    if p.get("wait") and not check_mode and not logic.database_online(cur):
        cur = wait_database(client, cur, name, p["wait_timeout"], sleep=sleep, interval=poll_interval)
    evict_after = evict_now
    if engine in EVICTING_ENGINES and p.get("eviction_policy") and evict_now != p["eviction_policy"]:
        changed = True
        evict_after = p["eviction_policy"]
        if not check_mode:
            client.request("PUT", EVICTION_POLICY_PATH % cur["id"], body={"eviction_policy": p["eviction_policy"]},
                           verb="set eviction policy of", kind=KIND, name=name)
    rules_after = rules_now
    new_rules = logic.firewall_changes(rules_now, desired_rules) if desired_rules is not None else None
    if new_rules is not None:
        changed = True
        rules_after = new_rules
        if not check_mode:
            client.request("PUT", FIREWALL_PATH % cur["id"], body={"rules": new_rules},
                           verb="update firewall of", kind=KIND, name=name)
    res = database_result(cur, rules_after, evict_after)
    result = {"changed": changed, "database": res, "warnings": warnings, "diff": diff(before, res)}
    if p.get("return_connection"):
        result["connection"] = connection_details(cur)
    return result


# ---- wait ------------------------------------------------------------------------------------
def wait_database(client, db, name, timeout, sleep=time.sleep, interval=POLL_INTERVAL):
    return wait_for(lambda: read_database(client, db["id"], name), logic.database_online, timeout,
                    interval=interval, what="database cluster %s to be online" % name, sleep=sleep)
