"""The DigitalOcean emulator's state: every emulated resource, the views the API shows of it, and the
helpers its answers share (timestamps, errors, pagination, absolute links).

Lifecycles are computed on read from creation times and the configured delays, so nothing runs in the
background: a cluster is ``provisioning`` until its delay has passed, a deleted one ``deleting`` until
``reap`` removes it.
"""

from __future__ import annotations

import datetime
import os
import random
import re
import secrets
import string
import threading
import time
import uuid

RATE_LIMIT = 5000


def now_iso(ts=None):
    ts = time.time() if ts is None else ts
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def rand_str(n, alphabet=string.ascii_letters + string.digits):
    return "".join(secrets.choice(alphabet) for _ in range(n))


class ApiError(Exception):
    def __init__(self, status, ident, message, headers=None):
        super().__init__(message)
        self.status = status
        self.ident = ident
        self.message = message
        self.headers = headers or {}


class NotImplementedOperation(Exception):
    """An operation of the spec that the emulator does not implement (answered 501, recorded)."""

    def __init__(self, method, path):
        super().__init__("the emulator does not implement %s %s (an operation of the spec)" % (method, path))


def not_found(what="resource"):
    return ApiError(404, "not_found", "The %s you requested could not be found." % what)


class State:
    """All emulated resources. Lifecycles are computed on read from creation times and delays."""

    def __init__(self, kubeconfig_path=None, delays=None):
        self.lock = threading.RLock()
        self.kubeconfig_path = kubeconfig_path
        self.delays = {"cluster": 0.0, "pg": 0.0, "valkey": 0.0, "database": 0.0, "node_pool": 0.0,
                       "cluster_delete": 0.0, "database_delete": 0.0, "database_resize": 0.0, "node_delete": 0.0}
        self.delays.update(delays or {})
        self.reset()

    def reset(self):
        with self.lock:
            self.vpcs = {}
            self.clusters = {}
            self.databases = {}
            self.keys = {}
            self.registries = {}
            self.repos = {}  # (registry, repo) -> {tag: {...}}
            self.pending_tags = []  # pushes for a registry that does not exist yet (an app CI waiting for it)
            default_id = str(uuid.uuid4())
            self.domains = {}  # name -> {"name", "ttl", "_records": {id: record}}
            self.record_ids = iter(range(28448000, 10**9))
            self.projects = {default_id: {
                "id": default_id, "owner_uuid": str(uuid.uuid4()), "owner_id": 1, "name": "first-project",
                "description": "", "purpose": "Just trying out DigitalOcean", "environment": "Development",
                "created_at": now_iso(), "updated_at": now_iso(), "is_default": True}}
            self.project_resources = {default_id: {}}
            self.default_project = default_id
            self.vpc_members = {}  # vpc id -> {member name: time it stops counting} (deleted databases linger)
            self.faults = []
            self.rng = random.Random(0)
            self.stats = {"total": 0, "by_method": {}, "by_operation": {}, "faults_injected": 0}
            self.violations = []
            self.rate_remaining = RATE_LIMIT

    def reap(self, now=None):
        """Finish the deletes whose time has come (called under the lock before every request)."""
        now = time.time() if now is None else now
        for cid in [c for c, cl in self.clusters.items() if cl.get("_gone_at") and now >= cl["_gone_at"]]:
            del self.clusters[cid]
        for cluster in self.clusters.values():
            for pool in cluster["_pools"].values():
                pool["_nodes"] = [n for n in pool["_nodes"] if not (n.get("_gone_at") and now >= n["_gone_at"])]
        for members in self.vpc_members.values():
            for name in [m for m, until in members.items() if now >= until]:
                del members[name]
        for db in self.databases.values():
            if db.get("_resize_done_at") and now >= db["_resize_done_at"]:
                db["_resize_done_at"] = None

    def default_project_urn_add(self, urn):
        self.project_resources[self.default_project][urn] = now_iso()

    def dump(self):
        with self.lock:
            return {
                "vpcs": list(self.vpcs.values()),
                "kubernetes_clusters": [self.cluster_view(c) for c in self.clusters.values()],
                "databases": [self.db_view(d) for d in self.databases.values()],
                "spaces_keys": [dict(k, secret_key="(hidden)") for k in self.keys.values()],
                "registries": list(self.registries.values()),
                "domains": {n: sorted(d["_records"].values(), key=lambda r: r["id"]) for n, d in self.domains.items()},
                "projects": list(self.projects.values()),
                "project_resources": {p: sorted(r) for p, r in self.project_resources.items()},
                "delays": self.delays,
            }

    # ---- kubernetes -----------------------------------------------------------------------------
    def kubeconfig_text(self, cluster):
        path = self.kubeconfig_path
        if path and os.path.exists(path):
            with open(path, encoding="utf-8") as handle:
                return handle.read()
        name = "do-%s-%s" % (cluster["region"], cluster["name"])
        return (
            "apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    server: %s\n  name: %s\n"
            "contexts:\n- context:\n    cluster: %s\n    user: %s-admin\n  name: %s\ncurrent-context: %s\n"
            "users:\n- name: %s-admin\n  user:\n    token: %s\n"
            % (cluster["endpoint"], name, name, name, name, name, name, cluster["_token"]))

    def cluster_endpoint(self, cid):
        path = self.kubeconfig_path
        if path and os.path.exists(path):
            with open(path, encoding="utf-8") as handle:
                match = re.search(r"server:\s*(\S+)", handle.read())
            if match:
                return match.group(1)
        return "https://%s.k8s.ondigitalocean.com" % cid

    def cluster_view(self, cluster):
        out = {k: v for k, v in cluster.items() if not k.startswith("_")}
        ready = time.time() >= cluster["_ready_at"]
        if cluster.get("_gone_at"):
            out["status"] = {"state": "deleting", "message": "deleting"}
        else:
            out["status"] = {"state": "running" if ready else "provisioning",
                             "message": "" if ready else "provisioning"}
        out["node_pools"] = [self.pool_view(p, ready) for p in cluster["_pools"].values()]
        if not ready:
            out["ipv4"] = ""
        return out

    @staticmethod
    def node_state(node, ready, now):
        if node.get("_gone_at"):
            # removed by a resize: drained first, then its droplet is deleted
            return "draining" if now < node["_drain_until"] else "deleting"
        return "running" if ready and now >= node["_ready_at"] else "provisioning"

    def pool_view(self, pool, ready):
        out = {k: v for k, v in pool.items() if not k.startswith("_")}
        now = time.time()
        out["nodes"] = [{"id": n["id"], "name": n["name"], "status": {"state": self.node_state(n, ready, now)},
                         "droplet_id": n["droplet_id"], "created_at": n["created_at"], "updated_at": n["updated_at"]}
                        for n in pool["_nodes"]]
        return out

    def make_pool(self, spec):
        pid = str(uuid.uuid4())
        count = spec.get("count")
        if count is None:
            count = spec.get("min_nodes", 1) if spec.get("auto_scale") else 1
        pool = {
            "id": pid, "name": spec.get("name") or "pool-%s" % rand_str(5, string.ascii_lowercase),
            "size": spec.get("size", "s-1vcpu-2gb"), "count": count, "tags": list(spec.get("tags") or []),
            "labels": spec.get("labels"), "taints": list(spec.get("taints") or []),
            "auto_scale": bool(spec.get("auto_scale", False)),
            "min_nodes": spec.get("min_nodes", 0), "max_nodes": spec.get("max_nodes", 0),
            "_nodes": [],
        }
        self.resize_nodes(pool)
        return pool

    def resize_nodes(self, pool):
        """Bring the pool's nodes towards ``count``, the way DigitalOcean does it over time: new nodes
        are provisioning for the node_pool delay, removed ones are draining then deleting for the
        node_delete delay before they leave the ``nodes`` list."""
        now = time.time()
        live = [n for n in pool["_nodes"] if not n.get("_gone_at")]
        while len(live) < pool["count"]:
            node = {"id": str(uuid.uuid4()), "name": "%s-%s" % (pool["name"], rand_str(5, string.ascii_lowercase)),
                    "droplet_id": str(random.randint(10000000, 99999999)), "created_at": now_iso(now),
                    "updated_at": now_iso(now), "_ready_at": now + self.delays.get("node_pool", 0.0)}
            pool["_nodes"].append(node)
            live.append(node)
        delay = self.delays.get("node_delete", 0.0)
        for node in live[pool["count"]:]:  # the newest nodes go first
            node["_gone_at"] = now + delay
            node["_drain_until"] = now + delay / 2.0
            node["updated_at"] = now_iso(now)
        if delay <= 0:
            pool["_nodes"] = [n for n in pool["_nodes"] if not n.get("_gone_at")]

    # ---- databases ------------------------------------------------------------------------------
    def db_view(self, db):
        out = {k: v for k, v in db.items() if not k.startswith("_")}
        online = time.time() >= db["_ready_at"]
        out["status"] = ("resizing" if db.get("_resize_done_at") else "online") if online else "creating"
        out["rules"] = [dict(r) for r in db["_rules"]]
        return out


