# -*- coding: utf-8 -*-
# Copyright: echo.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Projects and the resources assigned to them: find (create on demand), read the assigned URNs,
plan (``logic.missing_urns``), assign, or move out to the default project.

Private to the echo.platform collection.
"""

from __future__ import annotations

from ansible_collections.echo.platform.plugins.module_utils._common.errors import DoError, failed_to
from ansible_collections.echo.platform.plugins.module_utils._do import logic
from ansible_collections.echo.platform.plugins.module_utils._do.common import diff, find_by_name, wrap_probe

# The DigitalOcean API paths of this resource, named once.
PROJECTS_PATH = "/v2/projects"
RESOURCES_PATH = "/v2/projects/%s/resources"
DEFAULT_RESOURCES_PATH = "/v2/projects/default/resources"
KIND = "project"
ASSIGNED_STATUSES = ("ok", "assigned", "already_assigned")


def find_project(client, name):
    return find_by_name(client.list_all(PROJECTS_PATH, "projects", "projects"), name)


def read_resources(client, proj):
    """The URNs assigned to ``proj``."""
    return [r["urn"] for r in client.list_all(RESOURCES_PATH % proj["id"], "resources", "project resources")]


def ensure_project_resources(client, p, check_mode):
    name = p["project"]
    proj = find_project(client, name)
    changed = False
    created = False
    if proj is None:
        if p["state"] == "absent":
            return {"changed": False, "project": {}, "assigned": [], "diff": diff({}, {})}
        body = {"name": name, "purpose": p["purpose"], "environment": p["environment"],
                "description": p.get("description") or ""}
        changed = created = True
        if check_mode:
            missing = logic.missing_urns([], p["resources"])
            return {"changed": True, "project": body, "assigned": missing, "created": True,
                    "diff": diff({}, {"project": name, "resources": missing})}
        proj = client.request("POST", PROJECTS_PATH, body=body, verb="create", kind=KIND, name=name,
                              probe=wrap_probe("project", lambda: find_project(client, name)))["project"]
    have = read_resources(client, proj)
    before = {"project": name, "resources": sorted(have)}
    if p["state"] == "absent":
        move = sorted(set(u for u in p["resources"] if u in have))
        if move:
            changed = True
            if not check_mode:
                client.request("POST", DEFAULT_RESOURCES_PATH, body={"resources": move},
                               verb="move resources out of", kind=KIND, name=name)
        after = sorted(set(have) - set(move))
        return {"changed": changed, "project": proj, "unassigned": move, "diff": diff(before, {"project": name, "resources": after})}
    missing = logic.missing_urns(have, p["resources"])
    failed = []
    if missing:
        changed = True
        if not check_mode:
            out = client.request("POST", RESOURCES_PATH % proj["id"], body={"resources": missing},
                                 verb="assign resources to", kind=KIND, name=name)
            failed = [r["urn"] for r in (out or {}).get("resources") or [] if r.get("status") not in ASSIGNED_STATUSES]
    if failed:
        raise DoError(failed_to("assign resources to", KIND, name, "not assigned: %s" % ", ".join(failed)))
    after = {"project": name, "resources": sorted(set(have) | set(missing))}
    return {"changed": changed, "project": proj, "assigned": missing, "created": created, "diff": diff(before, after)}
