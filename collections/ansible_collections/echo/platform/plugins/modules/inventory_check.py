#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: echo.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: inventory_check
short_description: Validate an environment's inventory values before any layer runs
version_added: 0.1.0
description:
  - Checks the C(echo_*) values of one environment. It checks the environment name, that the VPC CIDR is valid, private and does
    not overlap other environments, Droplet and database size slugs, versions, autoscale ranges, bucket and
    namespace names, domains and host names, image tags, and that the credentials the selected layers need are present.
  - Every problem names the variable, what is wrong and the fix. The module fails when there is any problem,
    so a run stops before it changes anything.
  - Credentials are passed as presence flags only; the module never receives secret values.
author:
  - echo.platform maintainers (@dembrane)
extends_documentation_fragment:
  - echo.platform.attributes
  - echo.platform.attributes.INFO_MODULE
options:
  settings:
    description:
      - The environment's C(echo_*) variables (C(echo_env), C(echo_known_envs), C(echo_vpc_cidr), C(echo_node_pools), ...).
    type: dict
    required: true
  group_names:
    description:
      - The inventory groups of the host, one of which must be named after the environment.
    type: list
    elements: str
    required: true
  other_cidrs:
    description:
      - VPC CIDRs of the other environments, keyed by environment name.
    type: dict
    default: {}
  layers:
    description:
      - Layers this run touches; see RV(layers). Credentials are required only for these.
    type: list
    elements: str
    default: []
  credentials:
    description:
      - Presence of each credential variable (C(true) when set). Never pass the values themselves.
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Validate the inventory
  echo.platform.inventory_check:
    settings:
      echo_env: "{{ echo_env }}"
      echo_known_envs: "{{ echo_known_envs }}"
      echo_vpc_cidr: "{{ echo_vpc_cidr }}"
    group_names: "{{ group_names }}"
    other_cidrs:
      dev: 10.10.11.0/24
    layers: [do]
    credentials:
      echo_do_token: "{{ echo_do_token | length > 0 }}"
"""

RETURN = r"""
problems:
  description: Each problem found, with the variable it concerns and a message that says how to fix it.
  returned: always
  type: list
  elements: dict
  sample: [{"variable": "echo_vpc_cidr", "msg": "echo_vpc_cidr: 10.10.11.0/24 overlaps the dev environment's 10.10.11.0/24. Fix: ..."}]
layers:
  description: The layers the check considered.
  returned: always
  type: list
  elements: str
  sample: [do, gcp]
"""

from ansible_collections.echo.platform.plugins.module_utils._common.errors import ValidationError
from ansible_collections.echo.platform.plugins.module_utils._common.module import EchoModule
from ansible_collections.echo.platform.plugins.module_utils._common.preflight import validate


def check(params):
    problems = validate(params["settings"], params["group_names"], params["other_cidrs"], params["layers"], params["credentials"])
    result = dict(changed=False, problems=problems, layers=params["layers"])
    if problems:
        raise ValidationError("Inventory check failed with %d problem(s): %s" % (len(problems), " | ".join(p["msg"] for p in problems)),
                              result=result)
    return result


def main():
    module = EchoModule(
        argument_spec=dict(
            settings=dict(type="dict", required=True),
            group_names=dict(type="list", elements="str", required=True),
            other_cidrs=dict(type="dict", default={}),
            layers=dict(type="list", elements="str", default=[]),
            credentials=dict(type="dict", default={}, no_log=False),
        ),
        supports_check_mode=True,
    )
    module.run(check, module.params)


if __name__ == "__main__":
    main()
