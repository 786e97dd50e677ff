# -*- coding: utf-8 -*-
# Copyright: echo.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Spaces access keys through the DigitalOcean API: find, plan (``logic.spaces_key_changes``),
create, update the grants or delete.

Private to the echo.platform collection (the buckets themselves, through the S3 API, are in
``spaces``). A key's secret is only in the create response: an existing key is never re-created.
Keeping the secret in a file (``secret_path``) is the module's part: this layer does no file I/O.
"""

from __future__ import annotations

from ansible_collections.echo.platform.plugins.module_utils._common.errors import DoError, failed_to
from ansible_collections.echo.platform.plugins.module_utils._do import logic
from ansible_collections.echo.platform.plugins.module_utils._do.common import diff

# The DigitalOcean API paths of this resource, named once.
KEYS_PATH = "/v2/spaces/keys"
KEY_PATH = "/v2/spaces/keys/%s"
KIND = "Spaces key"


def find_spaces_keys(client, name):
    return [k for k in client.list_all(KEYS_PATH, "keys", "Spaces keys", params={"name": name})
            if k.get("name") == name]


def _create_spaces_key(client, name, body, attempts=3):
    """POST a Spaces key and return it with its secret.

    The secret is only in the create response. When a POST fails (5xx, connection) the key is looked
    up by name: if the failed POST did create it, its secret is lost, so that key is deleted and the
    create is tried again.
    """
    for attempt in range(attempts):  # pylint: disable=unused-variable
        out = client.request("POST", KEYS_PATH, body=body, verb="create", kind=KIND, name=name,
                             probe=lambda: next(iter(find_spaces_keys(client, name)), None))
        if isinstance(out, dict) and isinstance(out.get("key"), dict):
            return out["key"]
        client.delete(KEY_PATH % out["access_key"], KIND, name)
    raise DoError(failed_to("create", KIND, name, "the key was created %d times but every response was lost" % attempts))


def ensure_spaces_key(client, p, check_mode):
    """The result dict; ``secret_key`` is the new key's secret, None for an existing key (``created`` False)."""
    name = p["name"]
    found = find_spaces_keys(client, name)
    warnings = []
    if len(found) > 1:
        warnings.append("%d Spaces keys are named %s; managing the oldest" % (len(found), name))
        found.sort(key=lambda k: k.get("created_at") or "")
    cur = found[0] if found else None
    if p["state"] == "absent":
        if cur is None:
            return {"changed": False, "key": {}, "diff": diff({}, {})}
        if not check_mode:
            client.delete(KEY_PATH % cur["access_key"], KIND, name)
        return {"changed": True, "key": {}, "diff": diff(cur, {})}
    grants = [{"bucket": g["bucket"], "permission": g["permission"]} for g in p["grants"]]
    if cur is None:
        body = {"name": name, "grants": grants}
        if check_mode:
            return {"changed": True, "key": body, "access_key": None, "secret_key": None, "diff": diff({}, body)}
        created = _create_spaces_key(client, name, body)
        secret = created.pop("secret_key", None)
        return {"changed": True, "key": created, "access_key": created["access_key"], "secret_key": secret,
                "created": True, "diff": diff({}, created), "warnings": warnings}
    changed = False
    after = dict(cur)
    new_grants = logic.spaces_key_changes(cur, grants)
    if new_grants is not None:
        changed = True
        after["grants"] = new_grants
        if not check_mode:
            after = client.request("PUT", KEY_PATH % cur["access_key"], body={"name": name, "grants": new_grants},
                                   verb="update", kind=KIND, name=name)["key"]
            after.pop("secret_key", None)
    if not p.get("secret_path"):
        warnings.append("the secret of Spaces key %s is only shown when it is created; it was not re-created "
                        "(delete the key to rotate it)" % name)
    return {"changed": changed, "key": after, "access_key": cur["access_key"], "secret_key": None, "created": False,
            "diff": diff(cur, after), "warnings": warnings}