def connection(engine, name, password, private=False, database=None, port=None):
    host = "%s%s.db.ondigitalocean.com" % ("private-" if private else "", name)
    if engine == "pg":
        database = database or "defaultdb"
        port = port or 25060
        uri = "postgresql://doadmin:%s@%s:%d/%s?sslmode=require" % (password, host, port, database)
        return {"uri": uri, "database": database, "host": host, "port": port, "user": "doadmin", "password": password, "ssl": True}
    port = port or 25061
    uri = "rediss://default:%s@%s:%d" % (password, host, port)
    return {"uri": uri, "database": "", "host": host, "port": port, "user": "default", "password": password, "ssl": True}


API_BASE = "https://api.digitalocean.com"

URN_PATHS = {"vpc": "/v2/vpcs/%s", "kubernetes": "/v2/kubernetes/clusters/%s", "dbaas": "/v2/databases/%s",
             "droplet": "/v2/droplets/%s", "domain": "/v2/domains/%s", "space": "/v2/spaces/%s"}


def urn_link(urn):
    """Absolute API URI of a resource named by its URN (do:kind:id)."""
    kind, _, ident = urn[3:].partition(":")
    return API_BASE + (URN_PATHS.get(kind, "/v2/" + kind + "s/%s") % ident)


def paginate(items, query, key, path):
    try:
        per_page = int(query.get("per_page", 20))
        page = int(query.get("page", 1))
    except ValueError:
        per_page, page = 20, 1
    total = len(items)
    start = (page - 1) * per_page
    body = {key: items[start:start + per_page], "links": {}, "meta": {"total": total}}
    last = max(1, (total + per_page - 1) // per_page)
    if page < last:
        base = API_BASE + path
        body["links"] = {"pages": {"next": "%s?page=%d&per_page=%d" % (base, page + 1, per_page),
                                   "last": "%s?page=%d&per_page=%d" % (base, last, per_page)}}
    return body
