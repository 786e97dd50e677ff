#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: echo.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: do_registry_credentials_info
short_description: Get docker credentials for the DigitalOcean container registry
version_added: 0.1.0
description:
  - Returns a C(.dockerconfigjson) document for V(registry.digitalocean.com), read-only or read-write, optionally
    expiring. Use it for an image pull secret; register the result under C(no_log).
  - Each call issues new credentials; nothing else changes, so the module always reports unchanged.
author:
  - echo.platform maintainers (@dembrane)
options:
  registry:
    description:
      - Registry name. When set, the module first checks that the registry exists.
    type: str
  read_write:
    description:
      - Issue read-write credentials (push). Read-only (pull) by default.
    type: bool
    default: false
  expiry_seconds:
    description:
      - Lifetime of the credentials in seconds; V(0) means they do not expire.
    type: int
    default: 0
extends_documentation_fragment:
  - echo.platform.do_auth
  - echo.platform.attributes
  - echo.platform.attributes.INFO_MODULE
  - echo.platform.attributes.DO_ACTION_GROUP
"""

EXAMPLES = r"""
- name: Get pull credentials valid for a year
  echo.platform.do_registry_credentials_info:
    registry: dbr-cr
    expiry_seconds: 31536000
  register: registry_creds
  no_log: true
"""

RETURN = r"""
dockerconfigjson:
  description: The C(.dockerconfigjson) content (secret).
  returned: always
  type: str
expires_at:
  description: When the credentials expire (UTC, ISO 8601), null when they do not.
  returned: always
  type: str
  sample: "2027-01-01T00:00:00Z"
read_write:
  description: Whether the credentials can push.
  returned: always
  type: bool
  sample: false
registry_host:
  description: Registry host the credentials are for.
  returned: always
  type: str
  sample: registry.digitalocean.com
username:
  description: User name inside the credentials (the token itself stays in RV(dockerconfigjson)).
  returned: always
  type: str
"""

from ansible_collections.echo.platform.plugins.module_utils._common.module import EchoModule
from ansible_collections.echo.platform.plugins.module_utils._do import argspec as do_connection
from ansible_collections.echo.platform.plugins.module_utils._do.registry import registry_credentials


def main():
    argument_spec = dict(
        registry=dict(type="str"),
        read_write=dict(type="bool", default=False),
        expiry_seconds=dict(type="int", default=0),
    )
    module = EchoModule(argument_spec, shared_specs=[do_connection.ARG_SPEC], supports_check_mode=True)
    module.run(lambda: registry_credentials(do_connection.client_from_module(module), module.params))


if __name__ == "__main__":
    main()
