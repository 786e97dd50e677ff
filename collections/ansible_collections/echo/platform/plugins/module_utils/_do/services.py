# -*- coding: utf-8 -*-
# Copyright: echo.platform contributors
# Apache License 2.0 (see LICENSE)
"""DigitalOcean services: read current, compute desired (``logic``), act, wait.

Private to the echo.platform collection. Each ``ensure_*`` takes a DoClient, the module's
parameters and ``check_mode``, and returns a result dict (``changed``, the resource, ``diff``).
In check mode nothing is written and the predicted resource is returned.
"""

from __future__ import annotations

import json
import os
import tempfile
import time

from ansible_collections.echo.platform.plugins.module_utils._common.errors import DoError, failed_to
from ansible_collections.echo.platform.plugins.module_utils._common.waiter import wait_for
from ansible_collections.echo.platform.plugins.module_utils._do import logic

POLL_INTERVAL = float(os.environ.get("ECHO_DO_POLL_INTERVAL", "2"))


def _wrap(key, finder):
    """probe() for a POST: the found object wrapped like the create response, or None."""
    def probe():
        found = finder()
        return {key: found} if found is not None else None
    return probe


def _find_by_name(items, name):
    for item in items:
        if item.get("name") == name:
            return item
    return None


def _diff(before, after):
    return {"before": before or {}, "after": after or {}}


# ---- VPC -------------------------------------------------------------------------------------
def find_vpc(client, name):
    return _find_by_name(client.list_all("/v2/vpcs", "vpcs", "VPC"), name)


def ensure_vpc(client, p, check_mode):
    name = p["name"]
    cur = find_vpc(client, name)
    if p["state"] == "absent":
        if cur is None:
            return {"changed": False, "vpc": {}, "diff": _diff({}, {})}
        if not check_mode:
            client.delete("/v2/vpcs/%s" % cur["id"], "VPC", name)
        return {"changed": True, "vpc": {}, "diff": _diff(cur, {})}
    if cur is None:
        body = {"name": name, "region": p["region"]}
        if p.get("ip_range"):
            body["ip_range"] = p["ip_range"]
        if p.get("description") is not None:
            body["description"] = p["description"]
        if check_mode:
            return {"changed": True, "vpc": body, "diff": _diff({}, body)}
        out = client.request("POST", "/v2/vpcs", body=body, verb="create", kind="VPC", name=name,
                             probe=_wrap("vpc", lambda: find_vpc(client, name)))["vpc"]
        return {"changed": True, "vpc": out, "diff": _diff({}, out)}
    patch, immutable = logic.vpc_changes(cur, p)
    if immutable:
        raise DoError(failed_to("update", "VPC", name, "%s cannot change on an existing VPC (have %s); "
                                "delete it first or fix the inventory" % (", ".join(immutable),
                                                                          ", ".join("%s=%s" % (k, cur.get(k)) for k in immutable))))
    if not patch:
        return {"changed": False, "vpc": cur, "diff": _diff(cur, cur)}
    after = dict(cur, **patch)
    if not check_mode:
        after = client.request("PATCH", "/v2/vpcs/%s" % cur["id"], body=patch, verb="update", kind="VPC", name=name)["vpc"]
    return {"changed": True, "vpc": after, "diff": _diff(cur, after)}


# ---- Kubernetes ------------------------------------------------------------------------------
def find_cluster(client, name):
    return _find_by_name(client.list_all("/v2/kubernetes/clusters", "kubernetes_clusters", "Kubernetes cluster"), name)


def read_cluster(client, cid, name):
    out = client.get("/v2/kubernetes/clusters/%s" % cid, "Kubernetes cluster", name)
    return (out or {}).get("kubernetes_cluster")


def wait_cluster(client, cluster, timeout, sleep=time.sleep, clock=time.monotonic):
    return wait_for(lambda: read_cluster(client, cluster["id"], cluster["name"]), logic.cluster_running, timeout,
                    interval=POLL_INTERVAL, what="Kubernetes cluster %s to run" % cluster["name"],
                    sleep=sleep, clock=clock, failed=logic.cluster_failed)


def write_private_file(path, content):
    """Write ``content`` to ``path`` with mode 0600 (atomic). True if the file changed."""
    path = os.path.expanduser(path)
    try:
        with open(path, encoding="utf-8") as handle:
            if handle.read() == content and (os.stat(path).st_mode & 0o777) == 0o600:
                return False
    except OSError:
        pass
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".echo-kubeconfig-")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(content)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return True


