#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: echo.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: do_registry_tag_info
short_description: Check that an image tag exists in the DigitalOcean container registry
version_added: 0.1.0
description:
  - Looks up one tag of one repository. RV(exists) says whether it is there, RV(usable) whether it also has
    a non-zero size, so a deploy can refuse to roll out an image that was never (fully) pushed.
  - A missing repository or tag is not an error.
author:
  - echo.platform maintainers (@dembrane)
options:
  registry:
    description:
      - Registry name.
    type: str
    required: true
  repository:
    description:
      - Repository name, for example V(echo-server).
    type: str
    required: true
  tag:
    description:
      - Tag to look for.
    type: str
    required: true
  min_size_bytes:
    description:
      - Smallest (compressed) size for RV(usable) to be true.
    type: int
    default: 1
extends_documentation_fragment:
  - echo.platform.do_auth
  - echo.platform.attributes
  - echo.platform.attributes.INFO_MODULE
  - echo.platform.attributes.DO_ACTION_GROUP
"""

EXAMPLES = r"""
- name: Look up the server image
  echo.platform.do_registry_tag_info:
    registry: dbr-cr
    repository: echo-server
    tag: "{{ echo_image_tags.server }}"
  register: server_tag

- name: Refuse to deploy a tag that is missing or empty
  ansible.builtin.assert:
    that: server_tag.usable
    fail_msg: "{{ server_tag.image }} is not in the registry (or has size 0); push it first or fix echo_image_tags.server"
"""

RETURN = r"""
exists:
  description: Whether the tag exists.
  returned: always
  type: bool
  sample: true
registry_exists:
  description:
    - Whether the registry itself exists. A plan (check mode) on a new environment runs before the provision
      layer has created it, so callers can tell "not pushed yet" from "no registry yet".
  returned: always
  type: bool
  sample: true
usable:
  description: Whether the tag exists with at least O(min_size_bytes) bytes.
  returned: always
  type: bool
  sample: true
tag:
  description: The tag as the API lists it (empty when missing).
  returned: always
  type: dict
  sample: {tag: 1f2e3d4, manifest_digest: "sha256:...", compressed_size_bytes: 31457280, updated_at: "2026-01-01T00:00:00Z"}
image:
  description: Full image reference.
  returned: always
  type: str
  sample: registry.digitalocean.com/dbr-cr/echo-server:1f2e3d4
"""

from ansible_collections.echo.platform.plugins.module_utils._common.module import EchoModule
from ansible_collections.echo.platform.plugins.module_utils._do import argspec as do_connection
from ansible_collections.echo.platform.plugins.module_utils._do.registry import registry_tag_info


def main():
    argument_spec = dict(
        registry=dict(type="str", required=True),
        repository=dict(type="str", required=True),
        tag=dict(type="str", required=True),
        min_size_bytes=dict(type="int", default=1),
    )
    module = EchoModule(argument_spec, shared_specs=[do_connection.ARG_SPEC], supports_check_mode=True)
    module.run(lambda: registry_tag_info(do_connection.client_from_module(module), module.params))


if __name__ == "__main__":
    main()
