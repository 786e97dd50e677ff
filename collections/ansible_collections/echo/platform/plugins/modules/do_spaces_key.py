#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: echo.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: do_spaces_key
short_description: Manage a DigitalOcean Spaces access key scoped to buckets
version_added: 0.1.0
description:
  - Create, re-scope or delete a Spaces access key (C(/v2/spaces/keys)), found by name.
  - The secret is shown by the API only when the key is created. It is returned then (RV(secret_key)), and
    written to O(secret_path) (mode C(0600)) when that is set, so later runs can return it again. A key is never
    re-created just because its secret is unknown; delete it to rotate.
author:
  - echo.platform maintainers (@dembrane)
options:
  name:
    description:
      - Key name.
    type: str
    required: true
  state:
    description:
      - Whether the key should exist.
    type: str
    choices: [present, absent]
    default: present
  grants:
    description:
      - Bucket permissions of the key (the full set).
    type: list
    elements: dict
    default: []
    suboptions:
      bucket:
        description: Bucket name (empty for V(fullaccess)).
        type: str
        required: true
      permission:
        description: Permission on that bucket.
        type: str
        choices: [read, readwrite, fullaccess]
        required: true
  secret_path:
    description:
      - File (mode C(0600)) that keeps the access key and secret from the creation, as JSON.
      - Read on later runs when its access key matches, so RV(secret_key) stays available.
    type: path
extends_documentation_fragment:
  - echo.platform.do_auth
  - echo.platform.attributes
  - echo.platform.attributes.FULL
  - echo.platform.attributes.DO_ACTION_GROUP
"""

EXAMPLES = r"""
- name: Ensure a read-write key for the uploads bucket
  echo.platform.do_spaces_key:
    name: dbr-echo-dev-uploads-rw
    grants:
      - {bucket: dbr-echo-dev-uploads, permission: readwrite}
    secret_path: "{{ echo_state_dir }}/spaces-key.json"
  register: spaces_key
  no_log: true
"""

RETURN = r"""
key:
  description: The key without its secret (name, access key, grants, created_at).
  returned: always
  type: dict
  sample: {name: dbr-echo-dev-uploads-rw, access_key: DO00QWERTYUIOPASDFGH, grants: [{bucket: dbr-echo-dev-uploads, permission: readwrite}]}
access_key:
  description: Access key id (null in check mode before creation).
  returned: when O(state=present)
  type: str
  sample: DO00QWERTYUIOPASDFGH
secret_key:
  description:
    - The secret. Set when the key was created by this run, or read from O(secret_path); null otherwise.
  returned: when O(state=present)
  type: str
created:
  description: Whether this run created the key.
  returned: when O(state=present), not in check mode
  type: bool
  sample: false
"""

import json

from ansible_collections.echo.platform.plugins.module_utils._common.files import write_private_file
from ansible_collections.echo.platform.plugins.module_utils._common.module import EchoModule
from ansible_collections.echo.platform.plugins.module_utils._do import argspec as do_connection
from ansible_collections.echo.platform.plugins.module_utils._do.spaces_key import ensure_spaces_key


def read_secret_file(path, access_key):
    """The secret kept at ``path`` for ``access_key``, or None (no file, another key, not JSON).

    ``path`` is the secret_path option, already expanded (type=path).
    """
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return None
    if data.get("access_key") == access_key:
        return data.get("secret_key")
    return None


def ensure(client, params, check_mode):
    """ensure_spaces_key, keeping a new key's secret in ``secret_path`` (and reading it back later)."""
    result = ensure_spaces_key(client, params, check_mode)
    path = params.get("secret_path")
    if path and result.get("created"):
        if result["secret_key"]:
            write_private_file(path, json.dumps({"access_key": result["access_key"], "secret_key": result["secret_key"]}))
    elif path and result.get("created") is False:
        result["secret_key"] = read_secret_file(path, result["access_key"])
    return result


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        grants=dict(type="list", elements="dict", default=[], options=dict(
            bucket=dict(type="str", required=True),
            permission=dict(type="str", choices=["read", "readwrite", "fullaccess"], required=True),
        )),
        secret_path=dict(type="path", no_log=False),
    )
    module = EchoModule(argument_spec, shared_specs=[do_connection.ARG_SPEC], supports_check_mode=True)
    module.run(lambda: ensure(do_connection.client_from_module(module), module.params, module.check_mode))


if __name__ == "__main__":
    main()
