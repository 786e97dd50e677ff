#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: echo.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: gcp_service_account_key_info
short_description: List the keys of a Google Cloud service account (metadata only)
version_added: 0.1.0
description:
  - Lists the keys of one service account, for example to check that the key a Secret holds still exists.
  - Returns key ids and validity only; key material is never returned by the API or by this module.
  - A service account that does not exist has no keys.
author:
  - echo.platform maintainers (@dembrane)
options:
  service_account:
    description:
      - E-mail address of the service account, for example V(vertex-caller@PROJECT.iam.gserviceaccount.com).
    type: str
    required: true
  key_types:
    description:
      - Which keys to list. An empty list lists all of them.
    type: list
    elements: str
    choices: [USER_MANAGED, SYSTEM_MANAGED]
    default: [USER_MANAGED]
extends_documentation_fragment:
  - echo.platform.gcp_auth
  - echo.platform.attributes
  - echo.platform.attributes.INFO_MODULE
  - echo.platform.attributes.GCP_ACTION_GROUP
"""

EXAMPLES = r"""
- name: List the user-managed keys of the Vertex caller
  echo.platform.gcp_service_account_key_info:
    project: dembrane-echo
    auth_kind: application
    service_account: vertex-caller@dembrane-echo.iam.gserviceaccount.com
  register: caller_keys

- name: Show the key ids
  ansible.builtin.debug:
    msg: "{{ caller_keys.service_account_keys | map(attribute='key_id') | list }}"
"""

RETURN = r"""
service_account_keys:
  description: The keys, sorted by key id.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Full resource name of the key.
      type: str
      returned: always
      sample: projects/dembrane-echo/serviceAccounts/vertex-caller@dembrane-echo.iam.gserviceaccount.com/keys/0123abcd
    key_id:
      description: The key id (the C(private_key_id) of the key file).
      type: str
      returned: always
      sample: 0123abcd
    key_type:
      description: V(USER_MANAGED) or V(SYSTEM_MANAGED).
      type: str
      returned: always
      sample: USER_MANAGED
    key_origin:
      description: Where the key material came from.
      type: str
      returned: always
      sample: GOOGLE_PROVIDED
    valid_after_time:
      description: Start of validity.
      type: str
      returned: always
      sample: "2026-01-01T00:00:00Z"
    valid_before_time:
      description: End of validity.
      type: str
      returned: always
      sample: "9999-12-31T23:59:59Z"
    disabled:
      description: Whether the key is disabled.
      type: bool
      returned: always
      sample: false
"""

from ansible_collections.echo.platform.plugins.module_utils._common.module import EchoModule
from ansible_collections.echo.platform.plugins.module_utils._gcp import argspec as gcp_connection
from ansible_collections.echo.platform.plugins.module_utils._gcp import auth
from ansible_collections.echo.platform.plugins.module_utils._gcp.keys import list_keys


def key_info(client, params):
    keys = list_keys(client, params["project"], params["service_account"], params["key_types"])
    return dict(changed=False, service_account_keys=keys)


def main():
    module = EchoModule(
        argument_spec=dict(
            service_account=dict(type="str", required=True),
            key_types=dict(type="list", elements="str", choices=["USER_MANAGED", "SYSTEM_MANAGED"],
                           default=["USER_MANAGED"], no_log=False),
        ),
        shared_specs=(gcp_connection.ARG_SPEC,),
        supports_check_mode=True,
    )
    params = module.params
    problem = auth.check_auth_params(params["auth_kind"], params["service_account_file"],
                                     params["service_account_contents"], params["access_token"])
    if "@" not in params["service_account"]:
        problem = "service_account must be the account's e-mail address (NAME@PROJECT.iam.gserviceaccount.com)"
    if problem:
        module.fail_json(msg=problem)
    if not auth.HAS_GOOGLE_AUTH:
        module.fail_json(msg="This module needs the google-auth Python library (pip install google-auth)")
    module.run(lambda: key_info(gcp_connection.client_from_module(module), params))


if __name__ == "__main__":
    main()
