#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: echo.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: do_vpc
short_description: Manage a DigitalOcean VPC
version_added: 0.1.0
description:
  - Create, update (description) or delete a DigitalOcean VPC, found by name.
  - The region and IP range of an existing VPC never change; a difference fails with a message instead.
author:
  - echo.platform maintainers (@dembrane)
options:
  name:
    description:
      - Name of the VPC (unique in the account).
    type: str
    required: true
  state:
    description:
      - Whether the VPC should exist.
    type: str
    choices: [present, absent]
    default: present
  region:
    description:
      - Region slug, for example V(ams3). Required when O(state=present).
    type: str
  ip_range:
    description:
      - Private IP range in CIDR notation, for example V(10.10.11.0/24). DigitalOcean picks one when omitted.
    type: str
  description:
    description:
      - Free-text description.
    type: str
extends_documentation_fragment:
  - echo.platform.do_auth
  - echo.platform.attributes
  - echo.platform.attributes.FULL
  - echo.platform.attributes.DO_ACTION_GROUP
"""

EXAMPLES = r"""
- name: Ensure the environment's VPC exists
  echo.platform.do_vpc:
    name: echo-dev-vpc
    region: ams3
    ip_range: 10.10.11.0/24
  register: vpc

- name: Remove a VPC (fails while clusters or databases still use it)
  echo.platform.do_vpc:
    name: echo-old-vpc
    state: absent
"""

RETURN = r"""
vpc:
  description: The VPC (predicted in check mode; empty after deletion).
  returned: always
  type: dict
  sample:
    id: 5a4981aa-9653-4bd1-bef5-d6bff52042e4
    name: echo-dev-vpc
    region: ams3
    ip_range: 10.10.11.0/24
    urn: do:vpc:5a4981aa-9653-4bd1-bef5-d6bff52042e4
"""

from ansible_collections.echo.platform.plugins.module_utils._common.module import EchoModule
from ansible_collections.echo.platform.plugins.module_utils._do import argspec as do_connection
from ansible_collections.echo.platform.plugins.module_utils._do.vpc import ensure_vpc


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        region=dict(type="str"),
        ip_range=dict(type="str"),
        description=dict(type="str"),
    )
    module = EchoModule(argument_spec, shared_specs=[do_connection.ARG_SPEC], supports_check_mode=True,
                        required_if=[("state", "present", ["region"])])
    module.run(lambda: ensure_vpc(do_connection.client_from_module(module), module.params, module.check_mode))


if __name__ == "__main__":
    main()
