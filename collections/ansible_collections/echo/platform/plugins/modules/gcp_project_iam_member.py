#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: echo.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: gcp_project_iam_member
short_description: Grant or revoke one IAM role for one member of a Google Cloud project
version_added: 0.1.0
description:
  - Adds O(member) to, or removes it from, the unconditional binding of O(role) in the IAM policy of O(project).
  - Other members, other roles and conditional bindings are left exactly as they are.
  - The policy is changed by read-modify-write with its etag. When another writer changed the policy in between,
    Google rejects the stale etag; the module then reads the policy again and re-applies the change, so no writer
    loses its bindings.
  - Throttling (429) and transient server errors (5xx) are retried with backoff.
author:
  - echo.platform maintainers (@dembrane)
options:
  role:
    description:
      - The role, for example V(roles/aiplatform.user) or V(projects/PROJECT/roles/NAME).
    type: str
    required: true
  member:
    description:
      - The principal, with its type prefix, for example V(serviceAccount:vertex-caller@PROJECT.iam.gserviceaccount.com).
    type: str
    required: true
  state:
    description:
      - V(present) makes sure O(member) holds O(role); V(absent) makes sure it does not.
    type: str
    default: present
    choices: [present, absent]
extends_documentation_fragment:
  - echo.platform.gcp_auth
  - echo.platform.attributes
  - echo.platform.attributes.GCP_ACTION_GROUP
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details:
      - The diff shows the members of the one binding that changes.
"""

EXAMPLES = r"""
- name: Let the Vertex caller use Vertex AI
  echo.platform.gcp_project_iam_member:
    project: dembrane-echo
    auth_kind: serviceaccount
    service_account_file: /path/to/admin-key.json
    role: roles/aiplatform.user
    member: serviceAccount:vertex-caller@dembrane-echo.iam.gserviceaccount.com

- name: Revoke it again, credentials set once for the gcp action group
  module_defaults:
    group/echo.platform.gcp:
      project: dembrane-echo
      auth_kind: application
  echo.platform.gcp_project_iam_member:
    role: roles/aiplatform.user
    member: serviceAccount:vertex-caller@dembrane-echo.iam.gserviceaccount.com
    state: absent
"""

RETURN = r"""
binding:
  description: The unconditional binding of O(role) after the change (predicted in check mode).
  returned: always
  type: dict
  contains:
    role:
      description: The role.
      type: str
      returned: always
      sample: roles/aiplatform.user
    members:
      description: Sorted members of the binding.
      type: list
      elements: str
      returned: always
      sample: ["serviceAccount:vertex-caller@dembrane-echo.iam.gserviceaccount.com"]
etag_conflicts:
  description: How many times a concurrent change of the policy made the module read it again.
  returned: always
  type: int
  sample: 0
"""

from ansible_collections.echo.platform.plugins.module_utils._common.module import EchoModule
from ansible_collections.echo.platform.plugins.module_utils._gcp import argspec as gcp_connection
from ansible_collections.echo.platform.plugins.module_utils._gcp import auth
from ansible_collections.echo.platform.plugins.module_utils._gcp import policy as pol
from ansible_collections.echo.platform.plugins.module_utils._gcp.iam import ProjectIamService


def ensure_member(client, params, check_mode):
    service = ProjectIamService(client, params["project"])
    changed, before, after, conflicts = service.ensure(params["role"], params["member"], params["state"],
                                                       check_mode=check_mode)
    diff = pol.binding_diff(before, after, params["role"])
    return dict(changed=changed, binding=diff["after"], etag_conflicts=conflicts, diff=diff)


def main():
    module = EchoModule(
        argument_spec=dict(
            role=dict(type="str", required=True),
            member=dict(type="str", required=True),
            state=dict(type="str", default="present", choices=["present", "absent"]),
        ),
        shared_specs=(gcp_connection.ARG_SPEC,),
        supports_check_mode=True,
    )
    params = module.params
    problem = pol.validate_role(params["role"]) or pol.validate_member(params["member"]) or auth.check_auth_params(
        params["auth_kind"], params["service_account_file"], params["service_account_contents"], params["access_token"])
    if problem:
        module.fail_json(msg=problem)
    if not auth.HAS_GOOGLE_AUTH:
        module.fail_json(msg="This module needs the google-auth Python library (pip install google-auth)")

    module.run(lambda: ensure_member(gcp_connection.client_from_module(module), params, module.check_mode))


if __name__ == "__main__":
    main()
