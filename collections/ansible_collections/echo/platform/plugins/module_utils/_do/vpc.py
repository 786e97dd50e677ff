# -*- coding: utf-8 -*-
# Copyright: echo.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""VPCs: find, plan (``logic.vpc_changes``), create, update or delete.

Private to the echo.platform collection.
"""

from __future__ import annotations

from ansible_collections.echo.platform.plugins.module_utils._common.errors import DoError, failed_to
from ansible_collections.echo.platform.plugins.module_utils._do import logic
from ansible_collections.echo.platform.plugins.module_utils._do.common import diff, find_by_name, wrap_probe

# The DigitalOcean API paths of this resource, named once.
VPCS_PATH = "/v2/vpcs"
VPC_PATH = "/v2/vpcs/%s"
KIND = "VPC"


def find_vpc(client, name):
    return find_by_name(client.list_all(VPCS_PATH, "vpcs", KIND), name)


def _create_body(p):
    body = {"name": p["name"], "region": p["region"]}
    if p.get("ip_range"):
        body["ip_range"] = p["ip_range"]
    if p.get("description") is not None:
        body["description"] = p["description"]
    return body


def ensure_vpc(client, p, check_mode):
    name = p["name"]
    cur = find_vpc(client, name)
    if p["state"] == "absent":
        if cur is None:
            return {"changed": False, "vpc": {}, "diff": diff({}, {})}
        if not check_mode:
            client.delete(VPC_PATH % cur["id"], KIND, name)
        return {"changed": True, "vpc": {}, "diff": diff(cur, {})}
    if cur is None:
        body = _create_body(p)
        if check_mode:
            return {"changed": True, "vpc": body, "diff": diff({}, body)}
        out = client.request("POST", VPCS_PATH, body=body, verb="create", kind=KIND, name=name,
                             probe=wrap_probe("vpc", lambda: find_vpc(client, name)))["vpc"]
        return {"changed": True, "vpc": out, "diff": diff({}, out)}
    patch, immutable = logic.vpc_changes(cur, p)
    if immutable:
        raise DoError(failed_to("update", KIND, name, "%s cannot change on an existing VPC (have %s); "
                                "delete it first or fix the inventory" % (", ".join(immutable),
                                                                          ", ".join("%s=%s" % (k, cur.get(k)) for k in immutable))))
    if not patch:
        return {"changed": False, "vpc": cur, "diff": diff(cur, cur)}
    after = dict(cur, **patch)
    if not check_mode:
        after = client.request("PATCH", VPC_PATH % cur["id"], body=patch, verb="update", kind=KIND, name=name)["vpc"]
    return {"changed": True, "vpc": after, "diff": diff(cur, after)}