def _kubeconfig_differs(path, content):
    try:
        with open(os.path.expanduser(path), encoding="utf-8") as handle:
            return handle.read() != content or (os.stat(os.path.expanduser(path)).st_mode & 0o777) != 0o600
    except OSError:
        return True


def cluster_result(cluster):
    if not cluster:
        return {}
    out = logic.normalize_cluster(cluster)
    out.update({"id": cluster.get("id"), "endpoint": cluster.get("endpoint"), "ipv4": cluster.get("ipv4"),
                "status": (cluster.get("status") or {}).get("state"), "urn": logic.urn("kubernetes", cluster.get("id"))})
    return out


def _cluster_body(p):
    body = {"name": p["name"], "region": p["region"], "version": p["version"],
            "node_pools": [logic.desired_node_pool_body(pool) for pool in p["node_pools"]],
            "tags": sorted(p.get("tags") or [])}
    if p.get("vpc_uuid"):
        body["vpc_uuid"] = p["vpc_uuid"]
    for key in ("auto_upgrade", "surge_upgrade", "ha"):
        if p.get(key) is not None:
            body[key] = p[key]
    return body


def ensure_cluster(client, p, check_mode, sleep=time.sleep):
    name = p["name"]
    cur = find_cluster(client, name)
    warnings = []
    deleting = (cur or {}).get("status", {}).get("state") in ("deleting", "deleted")
    if p["state"] == "absent":
        if cur is None or deleting:
            # a cluster already being deleted is absent as far as this run is concerned
            return {"changed": False, "cluster": {}, "diff": _diff({}, {})}
        if not check_mode:
            client.delete("/v2/kubernetes/clusters/%s" % cur["id"], "Kubernetes cluster", name)
        return {"changed": True, "cluster": {}, "diff": _diff(cluster_result(cur), {})}
    if not p.get("node_pools"):
        raise DoError(failed_to("create", "Kubernetes cluster", name, "node_pools needs at least one pool"))
    if deleting:
        raise DoError(failed_to("create", "Kubernetes cluster", name, "a cluster of this name is still being deleted; "
                                "run again once the deletion has finished"))
    changed = False
    before = cluster_result(cur)
    if cur is None:
        body = _cluster_body(p)
        if check_mode:
            predicted = dict(body, status={"state": "provisioning"}, id=None, endpoint=None)
            res = cluster_result(predicted)
            return {"changed": True, "cluster": res, "id": None, "endpoint": None, "status": "provisioning",
                    "diff": _diff({}, res)}
        cur = client.request("POST", "/v2/kubernetes/clusters", body=body, verb="create", kind="Kubernetes cluster",
                             name=name, probe=_wrap("kubernetes_cluster", lambda: find_cluster(client, name)))["kubernetes_cluster"]
        changed = True
    else:
        update, immutable = logic.cluster_changes(cur, p)
        if "version" in immutable:
            warnings.append("Kubernetes cluster %s runs %s, the inventory asks for %s; upgrades are not done by this "
                            "module (use the DigitalOcean upgrade API or console)" % (name, cur.get("version"), p["version"]))
            immutable.remove("version")
        if immutable:
            raise DoError(failed_to("update", "Kubernetes cluster", name, "%s cannot change on an existing cluster "
                                    "(the cluster is never recreated); fix the inventory" % ", ".join(immutable)))
        if update:
            changed = True
            if not check_mode:
                cur = client.request("PUT", "/v2/kubernetes/clusters/%s" % cur["id"], body=update, verb="update",
                                     kind="Kubernetes cluster", name=name)["kubernetes_cluster"]
            else:
                cur = dict(cur, **update)
        plan = logic.plan_node_pools(cur.get("node_pools"), p["node_pools"], purge=p.get("purge_node_pools", False))
        if plan["immutable"]:
            raise DoError(failed_to("update", "node pools of Kubernetes cluster", name, "the droplet size of pool(s) %s "
                                    "cannot change in place; add a pool with a new name and remove the old one"
                                    % ", ".join(n for n, _f in plan["immutable"])))
        pools = dict((pool.get("name"), pool) for pool in cur.get("node_pools") or [])
        for body in plan["create"]:
            changed = True
            if not check_mode:
                path = "/v2/kubernetes/clusters/%s/node_pools" % cur["id"]
                pools[body["name"]] = client.request(
                    "POST", path, body=body, verb="create", kind="node pool", name=body["name"],
                    probe=_wrap("node_pool", lambda b=body: _find_by_name(
                        (client.get(path, "node pools", name) or {}).get("node_pools") or [], b["name"])))["node_pool"]
            else:
                pools[body["name"]] = body
        for pool_id, pool_name, body in plan["update"]:
            changed = True
            if not check_mode:
                pools[pool_name] = client.request("PUT", "/v2/kubernetes/clusters/%s/node_pools/%s" % (cur["id"], pool_id),
                                                  body=body, verb="update", kind="node pool", name=pool_name)["node_pool"]
            else:
                pools[pool_name] = dict(pools[pool_name], **body)
        for pool_id, pool_name in plan["delete"]:
            changed = True
            if not check_mode:
                client.delete("/v2/kubernetes/clusters/%s/node_pools/%s" % (cur["id"], pool_id), "node pool", pool_name)
            pools.pop(pool_name, None)
        cur = dict(cur, node_pools=list(pools.values()))
    if p.get("wait") and not check_mode and not logic.cluster_running(cur):
        cur = wait_cluster(client, cur, p["wait_timeout"], sleep=sleep)
    result = {"changed": changed, "warnings": warnings}
    if p.get("kubeconfig_path"):
        if logic.cluster_running(cur):
            text = client.kubeconfig(cur["id"], name)
            if check_mode:
                kc_changed = _kubeconfig_differs(p["kubeconfig_path"], text)
            else:
                kc_changed = write_private_file(p["kubeconfig_path"], text)
            result["changed"] = result["changed"] or kc_changed
            result["kubeconfig_changed"] = kc_changed
        else:
            warnings.append("Kubernetes cluster %s is not running yet; kubeconfig not written (use wait=true)" % name)
    res = cluster_result(cur)
    result.update({"cluster": res, "id": res.get("id"), "endpoint": res.get("endpoint"), "status": res.get("status"),
                   "diff": _diff(before, res)})
    return result


