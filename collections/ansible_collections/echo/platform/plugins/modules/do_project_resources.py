#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: echo.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: do_project_resources
short_description: Assign DigitalOcean resources to a project
version_added: 0.1.0
description:
  - Ensures the listed resource URNs belong to the project, creating the project when it is absent.
  - With O(state=absent) the listed resources that are in the project move back to the account's default project.
  - Resources already in the project that are not listed are left alone.
author:
  - echo.platform maintainers (@dembrane)
options:
  project:
    description:
      - Project name.
    type: str
    required: true
  state:
    description:
      - Whether the resources should be in the project.
    type: str
    choices: [present, absent]
    default: present
  resources:
    description:
      - Resource URNs, for example V(do:kubernetes:<uuid>), V(do:dbaas:<uuid>), V(do:vpc:<uuid>), V(do:space:<bucket>).
    type: list
    elements: str
    required: true
  purpose:
    description:
      - Purpose used when the project is created.
    type: str
    default: Web Application
  environment:
    description:
      - Environment used when the project is created.
    type: str
    choices: [Development, Staging, Production]
    default: Development
  description:
    description:
      - Description used when the project is created.
    type: str
extends_documentation_fragment:
  - echo.platform.do_auth
  - echo.platform.attributes
  - echo.platform.attributes.FULL
  - echo.platform.attributes.DO_ACTION_GROUP
"""

EXAMPLES = r"""
- name: Put the environment's resources into the ECHO project
  echo.platform.do_project_resources:
    project: ECHO
    environment: Production
    resources:
      - "do:kubernetes:{{ cluster.id }}"
      - "do:dbaas:{{ postgres.database.id }}"
      - "do:space:dbr-echo-prod-uploads"
"""

RETURN = r"""
project:
  description: The project.
  returned: always
  type: dict
  sample: {id: 4e1bfbc3-dc3e-41f2-a18f-1b4d7ba71679, name: ECHO, environment: Production}
assigned:
  description: URNs this run assigned (or in check mode would assign).
  returned: when O(state=present)
  type: list
  elements: str
  sample: ["do:kubernetes:bd5f5959-5e1e-4205-a714-a914373942af"]
unassigned:
  description: URNs moved back to the default project.
  returned: when O(state=absent) and the project exists
  type: list
  elements: str
created:
  description: Whether the project was (or in check mode would be) created.
  returned: when O(state=present)
  type: bool
"""

from ansible_collections.echo.platform.plugins.module_utils._common.module import EchoModule
from ansible_collections.echo.platform.plugins.module_utils._do import argspec as do_connection
from ansible_collections.echo.platform.plugins.module_utils._do.project import ensure_project_resources


def main():
    argument_spec = dict(
        project=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        resources=dict(type="list", elements="str", required=True),
        purpose=dict(type="str", default="Web Application"),
        environment=dict(type="str", choices=["Development", "Staging", "Production"], default="Development"),
        description=dict(type="str"),
    )
    module = EchoModule(argument_spec, shared_specs=[do_connection.ARG_SPEC], supports_check_mode=True)
    module.run(lambda: ensure_project_resources(do_connection.client_from_module(module), module.params, module.check_mode))


if __name__ == "__main__":
    main()
