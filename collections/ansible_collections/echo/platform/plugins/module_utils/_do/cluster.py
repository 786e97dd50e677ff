# -*- coding: utf-8 -*-
# Copyright: echo.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes clusters and their node pools: find, read, plan (``logic``), apply, wait.

Private to the echo.platform collection. A cluster is never recreated: fields that cannot change
in place fail with a message, a version drift is a warning. The kubeconfig is fetched here (an
API call) but written by the module: this layer does no file I/O.
"""

from __future__ import annotations

import time

from ansible_collections.echo.platform.plugins.module_utils._common.errors import DoError, failed_to
from ansible_collections.echo.platform.plugins.module_utils._common.waiter import wait_for
from ansible_collections.echo.platform.plugins.module_utils._do import logic
from ansible_collections.echo.platform.plugins.module_utils._do.common import POLL_INTERVAL, diff, find_by_name, wrap_probe

# The DigitalOcean API paths of this resource, named once.
CLUSTERS_PATH = "/v2/kubernetes/clusters"
CLUSTER_PATH = "/v2/kubernetes/clusters/%s"
NODE_POOLS_PATH = "/v2/kubernetes/clusters/%s/node_pools"
NODE_POOL_PATH = "/v2/kubernetes/clusters/%s/node_pools/%s"
KIND = "Kubernetes cluster"


# ---- find and read ---------------------------------------------------------------------------
def find_cluster(client, name):
    return find_by_name(client.list_all(CLUSTERS_PATH, "kubernetes_clusters", KIND), name)


def read_cluster(client, cid, name):
    out = client.get(CLUSTER_PATH % cid, KIND, name)
    return (out or {}).get("kubernetes_cluster")


def find_node_pool(client, cluster_id, cluster_name, pool_name):
    listing = client.get(NODE_POOLS_PATH % cluster_id, "node pools", cluster_name) or {}
    return find_by_name(listing.get("node_pools") or [], pool_name)


def cluster_result(cluster):
    if not cluster:
        return {}
    out = logic.normalize_cluster(cluster)
    out.update({"id": cluster.get("id"), "endpoint": cluster.get("endpoint"), "ipv4": cluster.get("ipv4"),
                "status": (cluster.get("status") or {}).get("state"), "urn": logic.urn("kubernetes", cluster.get("id"))})
    return out


# ---- plan (pure) -----------------------------------------------------------------------------
def _create_body(p):
    body = {"name": p["name"], "region": p["region"], "version": p["version"],
            "node_pools": [logic.desired_node_pool_body(pool) for pool in p["node_pools"]],
            "tags": sorted(p.get("tags") or [])}
    if p.get("vpc_uuid"):
        body["vpc_uuid"] = p["vpc_uuid"]
    for key in ("auto_upgrade", "surge_upgrade", "ha"):
        if p.get(key) is not None:
            body[key] = p[key]
    return body


def _cluster_update(cur, p, warnings):
    """The update body for the cluster itself ({} when none); a version drift is only a warning."""
    name = p["name"]
    update, immutable = logic.cluster_changes(cur, p)
    if "version" in immutable:
        warnings.append("Kubernetes cluster %s runs %s, the inventory asks for %s; upgrades are not done by this "
                        "module (use the DigitalOcean upgrade API or console)" % (name, cur.get("version"), p["version"]))
        immutable.remove("version")
    if immutable:
        raise DoError(failed_to("update", KIND, name, "%s cannot change on an existing cluster "
                                "(the cluster is never recreated); fix the inventory" % ", ".join(immutable)))
    return update


def _node_pool_plan(cur, p):
    plan = logic.plan_node_pools(cur.get("node_pools"), p["node_pools"], purge=p.get("purge_node_pools", False))
    if plan["immutable"]:
        raise DoError(failed_to("update", "node pools of Kubernetes cluster", p["name"], "the droplet size of pool(s) %s "
                                "cannot change in place; add a pool with a new name and remove the old one"
                                % ", ".join(n for n, _f in plan["immutable"])))
    return plan


# ---- apply -----------------------------------------------------------------------------------
def ensure_cluster(client, p, check_mode, sleep=time.sleep, poll_interval=POLL_INTERVAL):
    """The result dict; with ``kubeconfig_path`` set and the cluster running, ``kubeconfig`` holds the
    fetched text for the module to write (and to drop from what it returns)."""
    name = p["name"]
    cur = find_cluster(client, name)
    deleting = (cur or {}).get("status", {}).get("state") in ("deleting", "deleted")
    if p["state"] == "absent":
        if cur is None or deleting:
            # a cluster already being deleted is absent as far as this run is concerned
            return {"changed": False, "cluster": {}, "diff": diff({}, {})}
        if not check_mode:
            client.delete(CLUSTER_PATH % cur["id"], KIND, name)
        return {"changed": True, "cluster": {}, "diff": diff(cluster_result(cur), {})}
    if not p.get("node_pools"):
        raise DoError(failed_to("create", KIND, name, "node_pools needs at least one pool"))
    if deleting:
        raise DoError(failed_to("create", KIND, name, "a cluster of this name is still being deleted; "
                                "run again once the deletion has finished"))
    warnings = []
    before = cluster_result(cur)
    if cur is None:
        body = _create_body(p)
        if check_mode:
            res = cluster_result(dict(body, status={"state": "provisioning"}, id=None, endpoint=None))
            return {"changed": True, "cluster": res, "id": None, "endpoint": None, "status": "provisioning",
                    "diff": diff({}, res)}
        cur = client.request("POST", CLUSTERS_PATH, body=body, verb="create", kind=KIND, name=name,
                             probe=wrap_probe("kubernetes_cluster", lambda: find_cluster(client, name)))["kubernetes_cluster"]
        changed = True
    else:
        changed, cur = _update_cluster(client, cur, p, check_mode, warnings)
    if p.get("wait") and not check_mode and not logic.cluster_running(cur):
        cur = wait_cluster(client, cur, p["wait_timeout"], sleep=sleep, interval=poll_interval)
    result = {"changed": changed, "warnings": warnings}
    if p.get("kubeconfig_path"):
        if logic.cluster_running(cur):
            result["kubeconfig"] = client.kubeconfig(cur["id"], name)
        else:
            warnings.append("Kubernetes cluster %s is not running yet; kubeconfig not written (use wait=true)" % name)
    res = cluster_result(cur)
    result.update({"cluster": res, "id": res.get("id"), "endpoint": res.get("endpoint"), "status": res.get("status"),
                   "diff": diff(before, res)})
    return result


def _update_cluster(client, cur, p, check_mode, warnings):
    """Update the cluster in place, then its node pools: (changed, the cluster as it is now)."""
    changed = False
    update = _cluster_update(cur, p, warnings)
    if update:
        changed = True
        if not check_mode:
            cur = client.request("PUT", CLUSTER_PATH % cur["id"], body=update, verb="update", kind=KIND,
                                 name=p["name"])["kubernetes_cluster"]
        else:
            cur = dict(cur, **update)
    plan = _node_pool_plan(cur, p)  # planned on the updated cluster, as the API returned it
    pools = _apply_node_pools(client, cur, p["name"], plan, check_mode)
    changed = changed or bool(plan["create"] or plan["update"] or plan["delete"])
    return changed, dict(cur, node_pools=list(pools.values()))


def _apply_node_pools(client, cur, name, plan, check_mode):
    """Create, update and delete node pools as planned: {pool name: pool} afterwards."""
    pools = dict((pool.get("name"), pool) for pool in cur.get("node_pools") or [])
    for body in plan["create"]:
        if check_mode:
            pools[body["name"]] = body
            continue
        pools[body["name"]] = client.request(
            "POST", NODE_POOLS_PATH % cur["id"], body=body, verb="create", kind="node pool", name=body["name"],
            probe=wrap_probe("node_pool", lambda b=body: find_node_pool(client, cur["id"], name, b["name"])))["node_pool"]
    for pool_id, pool_name, body in plan["update"]:
        if check_mode:
            pools[pool_name] = dict(pools[pool_name], **body)
            continue
        pools[pool_name] = client.request("PUT", NODE_POOL_PATH % (cur["id"], pool_id), body=body, verb="update",
                                          kind="node pool", name=pool_name)["node_pool"]
    for pool_id, pool_name in plan["delete"]:
        if not check_mode:
            client.delete(NODE_POOL_PATH % (cur["id"], pool_id), "node pool", pool_name)
        pools.pop(pool_name, None)
    return pools


# ---- wait ------------------------------------------------------------------------------------
def wait_cluster(client, cluster, timeout, sleep=time.sleep, clock=time.monotonic, interval=POLL_INTERVAL):
    return wait_for(lambda: read_cluster(client, cluster["id"], cluster["name"]), logic.cluster_running, timeout,
                    interval=interval, what="Kubernetes cluster %s to run" % cluster["name"],
                    sleep=sleep, clock=clock, failed=logic.cluster_failed)