# ---- databases -------------------------------------------------------------------------------
def find_database(client, name):
    return _find_by_name((client.request("GET", "/v2/databases", verb="list", kind="database clusters") or {})
                         .get("databases") or [], name)


def read_database(client, did, name):
    return (client.get("/v2/databases/%s" % did, "database cluster", name) or {}).get("database")


def _connection_details(db):
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


def ensure_database(client, p, check_mode, sleep=time.sleep):
    name = p["name"]
    cur = find_database(client, name)
    warnings = []
    engine = p["engine"]
    if p["state"] == "absent":
        if cur is None:
            return {"changed": False, "database": {}, "diff": _diff({}, {})}
        if not check_mode:
            client.delete("/v2/databases/%s" % cur["id"], "database cluster", name)
        return {"changed": True, "database": {}, "diff": _diff(database_result(cur), {})}
    changed = False
    rules_now, evict_now = None, None
    if cur is not None:
        rules_now = (client.request("GET", "/v2/databases/%s/firewall" % cur["id"], verb="read firewall of",
                                    kind="database cluster", name=name) or {}).get("rules") or []
        if engine in ("valkey", "redis"):
            evict_now = (client.get("/v2/databases/%s/eviction_policy" % cur["id"], "eviction policy of database cluster",
                                    name) or {}).get("eviction_policy")
    before = database_result(cur, rules_now, evict_now)
    desired_rules = p.get("trusted_sources")
    if cur is None:
        body = {"name": name, "engine": engine, "version": str(p["version"]), "size": p["size"],
                "num_nodes": p["num_nodes"], "region": p["region"], "tags": sorted(p.get("tags") or [])}
        if p.get("private_network_uuid"):
            body["private_network_uuid"] = p["private_network_uuid"]
        if check_mode:
            predicted = dict(body, status="creating")
            res = database_result(predicted, desired_rules or [], p.get("eviction_policy"))
            return {"changed": True, "database": res, "diff": _diff({}, res)}
        cur = client.request("POST", "/v2/databases", body=body, verb="create", kind="database cluster", name=name,
                             probe=_wrap("database", lambda: find_database(client, name)))["database"]
        changed = True
        rules_now = []
    else:
        plan = logic.database_changes(cur, dict(p, version=str(p["version"])))
        if "version" in plan["immutable"]:
            warnings.append("database cluster %s runs %s %s, the inventory asks for %s; major upgrades are not done by "
                            "this module" % (name, engine, cur.get("version"), p["version"]))
            plan["immutable"].remove("version")
        if plan["immutable"]:
            raise DoError(failed_to("update", "database cluster", name, "%s cannot change on an existing cluster; fix "
                                    "the inventory (the cluster is never recreated)" % ", ".join(plan["immutable"])))
        if plan["tags_add"] or plan["tags_remove"]:
            warnings.append("database cluster %s has tags %s; the API sets tags only at creation, so the difference is "
                            "reported, not changed" % (name, sorted(cur.get("tags") or [])))
        if plan["resize"]:
            changed = True
            if not check_mode:
                client.request("PUT", "/v2/databases/%s/resize" % cur["id"], body=plan["resize"], verb="resize",
                               kind="database cluster", name=name)
            cur = dict(cur, **plan["resize"])
    if p.get("wait") and not check_mode and not logic.database_online(cur):
        cur = wait_for(lambda: read_database(client, cur["id"], name), logic.database_online, p["wait_timeout"],
                       interval=POLL_INTERVAL, what="database cluster %s to be online" % name, sleep=sleep)
    evict_after = evict_now
    if engine in ("valkey", "redis") and p.get("eviction_policy") and evict_now != p["eviction_policy"]:
        changed = True
        evict_after = p["eviction_policy"]
        if not check_mode:
            client.request("PUT", "/v2/databases/%s/eviction_policy" % cur["id"],
                           body={"eviction_policy": p["eviction_policy"]}, verb="set eviction policy of",
                           kind="database cluster", name=name)
    rules_after = rules_now
    if desired_rules is not None:
        new_rules = logic.firewall_changes(rules_now, desired_rules)
        if new_rules is not None:
            changed = True
            rules_after = new_rules
            if not check_mode:
                client.request("PUT", "/v2/databases/%s/firewall" % cur["id"], body={"rules": new_rules},
                               verb="update firewall of", kind="database cluster", name=name)
    res = database_result(cur, rules_after, evict_after)
    result = {"changed": changed, "database": res, "warnings": warnings, "diff": _diff(before, res)}
    if p.get("return_connection"):
        result["connection"] = _connection_details(cur)
    return result


