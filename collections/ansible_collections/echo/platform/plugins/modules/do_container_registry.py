#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: echo.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: do_container_registry
short_description: Manage a DigitalOcean container registry
version_added: 0.1.0
description:
  - Create a container registry when it is absent (whichever environment runs first), or delete it.
  - An existing registry is only read, so every environment can run this module; a region difference
    is a warning (a registry cannot move).
  - Docker credentials come from M(echo.platform.do_registry_credentials_info).
author:
  - echo.platform maintainers (@dembrane)
options:
  name:
    description:
      - Registry name (becomes part of image URLs, V(registry.digitalocean.com/<name>)).
    type: str
    required: true
  state:
    description:
      - Whether the registry should exist. V(absent) deletes it with every image.
    type: str
    choices: [present, absent]
    default: present
  subscription_tier:
    description:
      - Subscription tier used when the registry is created.
    type: str
    choices: [starter, basic, professional]
    default: basic
  region:
    description:
      - Region used when the registry is created.
    type: str
    default: ams3
extends_documentation_fragment:
  - echo.platform.do_auth
  - echo.platform.attributes
  - echo.platform.attributes.FULL
  - echo.platform.attributes.DO_ACTION_GROUP
"""

EXAMPLES = r"""
- name: Ensure the shared registry (created by the first environment that runs)
  echo.platform.do_container_registry:
    name: dbr-cr
    subscription_tier: basic
    region: ams3
  register: registry
"""

RETURN = r"""
registry:
  description: The registry (empty after deletion).
  returned: always
  type: dict
  sample: {name: dbr-cr, region: ams3, storage_usage_bytes: 0, created_at: "2026-01-01T00:00:00Z"}
endpoint:
  description: Image prefix of the registry.
  returned: when O(state=present)
  type: str
  sample: registry.digitalocean.com/dbr-cr
created:
  description: Whether this run created (or in check mode would create) the registry.
  returned: when O(state=present)
  type: bool
  sample: false
"""

from ansible_collections.echo.platform.plugins.module_utils._common.module import EchoModule
from ansible_collections.echo.platform.plugins.module_utils._do import argspec as do_connection
from ansible_collections.echo.platform.plugins.module_utils._do.registry import ensure_registry


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        subscription_tier=dict(type="str", choices=["starter", "basic", "professional"], default="basic"),
        region=dict(type="str", default="ams3"),
    )
    module = EchoModule(argument_spec, shared_specs=[do_connection.ARG_SPEC], supports_check_mode=True)
    module.run(lambda: ensure_registry(do_connection.client_from_module(module), module.params, module.check_mode))


if __name__ == "__main__":
    main()
