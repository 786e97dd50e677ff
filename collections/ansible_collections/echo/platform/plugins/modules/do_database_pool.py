#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: echo.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: do_database_pool
short_description: Manage a connection pool (PgBouncer) of a DigitalOcean PostgreSQL cluster
version_added: 0.1.0
description:
  - Create, update (mode, size, database, user) or delete a connection pool, found by name in its cluster.
  - Connection details are returned only with O(return_connection=true); register the result under C(no_log).
author:
  - echo.platform maintainers (@dembrane)
options:
  cluster:
    description:
      - Name (or UUID) of the PostgreSQL cluster.
    type: str
    required: true
  name:
    description:
      - Pool name.
    type: str
    required: true
  state:
    description:
      - Whether the pool should exist.
    type: str
    choices: [present, absent]
    default: present
  mode:
    description:
      - PgBouncer pool mode.
    type: str
    choices: [transaction, session, statement]
    default: transaction
  size:
    description:
      - Number of backend connections of the pool.
    type: int
    default: 10
  db:
    description:
      - Database the pool connects to.
    type: str
    default: defaultdb
  user:
    description:
      - Database user of the pool.
    type: str
    default: doadmin
  return_connection:
    description:
      - Return the connection details (URI with password) as RV(connection). They are secret.
    type: bool
    default: false
extends_documentation_fragment:
  - echo.platform.do_auth
  - echo.platform.attributes
  - echo.platform.attributes.FULL
  - echo.platform.attributes.DO_ACTION_GROUP
"""

EXAMPLES = r"""
- name: Ensure the transaction-mode pool
  echo.platform.do_database_pool:
    cluster: dbr-echo-dev-postgres
    name: dbr-echo-dev-postgres-pool
    db: defaultdb
    user: doadmin
    mode: transaction
    size: 10
    return_connection: true
  register: pool
  no_log: true
"""

RETURN = r"""
pool:
  description: The pool without connection details.
  returned: always
  type: dict
  sample: {name: dbr-echo-dev-postgres-pool, mode: transaction, size: 10, db: defaultdb, user: doadmin}
connection:
  description: Public and private connection details of the pool (secret).
  returned: when O(return_connection=true) and the pool exists
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

from ansible_collections.echo.platform.plugins.module_utils._common.module import EchoModule
from ansible_collections.echo.platform.plugins.module_utils._do import argspec as do_connection
from ansible_collections.echo.platform.plugins.module_utils._do.pool import ensure_pool


def main():
    argument_spec = dict(
        cluster=dict(type="str", required=True),
        name=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        mode=dict(type="str", choices=["transaction", "session", "statement"], default="transaction"),
        size=dict(type="int", default=10),
        db=dict(type="str", default="defaultdb"),
        user=dict(type="str", default="doadmin"),
        return_connection=dict(type="bool", default=False),
    )
    module = EchoModule(argument_spec, shared_specs=[do_connection.ARG_SPEC], supports_check_mode=True)
    module.run(lambda: ensure_pool(do_connection.client_from_module(module), module.params, module.check_mode))


if __name__ == "__main__":
    main()
