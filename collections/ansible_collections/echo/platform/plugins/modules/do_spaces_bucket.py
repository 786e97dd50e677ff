#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: echo.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: do_spaces_bucket
short_description: Manage a DigitalOcean Spaces bucket through the S3 API
version_added: 0.1.0
description:
  - Create or delete a Spaces bucket and optionally set its versioning, with boto3 against the Spaces S3 endpoint.
  - Spaces has no bucket API in the DigitalOcean API, so this module takes Spaces keys instead of an API token.
  - Deleting a bucket that still holds objects fails (the API refuses it).
author:
  - echo.platform maintainers (@dembrane)
options:
  name:
    description:
      - Bucket name.
    type: str
    required: true
  state:
    description:
      - Whether the bucket should exist.
    type: str
    choices: [present, absent]
    default: present
  versioning:
    description:
      - Enable (V(true)) or suspend (V(false)) object versioning. Left as it is when omitted.
    type: bool
extends_documentation_fragment:
  - echo.platform.do_auth.spaces
  - echo.platform.attributes
  - echo.platform.attributes.FULL
"""

EXAMPLES = r"""
- name: Ensure the uploads bucket
  echo.platform.do_spaces_bucket:
    name: dbr-echo-dev-uploads
    spaces_endpoint: https://ams3.digitaloceanspaces.com
    spaces_access_key_id: "{{ echo_spaces_access_key_id }}"
    spaces_secret_access_key: "{{ echo_spaces_secret_access_key }}"
"""

RETURN = r"""
bucket:
  description: The bucket (empty after deletion).
  returned: always
  type: dict
  sample:
    name: dbr-echo-dev-uploads
    exists: true
    region: ams3
    endpoint: https://ams3.digitaloceanspaces.com
    urn: do:space:dbr-echo-dev-uploads
"""

from ansible_collections.echo.platform.plugins.module_utils._common.module import EchoModule
from ansible_collections.echo.platform.plugins.module_utils._do.argspec import SPACES_ARG_SPEC
from ansible_collections.echo.platform.plugins.module_utils._do.spaces import ensure_bucket, s3_client


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        versioning=dict(type="bool"),
    )
    module = EchoModule(argument_spec, shared_specs=[SPACES_ARG_SPEC], supports_check_mode=True)
    module.run(lambda: ensure_bucket(s3_client(module.params), module.params, module.check_mode))


if __name__ == "__main__":
    main()
