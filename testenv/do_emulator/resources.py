"""The DigitalOcean emulator's resources: one handler per API operation it implements, routed by a table
compiled once. Handlers run under the state's lock and return (status, body[, content type]); an
``ApiError`` is DigitalOcean's error envelope, an unrouted operation of the spec ``NotImplementedOperation``.
"""

from __future__ import annotations

import base64
import os
import random
import secrets
import string
import sys
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
from standin_http import Routes  # noqa: E402  pylint: disable=wrong-import-position,import-error
from state import (ApiError, NotImplementedOperation, connection, not_found, now_iso,  # noqa: E402  pylint: disable=wrong-import-position,import-error
                   paginate, rand_str, urn_link)


class Emulator:
    """Routes one validated request to a handler. Handlers return (status, body, content_type)."""

    def __init__(self, state, spec):
        self.state = state
        self.spec = spec
        # the route table, compiled once: (method, anchored pattern) -> handler
        self.routes = Routes([
            ("GET", r"/v2/vpcs", self.vpc_list), ("POST", r"/v2/vpcs", self.vpc_create),
            ("GET", r"/v2/vpcs/(?P<id>[^/]+)", self.vpc_get), ("PATCH", r"/v2/vpcs/(?P<id>[^/]+)", self.vpc_update),
            ("PUT", r"/v2/vpcs/(?P<id>[^/]+)", self.vpc_update), ("DELETE", r"/v2/vpcs/(?P<id>[^/]+)", self.vpc_delete),
            ("GET", r"/v2/kubernetes/clusters", self.k8s_list), ("POST", r"/v2/kubernetes/clusters", self.k8s_create),
            ("GET", r"/v2/kubernetes/clusters/(?P<id>[^/]+)", self.k8s_get),
            ("PUT", r"/v2/kubernetes/clusters/(?P<id>[^/]+)", self.k8s_update),
            ("DELETE", r"/v2/kubernetes/clusters/(?P<id>[^/]+)", self.k8s_delete),
            ("GET", r"/v2/kubernetes/clusters/(?P<id>[^/]+)/kubeconfig", self.k8s_kubeconfig),
            ("GET", r"/v2/kubernetes/clusters/(?P<id>[^/]+)/node_pools", self.pool_list),
            ("POST", r"/v2/kubernetes/clusters/(?P<id>[^/]+)/node_pools", self.pool_add),
            ("GET", r"/v2/kubernetes/clusters/(?P<id>[^/]+)/node_pools/(?P<pid>[^/]+)", self.pool_get),
            ("PUT", r"/v2/kubernetes/clusters/(?P<id>[^/]+)/node_pools/(?P<pid>[^/]+)", self.pool_update),
            ("DELETE", r"/v2/kubernetes/clusters/(?P<id>[^/]+)/node_pools/(?P<pid>[^/]+)", self.pool_delete),
            ("GET", r"/v2/databases", self.db_list), ("POST", r"/v2/databases", self.db_create),
            ("GET", r"/v2/databases/(?P<id>[^/]+)", self.db_get), ("DELETE", r"/v2/databases/(?P<id>[^/]+)", self.db_delete),
            ("PUT", r"/v2/databases/(?P<id>[^/]+)/resize", self.db_resize),
            ("GET", r"/v2/databases/(?P<id>[^/]+)/firewall", self.fw_get),
            ("PUT", r"/v2/databases/(?P<id>[^/]+)/firewall", self.fw_put),
            ("GET", r"/v2/databases/(?P<id>[^/]+)/eviction_policy", self.ev_get),
            ("PUT", r"/v2/databases/(?P<id>[^/]+)/eviction_policy", self.ev_put),
            ("GET", r"/v2/databases/(?P<id>[^/]+)/pools", self.dbpool_list),
            ("POST", r"/v2/databases/(?P<id>[^/]+)/pools", self.dbpool_add),
            ("GET", r"/v2/databases/(?P<id>[^/]+)/pools/(?P<name>[^/]+)", self.dbpool_get),
            ("PUT", r"/v2/databases/(?P<id>[^/]+)/pools/(?P<name>[^/]+)", self.dbpool_update),
            ("DELETE", r"/v2/databases/(?P<id>[^/]+)/pools/(?P<name>[^/]+)", self.dbpool_delete),
            ("GET", r"/v2/spaces/keys", self.key_list), ("POST", r"/v2/spaces/keys", self.key_create),
            ("GET", r"/v2/spaces/keys/(?P<id>[^/]+)", self.key_get),
            ("PUT", r"/v2/spaces/keys/(?P<id>[^/]+)", self.key_update),
            ("PATCH", r"/v2/spaces/keys/(?P<id>[^/]+)", self.key_update),
            ("DELETE", r"/v2/spaces/keys/(?P<id>[^/]+)", self.key_delete),
            ("GET", r"/v2/registries", self.reg_list), ("POST", r"/v2/registries", self.reg_create),
            ("GET", r"/v2/registries/(?P<name>[^/]+)", self.reg_get),
            ("DELETE", r"/v2/registries/(?P<name>[^/]+)", self.reg_delete),
            ("GET", r"/v2/registry/docker-credentials", self.reg_creds),
            ("GET", r"/v2/registries/(?P<name>[^/]+)/docker-credentials", self.reg_creds),
            ("GET", r"/v2/registries/(?P<name>[^/]+)/repositoriesV2", self.repo_list),
            ("GET", r"/v2/registries/(?P<name>[^/]+)/repositories/(?P<repo>[^/]+)/tags", self.tag_list),
            ("GET", r"/v2/domains", self.dom_list), ("POST", r"/v2/domains", self.dom_create),
            ("GET", r"/v2/domains/(?P<name>[^/]+)", self.dom_get), ("DELETE", r"/v2/domains/(?P<name>[^/]+)", self.dom_delete),
            ("GET", r"/v2/domains/(?P<name>[^/]+)/records", self.rec_list),
            ("POST", r"/v2/domains/(?P<name>[^/]+)/records", self.rec_create),
            ("GET", r"/v2/domains/(?P<name>[^/]+)/records/(?P<rid>[^/]+)", self.rec_get),
            ("PATCH", r"/v2/domains/(?P<name>[^/]+)/records/(?P<rid>[^/]+)", self.rec_update),
            ("PUT", r"/v2/domains/(?P<name>[^/]+)/records/(?P<rid>[^/]+)", self.rec_update),
            ("DELETE", r"/v2/domains/(?P<name>[^/]+)/records/(?P<rid>[^/]+)", self.rec_delete),
            ("GET", r"/v2/projects", self.proj_list), ("POST", r"/v2/projects", self.proj_create),
            ("GET", r"/v2/projects/(?P<id>[^/]+)", self.proj_get),
            ("GET", r"/v2/projects/(?P<id>[^/]+)/resources", self.proj_res_list),
            ("POST", r"/v2/projects/(?P<id>[^/]+)/resources", self.proj_res_assign),
        ])

    # ---- dispatch -------------------------------------------------------------------------------
    def handle(self, method, path, query, body):
        handler, params = self.routes.match(method, path)
        if handler is None:
            raise NotImplementedOperation(method, path)
        with self.state.lock:
            return handler(query=query, body=body or {}, path=path, **params)

    # ---- VPC ------------------------------------------------------------------------------------
    def vpc_list(self, query, path, **_):
        return 200, paginate(list(self.state.vpcs.values()), query, "vpcs", path)

    def vpc_create(self, body, **_):
        for vpc in self.state.vpcs.values():
            if vpc["name"] == body["name"]:
                raise ApiError(409, "conflict", "A VPC with this name already exists.")
            if vpc["region"] == body["region"] and vpc["ip_range"] == body.get("ip_range"):
                raise ApiError(422, "unprocessable_entity", "This IP range overlaps another VPC in the region.")
        vid = str(uuid.uuid4())
        vpc = {"id": vid, "urn": "do:vpc:%s" % vid, "name": body["name"], "description": body.get("description", ""),
               "region": body["region"], "ip_range": body.get("ip_range") or "10.%d.0.0/20" % random.randint(100, 250),
               "default": False, "created_at": now_iso()}
        self.state.vpcs[vid] = vpc
        return 201, {"vpc": vpc}

    def default_vpc(self, region):
        """The region's default VPC (DigitalOcean creates one per region on first use)."""
        for vpc in self.state.vpcs.values():
            if vpc["region"] == region and vpc["default"]:
                return vpc["id"]
        vid = str(uuid.uuid4())
        self.state.vpcs[vid] = {"id": vid, "urn": "do:vpc:%s" % vid, "name": "default-%s" % region,
                                "description": "", "region": region, "ip_range": "10.110.0.0/20", "default": True,
                                "created_at": now_iso()}
        return vid

    def _vpc(self, vid):
        if vid not in self.state.vpcs:
            raise not_found("VPC")
        return self.state.vpcs[vid]

    def vpc_get(self, id, **_):  # pylint: disable=redefined-builtin
        return 200, {"vpc": self._vpc(id)}

    def vpc_update(self, id, body, **_):  # pylint: disable=redefined-builtin
        vpc = self._vpc(id)
        for key in ("name", "description", "default"):
            if key in body:
                vpc[key] = body[key]
        return 200, {"vpc": vpc}

    def vpc_delete(self, id, **_):  # pylint: disable=redefined-builtin
        self._vpc(id)
        users = [c["name"] for c in self.state.clusters.values() if c.get("vpc_uuid") == id]
        users += [d["name"] for d in self.state.databases.values() if d.get("private_network_uuid") == id]
        users += sorted(self.state.vpc_members.get(id, {}))  # deleted databases whose nodes are still going away
        if self.state.vpcs[id]["default"]:
            raise ApiError(403, "forbidden", "A default VPC cannot be deleted.")
        if users:
            raise ApiError(403, "forbidden", "Cannot delete VPC with members: %s" % ", ".join(users))
        del self.state.vpcs[id]
        self._unassign("do:vpc:%s" % id)
        return 204, None

    # ---- Kubernetes -----------------------------------------------------------------------------
    def k8s_list(self, query, path, **_):
        items = [self.state.cluster_view(c) for c in self.state.clusters.values()]
        return 200, paginate(items, query, "kubernetes_clusters", path)

    def k8s_create(self, body, **_):
        s = self.state
        for cluster in s.clusters.values():
            if cluster["name"] == body["name"]:
                raise ApiError(422, "unprocessable_entity", "a cluster with this name already exists")
        if body.get("vpc_uuid") and body["vpc_uuid"] not in s.vpcs:
            raise ApiError(422, "unprocessable_entity", "vpc_uuid does not exist")
        cid = str(uuid.uuid4())
        pools = {}
        for spec in body["node_pools"]:
            pool = s.make_pool(spec)
            pools[pool["id"]] = pool
        cluster = {
            "id": cid, "name": body["name"], "region": body["region"], "version": body["version"],
            "cluster_subnet": "10.244.0.0/16", "service_subnet": "10.245.0.0/16",
            "vpc_uuid": body.get("vpc_uuid") or self.default_vpc(body["region"]), "ipv4": "203.0.113.%d" % random.randint(2, 250),
            "endpoint": s.cluster_endpoint(cid), "tags": sorted(set(body.get("tags") or []) | {"k8s", "k8s:%s" % cid}),
            "maintenance_policy": {"start_time": "00:00", "duration": "4h0m0s", "day": "any"},
            "auto_upgrade": bool(body.get("auto_upgrade", False)), "surge_upgrade": bool(body.get("surge_upgrade", False)),
            "ha": bool(body.get("ha", False)), "registry_enabled": False,
            "created_at": now_iso(), "updated_at": now_iso(),
            "_pools": pools, "_ready_at": time.time() + s.delays.get("cluster", 0.0), "_token": rand_str(40),
        }
        s.clusters[cid] = cluster
        s.default_project_urn_add("do:kubernetes:%s" % cid)
        return 201, {"kubernetes_cluster": s.cluster_view(cluster)}

    def _cluster(self, cid):
        if cid not in self.state.clusters:
            raise not_found("cluster")
        return self.state.clusters[cid]

    def k8s_get(self, id, **_):  # pylint: disable=redefined-builtin
        return 200, {"kubernetes_cluster": self.state.cluster_view(self._cluster(id))}

    def k8s_update(self, id, body, **_):  # pylint: disable=redefined-builtin
        cluster = self._cluster(id)
        cluster["name"] = body["name"]
        for key in ("auto_upgrade", "surge_upgrade", "ha"):
            if key in body:
                cluster[key] = body[key]
        if "tags" in body:
            cluster["tags"] = sorted(set(body["tags"]) | {"k8s", "k8s:%s" % id})
        cluster["updated_at"] = now_iso()
        return 202, {"kubernetes_cluster": self.state.cluster_view(cluster)}

    def k8s_delete(self, id, **_):  # pylint: disable=redefined-builtin
        cluster = self._cluster(id)
        if not cluster.get("_gone_at"):
            # status "deleting" for the cluster_delete delay; it blocks its VPC's deletion meanwhile
            cluster["_gone_at"] = time.time() + self.state.delays.get("cluster_delete", 0.0)
            cluster["updated_at"] = now_iso()
        self.state.reap()
        self._unassign("do:kubernetes:%s" % id)
        for db in self.state.databases.values():
            db["_rules"] = [r for r in db["_rules"] if not (r["type"] == "k8s" and r["value"] == id)]
        return 204, None

    def k8s_kubeconfig(self, id, **_):  # pylint: disable=redefined-builtin
        cluster = self._cluster(id)
        if time.time() < cluster["_ready_at"]:
            raise not_found("kubeconfig (the cluster is still provisioning)")
        return 200, self.state.kubeconfig_text(cluster), "application/yaml"

    def _pool(self, cid, pid):
        cluster = self._cluster(cid)
        if pid not in cluster["_pools"]:
            raise not_found("node pool")
        return cluster, cluster["_pools"][pid]

    def pool_list(self, id, **_):  # pylint: disable=redefined-builtin
        cluster = self._cluster(id)
        ready = time.time() >= cluster["_ready_at"]
        return 200, {"node_pools": [self.state.pool_view(p, ready) for p in cluster["_pools"].values()]}

    def pool_add(self, id, body, **_):  # pylint: disable=redefined-builtin
        cluster = self._cluster(id)
        if any(p["name"] == body.get("name") for p in cluster["_pools"].values()):
            raise ApiError(422, "unprocessable_entity", "a node pool with this name already exists")
        pool = self.state.make_pool(body)
        cluster["_pools"][pool["id"]] = pool
        return 201, {"node_pool": self.state.pool_view(pool, time.time() >= cluster["_ready_at"])}

    def pool_get(self, id, pid, **_):  # pylint: disable=redefined-builtin
        cluster, pool = self._pool(id, pid)
        return 200, {"node_pool": self.state.pool_view(pool, time.time() >= cluster["_ready_at"])}

    def pool_update(self, id, pid, body, **_):  # pylint: disable=redefined-builtin
        cluster, pool = self._pool(id, pid)
        for key in ("name", "count", "tags", "labels", "taints", "auto_scale", "min_nodes", "max_nodes"):
            if key in body:
                pool[key] = body[key]
        if pool["auto_scale"]:
            pool["count"] = max(pool["min_nodes"], min(pool["count"], pool["max_nodes"] or pool["count"]))
        self.state.resize_nodes(pool)
        return 202, {"node_pool": self.state.pool_view(pool, time.time() >= cluster["_ready_at"])}

    def pool_delete(self, id, pid, **_):  # pylint: disable=redefined-builtin
        cluster, _pool = self._pool(id, pid)
        del cluster["_pools"][pid]
        return 204, None

    # ---- databases ------------------------------------------------------------------------------
    def db_list(self, query, **_):
        items = [self.state.db_view(d) for d in self.state.databases.values()]
        if query.get("tag_name"):
            items = [d for d in items if query["tag_name"] in (d.get("tags") or [])]
        return 200, {"databases": items}

    def db_create(self, body, **_):
        s = self.state
        for db in s.databases.values():
            if db["name"] == body["name"]:
                raise ApiError(422, "unprocessable_entity", "cluster name is already in use")
        if body.get("private_network_uuid") and body["private_network_uuid"] not in s.vpcs:
            raise ApiError(422, "unprocessable_entity", "private_network_uuid does not exist")
        did = str(uuid.uuid4())
        engine = body["engine"]
        password = rand_str(24)
        delay = s.delays.get(engine, s.delays.get("database", 0.0))
        db = {
            "id": did, "name": body["name"], "engine": engine, "version": body.get("version") or ("16" if engine == "pg" else "8"),
            "num_nodes": body["num_nodes"], "size": body["size"], "region": body["region"],
            "created_at": now_iso(), "private_network_uuid": body.get("private_network_uuid") or self.default_vpc(body["region"]),
            "tags": list(body.get("tags") or []), "db_names": ["defaultdb"] if engine == "pg" else None,
            "connection": connection(engine, body["name"], password),
            "private_connection": connection(engine, body["name"], password, private=True),
            "users": [{"name": "doadmin" if engine == "pg" else "default", "role": "primary", "password": password}],
            "maintenance_window": {"day": "tuesday", "hour": "03:00:00", "pending": False, "description": []},
            "project_id": body.get("project_id") or s.default_project,
            "_ready_at": time.time() + delay, "_password": password, "_rules": [], "_pools": {},
            "_eviction": "noeviction" if engine in ("valkey", "redis") else None,
        }
        if db["project_id"] not in s.projects:
            raise ApiError(422, "unprocessable_entity", "project_id %s does not exist" % db["project_id"])
        for rule in body.get("rules") or []:
            db["_rules"].append(self._rule(did, rule))
        s.databases[did] = db
        s.project_resources[db["project_id"]]["do:dbaas:%s" % did] = now_iso()
        return 201, {"database": s.db_view(db)}

    def _db(self, did):
        if did not in self.state.databases:
            raise not_found("database cluster")
        return self.state.databases[did]

    def db_get(self, id, **_):  # pylint: disable=redefined-builtin
        return 200, {"database": self.state.db_view(self._db(id))}

    def db_delete(self, id, **_):  # pylint: disable=redefined-builtin
        db = self._db(id)
        del self.state.databases[id]
        if db.get("private_network_uuid"):
            # the API forgets the cluster at once; its nodes leave the VPC over the database_delete delay
            until = time.time() + self.state.delays.get("database_delete", 0.0)
            self.state.vpc_members.setdefault(db["private_network_uuid"], {})[db["name"]] = until
            self.state.reap()
        self._unassign("do:dbaas:%s" % id)
        return 204, None

    def db_resize(self, id, body, **_):  # pylint: disable=redefined-builtin
        db = self._db(id)
        if time.time() < db["_ready_at"] or db.get("_resize_done_at"):
            raise ApiError(422, "unprocessable_entity", "the database cluster is %s; try again once it is online"
                           % self.state.db_view(db)["status"])
        db["size"] = body["size"]
        db["num_nodes"] = body["num_nodes"]
        delay = self.state.delays.get("database_resize", 0.0)
        if delay > 0:
            db["_resize_done_at"] = time.time() + delay
        return 202, None

    @staticmethod
    def _rule(did, rule):
        return {"uuid": rule.get("uuid") or str(uuid.uuid4()), "cluster_uuid": did, "type": rule["type"],
                "value": rule["value"], "created_at": now_iso(), "description": rule.get("description", "")}

    def fw_get(self, id, **_):  # pylint: disable=redefined-builtin
        return 200, {"rules": [dict(r) for r in self._db(id)["_rules"]]}

    def fw_put(self, id, body, **_):  # pylint: disable=redefined-builtin
        db = self._db(id)
        for rule in body.get("rules") or []:
            if rule["type"] == "k8s" and rule["value"] not in self.state.clusters:
                raise ApiError(422, "unprocessable_entity", "k8s cluster %s does not exist" % rule["value"])
        db["_rules"] = [self._rule(id, r) for r in body.get("rules") or []]
        return 204, None

    def ev_get(self, id, **_):  # pylint: disable=redefined-builtin
        db = self._db(id)
        if db["_eviction"] is None:
            raise not_found("eviction policy")
        return 200, {"eviction_policy": db["_eviction"]}

    def ev_put(self, id, body, **_):  # pylint: disable=redefined-builtin
        db = self._db(id)
        if db["_eviction"] is None:
            raise ApiError(422, "unprocessable_entity", "eviction policies apply to valkey/redis clusters only")
        db["_eviction"] = body["eviction_policy"]
        return 204, None

    def _pool_view(self, db, pool):
        out = dict(pool)
        out["connection"] = connection("pg", db["name"], db["_password"], database=pool["name"], port=25061)
        out["private_connection"] = connection("pg", db["name"], db["_password"], private=True, database=pool["name"], port=25061)
        return out

    def dbpool_list(self, id, **_):  # pylint: disable=redefined-builtin
        db = self._db(id)
        return 200, {"pools": [self._pool_view(db, p) for p in db["_pools"].values()]}

    def dbpool_add(self, id, body, **_):  # pylint: disable=redefined-builtin
        db = self._db(id)
        if db["engine"] != "pg":
            raise ApiError(422, "unprocessable_entity", "connection pools exist for PostgreSQL only")
        if body["name"] in db["_pools"]:
            raise ApiError(422, "unprocessable_entity", "a pool with this name already exists")
        pool = {"name": body["name"], "mode": body["mode"], "size": body["size"], "db": body["db"],
                "user": body.get("user") or "doadmin"}
        db["_pools"][body["name"]] = pool
        return 201, {"pool": self._pool_view(db, pool)}

    def _dbpool(self, did, name):
        db = self._db(did)
        if name not in db["_pools"]:
            raise not_found("connection pool")
        return db, db["_pools"][name]

    def dbpool_get(self, id, name, **_):  # pylint: disable=redefined-builtin
        db, pool = self._dbpool(id, name)
        return 200, {"pool": self._pool_view(db, pool)}

    def dbpool_update(self, id, name, body, **_):  # pylint: disable=redefined-builtin
        _db, pool = self._dbpool(id, name)
        pool.update({k: body[k] for k in ("mode", "size", "db", "user") if k in body})
        return 204, None

    def dbpool_delete(self, id, name, **_):  # pylint: disable=redefined-builtin
        db, _pool = self._dbpool(id, name)
        del db["_pools"][name]
        return 204, None

    # ---- Spaces keys ----------------------------------------------------------------------------
    @staticmethod
    def _key_view(key):
        return {k: v for k, v in key.items() if k != "secret_key"}

    def key_list(self, query, path, **_):
        items = [self._key_view(k) for k in self.state.keys.values()]
        if query.get("name"):
            items = [k for k in items if k["name"] == query["name"]]
        if query.get("bucket"):
            items = [k for k in items if any(g["bucket"] == query["bucket"] for g in k["grants"])]
        return 200, paginate(items, query, "keys", path)

    def key_create(self, body, **_):
        access = rand_str(20, string.ascii_uppercase + string.digits)
        key = {"name": body.get("name") or access, "grants": list(body.get("grants") or []), "access_key": access,
               "created_at": now_iso(), "secret_key": rand_str(43)}
        self.state.keys[access] = key
        return 201, {"key": dict(key)}

    def _key(self, access):
        if access not in self.state.keys:
            raise not_found("key")
        return self.state.keys[access]

    def key_get(self, id, **_):  # pylint: disable=redefined-builtin
        return 200, {"keys": [self._key_view(self._key(id))]}

    def key_update(self, id, body, **_):  # pylint: disable=redefined-builtin
        key = self._key(id)
        for field in ("name", "grants"):
            if field in body:
                key[field] = body[field]
        return 200, {"key": self._key_view(key)}

    def key_delete(self, id, **_):  # pylint: disable=redefined-builtin
        self._key(id)
        del self.state.keys[id]
        return 204, None

    # ---- registry -------------------------------------------------------------------------------
    def reg_list(self, **_):
        return 200, {"registries": list(self.state.registries.values())}

    def reg_create(self, body, **_):
        if body["name"] in self.state.registries:
            raise ApiError(409, "conflict", "registry name is already taken")
        reg = {"name": body["name"], "created_at": now_iso(), "region": body.get("region", "ams3"),
               "storage_usage_bytes": 0, "storage_usage_bytes_updated_at": now_iso(),
               "subscription": {"tier": {"slug": body.get("subscription_tier_slug", "basic")}, "created_at": now_iso(),
                                "updated_at": now_iso()}}
        self.state.registries[body["name"]] = reg
        pending = [t for t in self.state.pending_tags if t["registry"] == body["name"]]
        self.state.pending_tags = [t for t in self.state.pending_tags if t["registry"] != body["name"]]
        for tag in pending:
            self._store_tag(tag)
        return 201, {"registry": {k: v for k, v in reg.items() if k != "subscription"}}

    def _reg(self, name):
        if name not in self.state.registries:
            raise not_found("registry")
        return self.state.registries[name]

    def reg_get(self, name, **_):
        return 200, {"registry": {k: v for k, v in self._reg(name).items() if k != "subscription"}}

    def reg_delete(self, name, **_):
        self._reg(name)
        del self.state.registries[name]
        for key in [k for k in self.state.repos if k[0] == name]:
            del self.state.repos[key]
        return 204, None

    def reg_creds(self, query, name=None, **_):
        if name is not None:
            self._reg(name)
        elif not self.state.registries:
            raise not_found("registry")
        mode = "rw" if query.get("read_write") == "true" else "ro"
        token = "%s-%s" % (mode, rand_str(32))
        auth = base64.b64encode(("%s:%s" % (token, token)).encode()).decode()
        return 200, {"auths": {"registry.digitalocean.com": {"auth": auth}}}

    def repo_list(self, name, query, path, **_):
        self._reg(name)
        items = []
        for (reg, repo), tags in sorted(self.state.repos.items()):
            if reg != name or not tags:
                continue
            latest = max(tags.values(), key=lambda t: t["updated_at"])
            items.append({"registry_name": reg, "name": repo, "tag_count": len(tags), "manifest_count": len(tags),
                          "latest_manifest": {"registry_name": reg, "repository": repo, "digest": latest["manifest_digest"],
                                              "compressed_size_bytes": latest["compressed_size_bytes"],
                                              "size_bytes": latest["size_bytes"], "updated_at": latest["updated_at"],
                                              "tags": [latest["tag"]], "blobs": []}})
        query = {k: v for k, v in query.items() if k != "page_token"}
        return 200, paginate(items, query, "repositories", path)

    def tag_list(self, name, repo, query, path, **_):
        self._reg(name)
        tags = self.state.repos.get((name, repo))
        if tags is None:
            raise not_found("repository")
        return 200, paginate(sorted(tags.values(), key=lambda t: t["tag"]), query, "tags", path)

    def push_tag(self, body):
        """Record an image tag; with "when_created": true a push to a missing registry waits for it."""
        with self.state.lock:
            if body["registry"] not in self.state.registries and body.get("when_created"):
                self.state.pending_tags.append(dict(body))
                return
            self._store_tag(body)

    def _store_tag(self, body):
        # the caller holds the state lock
        reg, repo, tag = body["registry"], body["repository"], body["tag"]
        self._reg(reg)
        size = int(body.get("size_bytes", 1024))
        self.state.repos.setdefault((reg, repo), {})[tag] = {
            "registry_name": reg, "repository": repo, "tag": tag,
            "manifest_digest": "sha256:" + secrets.token_hex(32), "compressed_size_bytes": size,
            "size_bytes": size, "updated_at": now_iso()}
        self.state.registries[reg]["storage_usage_bytes"] += size

    # ---- domains (DNS) --------------------------------------------------------------------------
    RECORD_FIELDS = ("type", "name", "data", "priority", "port", "ttl", "weight", "flags", "tag")

    def _record(self, domain, body):
        rec = {"id": next(self.state.record_ids), "type": body["type"], "name": body.get("name") or "@",
               "data": body.get("data", ""), "priority": body.get("priority"), "port": body.get("port"),
               "ttl": body.get("ttl") or 1800, "weight": body.get("weight"), "flags": body.get("flags"),
               "tag": body.get("tag")}
        domain["_records"][rec["id"]] = rec
        return rec

    @staticmethod
    def _zone_file(domain):
        lines = ["$ORIGIN %s." % domain["name"], "$TTL %d" % domain["ttl"]]
        for rec in domain["_records"].values():
            owner = domain["name"] + "." if rec["name"] == "@" else "%s.%s." % (rec["name"], domain["name"])
            lines.append("%s %d IN %s %s" % (owner, rec["ttl"], rec["type"], rec["data"]))
        return "\n".join(lines) + "\n"

    def _dom_view(self, domain):
        return {"name": domain["name"], "ttl": domain["ttl"], "zone_file": self._zone_file(domain)}

    def _dom(self, name):
        if name not in self.state.domains:
            raise not_found("domain")
        return self.state.domains[name]

    def dom_list(self, query, path, **_):
        items = [self._dom_view(d) for _n, d in sorted(self.state.domains.items())]
        return 200, paginate(items, query, "domains", path)

    def dom_create(self, body, **_):
        name = body["name"].lower().rstrip(".")
        if name in self.state.domains:
            raise ApiError(422, "unprocessable_entity", "Name already exists.")
        domain = {"name": name, "ttl": 1800, "_records": {}}
        self.state.domains[name] = domain
        self._record(domain, {"type": "SOA", "name": "@", "data": "1800", "ttl": 1800})
        for i in (1, 2, 3):
            self._record(domain, {"type": "NS", "name": "@", "data": "ns%d.digitalocean.com" % i, "ttl": 1800})
        if body.get("ip_address"):
            self._record(domain, {"type": "A", "name": "@", "data": body["ip_address"], "ttl": 1800})
        # a new domain's zone file is not generated yet, as DigitalOcean answers
        return 201, {"domain": {"name": name, "ttl": 1800, "zone_file": None}}

    def dom_get(self, name, **_):
        return 200, {"domain": self._dom_view(self._dom(name))}

    def dom_delete(self, name, **_):
        self._dom(name)
        del self.state.domains[name]
        return 204, None

    def rec_list(self, name, query, path, **_):
        domain = self._dom(name)
        items = sorted(domain["_records"].values(), key=lambda r: r["id"])
        if query.get("type"):
            items = [r for r in items if r["type"] == query["type"]]
        if query.get("name"):  # the fully qualified name: "www.example.com", or the domain for "@"
            want = query["name"].rstrip(".").lower()
            items = [r for r in items if (name if r["name"] == "@" else "%s.%s" % (r["name"], name)) == want]
        return 200, paginate([dict(r) for r in items], query, "domain_records", path)

    def rec_create(self, name, body, **_):
        domain = self._dom(name)
        if body.get("type") == "CNAME" and any(r["name"] == body.get("name") for r in domain["_records"].values()):
            raise ApiError(422, "unprocessable_entity", "CNAME records cannot share a name with other records.")
        return 201, {"domain_record": dict(self._record(domain, body))}

    def _rec(self, name, rid):
        domain = self._dom(name)
        try:
            rec = domain["_records"][int(rid)]
        except (KeyError, ValueError):
            raise not_found("domain record")
        return domain, rec

    def rec_get(self, name, rid, **_):
        return 200, {"domain_record": dict(self._rec(name, rid)[1])}

    def rec_update(self, name, rid, body, **_):
        _domain, rec = self._rec(name, rid)
        for key in self.RECORD_FIELDS:
            if key in body:
                rec[key] = body[key]
        return 200, {"domain_record": dict(rec)}

    def rec_delete(self, name, rid, **_):
        domain, rec = self._rec(name, rid)
        del domain["_records"][rec["id"]]
        return 204, None

    # ---- projects -------------------------------------------------------------------------------
    def proj_list(self, query, path, **_):
        return 200, paginate(list(self.state.projects.values()), query, "projects", path)

    def proj_create(self, body, **_):
        if any(p["name"] == body.get("name") for p in self.state.projects.values()):
            raise ApiError(409, "conflict", "a project with this name already exists")
        pid = str(uuid.uuid4())
        proj = {"id": pid, "owner_uuid": str(uuid.uuid4()), "owner_id": 1, "name": body.get("name", ""),
                "description": body.get("description", ""), "purpose": body.get("purpose", ""),
                "environment": body.get("environment", "Development"), "created_at": now_iso(),
                "updated_at": now_iso(), "is_default": False}
        self.state.projects[pid] = proj
        self.state.project_resources[pid] = {}
        return 201, {"project": proj}

    def _proj(self, pid):
        if pid == "default":
            pid = next(p["id"] for p in self.state.projects.values() if p["is_default"])
        if pid not in self.state.projects:
            raise not_found("project")
        return pid

    def proj_get(self, id, **_):  # pylint: disable=redefined-builtin
        return 200, {"project": self.state.projects[self._proj(id)]}

    def _exists(self, urn):
        kind, _, ident = urn[3:].partition(":")
        table = {"vpc": self.state.vpcs, "kubernetes": self.state.clusters, "dbaas": self.state.databases}
        if kind in table:
            return ident in table[kind]
        return True

    def _unassign(self, urn):
        for res in self.state.project_resources.values():
            res.pop(urn, None)

    def proj_res_list(self, id, query, path, **_):  # pylint: disable=redefined-builtin
        pid = self._proj(id)
        items = [{"urn": u, "assigned_at": t, "links": {"self": urn_link(u)}, "status": "ok"}
                 for u, t in sorted(self.state.project_resources[pid].items())]
        return 200, paginate(items, query, "resources", path)

    def proj_res_assign(self, id, body, **_):  # pylint: disable=redefined-builtin
        pid = self._proj(id)
        out = []
        for urn in body.get("resources") or []:
            if not self._exists(urn):
                out.append({"urn": urn, "assigned_at": now_iso(), "links": {"self": urn_link(urn)}, "status": "not_found"})
                continue
            self._unassign(urn)
            self.state.project_resources[pid][urn] = now_iso()
            out.append({"urn": urn, "assigned_at": now_iso(), "links": {"self": urn_link(urn)}, "status": "assigned"})
        return 200, {"resources": out}
