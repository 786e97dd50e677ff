#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: echo.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: do_database_cluster
short_description: Manage a DigitalOcean managed database cluster (PostgreSQL or Valkey)
version_added: 0.1.0
description:
  - Create, resize or delete a managed database cluster, found by name; set its firewall (trusted sources,
    for example a Kubernetes cluster) and, for Valkey, its eviction policy.
  - Engine, region and private network never change on an existing cluster (a difference fails). A version
    difference is reported as a warning. Tags are set at creation (the API has no tag update for databases);
    a difference is reported as a warning.
  - Connection details (URIs with passwords) are returned only with O(return_connection=true); register the
    result under C(no_log).
author:
  - echo.platform maintainers (@dembrane)
options:
  name:
    description:
      - Cluster name (unique in the account).
    type: str
    required: true
  state:
    description:
      - Whether the cluster should exist. V(absent) deletes it with all its data.
    type: str
    choices: [present, absent]
    default: present
  engine:
    description:
      - Database engine.
    type: str
    choices: [pg, valkey]
    required: true
  version:
    description:
      - Engine major version, for example V(16) for PostgreSQL or V(8) for Valkey. Required when O(state=present).
    type: str
  size:
    description:
      - Size slug, for example V(db-s-1vcpu-1gb). Required when O(state=present).
    type: str
  num_nodes:
    description:
      - Number of nodes (1 means no standby).
    type: int
    default: 1
  region:
    description:
      - Region slug, for example V(ams3). Required when O(state=present).
    type: str
  private_network_uuid:
    description:
      - UUID of the VPC the cluster is placed in.
    type: str
  tags:
    description:
      - Tags set when the cluster is created.
    type: list
    elements: str
  eviction_policy:
    description:
      - Valkey eviction policy. Ignored for PostgreSQL.
    type: str
    choices: [noeviction, allkeys_lru, allkeys_random, volatile_lru, volatile_random, volatile_ttl]
  trusted_sources:
    description:
      - Firewall rules (the full set). When omitted, the firewall is left as it is.
    type: list
    elements: dict
    suboptions:
      type:
        description: What V(value) names.
        type: str
        choices: [droplet, k8s, ip_addr, tag, app]
        required: true
      value:
        description: The droplet id, Kubernetes cluster UUID, IP address or CIDR, tag name or app id.
        type: str
        required: true
  return_connection:
    description:
      - Return the connection details (URI, host, port, user, password) as RV(connection). They are secret.
    type: bool
    default: false
extends_documentation_fragment:
  - echo.platform.do_auth
  - echo.platform.wait
  - echo.platform.attributes
  - echo.platform.attributes.FULL
  - echo.platform.attributes.DO_ACTION_GROUP
"""

EXAMPLES = r"""
- name: Ensure Postgres 16, reachable from the Kubernetes cluster only
  echo.platform.do_database_cluster:
    name: dbr-echo-dev-postgres
    engine: pg
    version: "16"
    size: db-s-1vcpu-1gb
    region: ams3
    private_network_uuid: "{{ vpc.vpc.id }}"
    tags: [dbr-echo, dev]
    trusted_sources:
      - {type: k8s, value: "{{ cluster.id }}"}
    return_connection: true
  register: postgres
  no_log: true

- name: Ensure Valkey 8 with an eviction policy
  echo.platform.do_database_cluster:
    name: dbr-echo-dev-redis
    engine: valkey
    version: "8"
    size: db-s-1vcpu-1gb
    region: ams3
    eviction_policy: volatile_lru
"""

RETURN = r"""
database:
  description: Managed fields of the cluster plus id, status, URN, trusted sources and eviction policy. No secrets.
  returned: always
  type: dict
  sample:
    id: 9cc10173-e9ea-4176-9dbc-a4cee4c4ff30
    name: dbr-echo-dev-postgres
    engine: pg
    version: "16"
    size: db-s-1vcpu-1gb
    num_nodes: 1
    status: online
    trusted_sources: [{type: k8s, value: bd5f5959-5e1e-4205-a714-a914373942af}]
connection:
  description: Public and private connection details (secret).
  returned: when O(return_connection=true) and O(state=present), not in check mode before creation
  type: dict
  contains:
    connection:
      description: Public endpoint (uri, host, port, user, password, database, ssl).
      type: dict
      returned: always
    private_connection:
      description: Endpoint inside the VPC (same keys).
      type: dict
      returned: always
"""

import os

from ansible_collections.echo.platform.plugins.module_utils._common.argspec import WAIT_ARG_SPEC
from ansible_collections.echo.platform.plugins.module_utils._common.module import EchoModule
from ansible_collections.echo.platform.plugins.module_utils._do import argspec as do_connection
from ansible_collections.echo.platform.plugins.module_utils._do.database import ensure_database


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        engine=dict(type="str", choices=["pg", "valkey"], required=True),
        version=dict(type="str"),
        size=dict(type="str"),
        num_nodes=dict(type="int", default=1),
        region=dict(type="str"),
        private_network_uuid=dict(type="str"),
        tags=dict(type="list", elements="str"),
        eviction_policy=dict(type="str", choices=["noeviction", "allkeys_lru", "allkeys_random", "volatile_lru",
                                                  "volatile_random", "volatile_ttl"]),
        trusted_sources=dict(type="list", elements="dict", options=dict(
            type=dict(type="str", choices=["droplet", "k8s", "ip_addr", "tag", "app"], required=True),
            value=dict(type="str", required=True),
        )),
        return_connection=dict(type="bool", default=False),
    )
    module = EchoModule(argument_spec, shared_specs=[do_connection.ARG_SPEC, WAIT_ARG_SPEC], supports_check_mode=True,
                        required_if=[("state", "present", ["version", "size", "region"])])
    # seconds between two reads while waiting (the rehearsal environment sets it lower)
    poll_interval = float(os.environ.get("ECHO_DO_POLL_INTERVAL", "2"))
    module.run(lambda: ensure_database(do_connection.client_from_module(module), module.params, module.check_mode,
                                       poll_interval=poll_interval))


if __name__ == "__main__":
    main()
