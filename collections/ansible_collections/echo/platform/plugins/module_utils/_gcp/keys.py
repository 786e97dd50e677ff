# -*- coding: utf-8 -*-
# Copyright: echo.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Service-account key listing (metadata only, never key material).

Private to the echo.platform collection.
"""

from __future__ import annotations

from ansible_collections.echo.platform.plugins.module_utils._common.errors import GcpError

IAM_URL = "https://iam.googleapis.com/v1/projects/%s/serviceAccounts/%s/keys"


def normalize_key(key):
    """Public facts of one ServiceAccountKey resource."""
    name = key.get("name", "")
    return {
        "name": name,
        "key_id": name.rsplit("/", 1)[-1],
        "key_type": key.get("keyType"),
        "key_origin": key.get("keyOrigin"),
        "valid_after_time": key.get("validAfterTime"),
        "valid_before_time": key.get("validBeforeTime"),
        "disabled": bool(key.get("disabled", False)),
    }


def list_keys(client, project, email, key_types=("USER_MANAGED",)):
    """Keys of ``email`` (sorted by key id); [] when the account does not exist."""
    url = IAM_URL % (project, email)
    if key_types:
        url += "?" + "&".join("keyTypes=%s" % t for t in key_types)
    try:
        body = client.call("GET", url, what="list keys of service account %s" % email)
    except GcpError as exc:
        if exc.status == 404:
            return []
        raise
    # key material is never part of a list response; normalize_key keeps metadata only anyway
    return sorted((normalize_key(k) for k in body.get("keys") or []), key=lambda k: k["key_id"])