def resolve_database(client, name_or_id):
    db = find_database(client, name_or_id)
    if db is None and len(name_or_id) == 36:
        db = read_database(client, name_or_id, name_or_id)
    return db


def ensure_pool(client, p, check_mode):
    name = p["name"]
    db = resolve_database(client, p["cluster"])
    if db is None:
        if p["state"] == "absent":
            return {"changed": False, "pool": {}, "diff": _diff({}, {})}
        if check_mode:
            predicted = dict((k, p[k]) for k in ("name", "mode", "size", "db", "user"))
            return {"changed": True, "pool": predicted, "diff": _diff({}, predicted),
                    "warnings": ["database cluster %s does not exist yet (check mode)" % p["cluster"]]}
        raise DoError(failed_to("create", "connection pool", name, "database cluster %s not found" % p["cluster"]))
    base = "/v2/databases/%s/pools" % db["id"]
    cur = (client.get("%s/%s" % (base, name), "connection pool", name) or {}).get("pool")
    before = logic.redact_connection(cur) if cur else {}
    if p["state"] == "absent":
        if cur is None:
            return {"changed": False, "pool": {}, "diff": _diff({}, {})}
        if not check_mode:
            client.delete("%s/%s" % (base, name), "connection pool", name)
        return {"changed": True, "pool": {}, "diff": _diff(before, {})}
    desired = dict((k, p[k]) for k in ("name", "mode", "size", "db", "user") if p.get(k) is not None)
    changed = False
    if cur is None:
        changed = True
        if check_mode:
            return {"changed": True, "pool": desired, "diff": _diff({}, desired)}
        cur = client.request("POST", base, body=desired, verb="create", kind="connection pool", name=name,
                             probe=lambda: client.get("%s/%s" % (base, name), "connection pool", name))["pool"]
    else:
        body = logic.pool_changes(cur, desired)
        if body:
            changed = True
            if not check_mode:
                client.request("PUT", "%s/%s" % (base, name), body=body, verb="update", kind="connection pool", name=name)
                cur = (client.get("%s/%s" % (base, name), "connection pool", name) or {}).get("pool") or dict(cur, **body)
            else:
                cur = dict(cur, **body)
    res = logic.redact_connection(cur)
    result = {"changed": changed, "pool": res, "diff": _diff(before, res)}
    if p.get("return_connection"):
        result["connection"] = _connection_details(cur)
    return result


# ---- Spaces keys -----------------------------------------------------------------------------
def find_spaces_keys(client, name):
    return [k for k in client.list_all("/v2/spaces/keys", "keys", "Spaces keys", params={"name": name})
            if k.get("name") == name]


