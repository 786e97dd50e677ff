# -*- coding: utf-8 -*-
# Copyright: echo.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The container registry: read, create or delete it, its docker credentials, its image tags.

Private to the echo.platform collection. An existing registry is only read (it cannot move or be
renamed); a region drift is a warning.
"""

from __future__ import annotations

import time

from ansible_collections.echo.platform.plugins.module_utils._common.errors import DoError, failed_to
from ansible_collections.echo.platform.plugins.module_utils._do import logic
from ansible_collections.echo.platform.plugins.module_utils._do.common import diff

# The DigitalOcean API paths of this resource, named once.
REGISTRIES_PATH = "/v2/registries"
REGISTRY_PATH = "/v2/registries/%s"
TAGS_PATH = "/v2/registries/%s/repositories/%s/tags"
DOCKER_CREDENTIALS_PATH = "/v2/registry/docker-credentials"
KIND = "container registry"
REGISTRY_HOST = "registry.digitalocean.com"


def read_registry(client, name):
    return (client.get(REGISTRY_PATH % name, KIND, name) or {}).get("registry")


def ensure_registry(client, p, check_mode):
    name = p["name"]
    cur = read_registry(client, name)
    endpoint = logic.registry_endpoint(name)
    if p["state"] == "absent":
        if cur is None:
            return {"changed": False, "registry": {}, "endpoint": None, "diff": diff({}, {})}
        if not check_mode:
            client.delete(REGISTRY_PATH % name, KIND, name)
        return {"changed": True, "registry": {}, "endpoint": None, "diff": diff(cur, {})}
    if cur is not None:
        warnings = []
        if p.get("region") and cur.get("region") and cur["region"] != p["region"]:
            warnings.append("container registry %s is in %s, not %s; a registry cannot move" % (name, cur["region"], p["region"]))
        return {"changed": False, "registry": cur, "endpoint": endpoint, "created": False, "warnings": warnings,
                "diff": diff(cur, cur)}
    body = {"name": name, "subscription_tier_slug": p["subscription_tier"], "region": p["region"]}
    if check_mode:
        return {"changed": True, "registry": body, "endpoint": endpoint, "created": True, "diff": diff({}, body)}
    out = client.request("POST", REGISTRIES_PATH, body=body, verb="create", kind=KIND, name=name,
                         probe=lambda: client.get(REGISTRY_PATH % name, KIND, name))
    reg = (out or {}).get("registry") or {}
    return {"changed": True, "registry": reg, "endpoint": endpoint, "created": True, "diff": diff({}, reg)}


def registry_credentials(client, p, clock=time.time):
    params = {"read_write": "true" if p["read_write"] else "false"}
    if p.get("expiry_seconds"):
        params["expiry_seconds"] = p["expiry_seconds"]
    if p.get("registry") and read_registry(client, p["registry"]) is None:
        raise DoError(failed_to("get docker credentials for", KIND, p["registry"], "no such registry"))
    auths = client.request("GET", DOCKER_CREDENTIALS_PATH, params=params, verb="get docker credentials for",
                           kind=KIND, name=p.get("registry"))
    expires_at = None
    if p.get("expiry_seconds"):
        expires_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(clock() + p["expiry_seconds"]))
    return {"changed": False, "dockerconfigjson": logic.dockerconfigjson(auths), "expires_at": expires_at,
            "read_write": p["read_write"], "registry_host": REGISTRY_HOST,
            "username": logic.docker_username(auths)}


def registry_tag_info(client, p):
    reg = p["registry"]
    try:
        tags = client.list_all(TAGS_PATH % (reg, p["repository"]), "tags", "image tags of repository", params=None)
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
