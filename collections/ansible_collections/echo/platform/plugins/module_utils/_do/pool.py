# -*- coding: utf-8 -*-
# Copyright: echo.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection pools of a managed database cluster: find the cluster, read, plan
(``logic.pool_changes``), create, update or delete.

Private to the echo.platform collection. Results never carry the pool's connection secrets unless
``return_connection`` asks for them.
"""

from __future__ import annotations

from ansible_collections.echo.platform.plugins.module_utils._common.errors import DoError, failed_to
from ansible_collections.echo.platform.plugins.module_utils._do import logic
from ansible_collections.echo.platform.plugins.module_utils._do.common import diff
from ansible_collections.echo.platform.plugins.module_utils._do.database import connection_details, resolve_database

# The DigitalOcean API paths of this resource, named once.
POOLS_PATH = "/v2/databases/%s/pools"
POOL_PATH = "/v2/databases/%s/pools/%s"
KIND = "connection pool"
FIELDS = ("name", "mode", "size", "db", "user")


def read_pool(client, db, name):
    return (client.get(POOL_PATH % (db["id"], name), KIND, name) or {}).get("pool")


def ensure_pool(client, p, check_mode):
    name = p["name"]
    db = resolve_database(client, p["cluster"])
    if db is None:
        if p["state"] == "absent":
            return {"changed": False, "pool": {}, "diff": diff({}, {})}
        if check_mode:
            predicted = dict((k, p[k]) for k in FIELDS)
            return {"changed": True, "pool": predicted, "diff": diff({}, predicted),
                    "warnings": ["database cluster %s does not exist yet (check mode)" % p["cluster"]]}
        raise DoError(failed_to("create", KIND, name, "database cluster %s not found" % p["cluster"]))
    cur = read_pool(client, db, name)
    before = logic.redact_connection(cur) if cur else {}
    if p["state"] == "absent":
        if cur is None:
            return {"changed": False, "pool": {}, "diff": diff({}, {})}
        if not check_mode:
            client.delete(POOL_PATH % (db["id"], name), KIND, name)
        return {"changed": True, "pool": {}, "diff": diff(before, {})}
    desired = dict((k, p[k]) for k in FIELDS if p.get(k) is not None)
    changed = False
    if cur is None:
        changed = True
        if check_mode:
            return {"changed": True, "pool": desired, "diff": diff({}, desired)}
        cur = client.request("POST", POOLS_PATH % db["id"], body=desired, verb="create", kind=KIND, name=name,
                             probe=lambda: client.get(POOL_PATH % (db["id"], name), KIND, name))["pool"]
    else:
        body = logic.pool_changes(cur, desired)
        if body:
            changed = True
            if not check_mode:
                client.request("PUT", POOL_PATH % (db["id"], name), body=body, verb="update", kind=KIND, name=name)
                cur = read_pool(client, db, name) or dict(cur, **body)
            else:
                cur = dict(cur, **body)
    res = logic.redact_connection(cur)
    result = {"changed": changed, "pool": res, "diff": diff(before, res)}
    if p.get("return_connection"):
        result["connection"] = connection_details(cur)
    return result