def _read_secret_file(path, access_key):
    try:
        with open(os.path.expanduser(path), encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return None
    if data.get("access_key") == access_key:
        return data.get("secret_key")
    return None


def _create_spaces_key(client, name, body, attempts=3):
    """POST a Spaces key and return it with its secret.

    The secret is only in the create response. When a POST fails (5xx, connection) the key is looked
    up by name: if the failed POST did create it, its secret is lost, so that key is deleted and the
    create is tried again.
    """
    for attempt in range(attempts):  # pylint: disable=unused-variable
        out = client.request("POST", "/v2/spaces/keys", body=body, verb="create", kind="Spaces key", name=name,
                             probe=lambda: next(iter(find_spaces_keys(client, name)), None))
        if isinstance(out, dict) and isinstance(out.get("key"), dict):
            return out["key"]
        client.delete("/v2/spaces/keys/%s" % out["access_key"], "Spaces key", name)
    raise DoError(failed_to("create", "Spaces key", name, "the key was created %d times but every response was lost" % attempts))


def ensure_spaces_key(client, p, check_mode):
    name = p["name"]
    found = find_spaces_keys(client, name)
    warnings = []
    if len(found) > 1:
        warnings.append("%d Spaces keys are named %s; managing the oldest" % (len(found), name))
        found.sort(key=lambda k: k.get("created_at") or "")
    cur = found[0] if found else None
    if p["state"] == "absent":
        if cur is None:
            return {"changed": False, "key": {}, "diff": _diff({}, {})}
        if not check_mode:
            client.delete("/v2/spaces/keys/%s" % cur["access_key"], "Spaces key", name)
        return {"changed": True, "key": {}, "diff": _diff(cur, {})}
    grants = [{"bucket": g["bucket"], "permission": g["permission"]} for g in p["grants"]]
    if cur is None:
        body = {"name": name, "grants": grants}
        if check_mode:
            return {"changed": True, "key": body, "access_key": None, "secret_key": None, "diff": _diff({}, body)}
        created = _create_spaces_key(client, name, body)
        secret = created.pop("secret_key", None)
        if p.get("secret_path") and secret:
            write_private_file(p["secret_path"], json.dumps({"access_key": created["access_key"], "secret_key": secret}))
        return {"changed": True, "key": created, "access_key": created["access_key"], "secret_key": secret,
                "created": True, "diff": _diff({}, created), "warnings": warnings}
    changed = False
    after = dict(cur)
    new_grants = logic.spaces_key_changes(cur, grants)
    if new_grants is not None:
        changed = True
        after["grants"] = new_grants
        if not check_mode:
            after = client.request("PUT", "/v2/spaces/keys/%s" % cur["access_key"], body={"name": name, "grants": new_grants},
                                   verb="update", kind="Spaces key", name=name)["key"]
            after.pop("secret_key", None)
    secret = _read_secret_file(p["secret_path"], cur["access_key"]) if p.get("secret_path") else None
    if secret is None:
        warnings.append("the secret of Spaces key %s is only shown when it is created; it was not re-created "
                        "(delete the key to rotate it)" % name) if not p.get("secret_path") else None
    return {"changed": changed, "key": after, "access_key": cur["access_key"], "secret_key": secret, "created": False,
            "diff": _diff(cur, after), "warnings": [w for w in warnings if w]}


# ---- registry --------------------------------------------------------------------------------
def read_registry(client, name):
    return (client.get("/v2/registries/%s" % name, "container registry", name) or {}).get("registry")


def ensure_registry(client, p, check_mode):
    name = p["name"]
    cur = read_registry(client, name)
    endpoint = logic.registry_endpoint(name)
    if p["state"] == "absent":
        if cur is None:
            return {"changed": False, "registry": {}, "endpoint": None, "diff": _diff({}, {})}
        if not check_mode:
            client.delete("/v2/registries/%s" % name, "container registry", name)
        return {"changed": True, "registry": {}, "endpoint": None, "diff": _diff(cur, {})}
    if cur is not None:
        warnings = []
        if p.get("region") and cur.get("region") and cur["region"] != p["region"]:
            warnings.append("container registry %s is in %s, not %s; a registry cannot move" % (name, cur["region"], p["region"]))
        return {"changed": False, "registry": cur, "endpoint": endpoint, "created": False, "warnings": warnings,
                "diff": _diff(cur, cur)}
    body = {"name": name, "subscription_tier_slug": p["subscription_tier"], "region": p["region"]}
    if check_mode:
        return {"changed": True, "registry": body, "endpoint": endpoint, "created": True, "diff": _diff({}, body)}
    out = client.request("POST", "/v2/registries", body=body, verb="create", kind="container registry", name=name,
                         probe=lambda: client.get("/v2/registries/%s" % name, "container registry", name))
    reg = (out or {}).get("registry") or {}
    return {"changed": True, "registry": reg, "endpoint": endpoint, "created": True, "diff": _diff({}, reg)}


def registry_credentials(client, p, clock=time.time):
    params = {"read_write": "true" if p["read_write"] else "false"}
    if p.get("expiry_seconds"):
        params["expiry_seconds"] = p["expiry_seconds"]
    if p.get("registry") and read_registry(client, p["registry"]) is None:
        raise DoError(failed_to("get docker credentials for", "container registry", p["registry"], "no such registry"))
    auths = client.request("GET", "/v2/registry/docker-credentials", params=params, verb="get docker credentials for",
                           kind="container registry", name=p.get("registry"))
    expires_at = None
    if p.get("expiry_seconds"):
        expires_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(clock() + p["expiry_seconds"]))
    return {"changed": False, "dockerconfigjson": logic.dockerconfigjson(auths), "expires_at": expires_at,
            "read_write": p["read_write"], "registry_host": "registry.digitalocean.com",
            "username": logic.docker_username(auths)}


def registry_tag_info(client, p):
    reg = p["registry"]
    path = "/v2/registries/%s/repositories/%s/tags" % (reg, p["repository"])
    try:
        tags = client.list_all(path, "tags", "image tags of repository", params=None)
    except DoError as exc:
        if exc.status == 404:
            tags = []
        else:
            raise
    item = logic.find_tag(tags, p["tag"])
    registry_exists = True if item is not None else read_registry(client, reg) is not None
    return {"changed": False, "exists": item is not None, "usable": logic.tag_usable(item, p["min_size_bytes"]),
            "registry_exists": registry_exists,
            "tag": item or {}, "image": "%s/%s:%s" % (logic.registry_endpoint(reg), p["repository"], p["tag"])}


# ---- projects --------------------------------------------------------------------------------
def find_project(client, name):
    return _find_by_name(client.list_all("/v2/projects", "projects", "projects"), name)


def ensure_project_resources(client, p, check_mode):
    name = p["project"]
    proj = find_project(client, name)
    changed = False
    created = False
    if proj is None:
        if p["state"] == "absent":
            return {"changed": False, "project": {}, "assigned": [], "diff": _diff({}, {})}
        body = {"name": name, "purpose": p["purpose"], "environment": p["environment"],
                "description": p.get("description") or ""}
        changed = created = True
        if check_mode:
            missing = logic.missing_urns([], p["resources"])
            return {"changed": True, "project": body, "assigned": missing, "created": True,
                    "diff": _diff({}, {"project": name, "resources": missing})}
        proj = client.request("POST", "/v2/projects", body=body, verb="create", kind="project", name=name,
                              probe=_wrap("project", lambda: find_project(client, name)))["project"]
    have = [r["urn"] for r in client.list_all("/v2/projects/%s/resources" % proj["id"], "resources", "project resources")]
    before = {"project": name, "resources": sorted(have)}
    if p["state"] == "absent":
        move = sorted(set(u for u in p["resources"] if u in have))
        if move:
            changed = True
            if not check_mode:
                client.request("POST", "/v2/projects/default/resources", body={"resources": move},
                               verb="move resources out of", kind="project", name=name)
        after = sorted(set(have) - set(move))
        return {"changed": changed, "project": proj, "unassigned": move, "diff": _diff(before, {"project": name, "resources": after})}
    missing = logic.missing_urns(have, p["resources"])
    failed = []
    if missing:
        changed = True
        if not check_mode:
            out = client.request("POST", "/v2/projects/%s/resources" % proj["id"], body={"resources": missing},
                                 verb="assign resources to", kind="project", name=name)
            failed = [r["urn"] for r in (out or {}).get("resources") or [] if r.get("status") not in ("ok", "assigned", "already_assigned")]
    if failed:
        raise DoError(failed_to("assign resources to", "project", name, "not assigned: %s" % ", ".join(failed)))
    after = {"project": name, "resources": sorted(set(have) | set(missing))}
    return {"changed": changed, "project": proj, "assigned": missing, "created": created, "diff": _diff(before, after)}
