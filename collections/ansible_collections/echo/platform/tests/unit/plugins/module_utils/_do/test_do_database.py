# -*- coding: utf-8 -*-
"""Database clusters with an in-memory client: connection secrets only on request."""

from __future__ import annotations

import json

from ansible_collections.echo.platform.plugins.module_utils._do import database
from ansible_collections.echo.platform.tests.unit.plugins.module_utils._do.fakes import FakeClient


def test_database_connection_only_on_request():
    db = {"id": "d1", "name": "pg", "engine": "pg", "version": "16", "size": "s", "num_nodes": 1, "region": "ams3",
          "status": "online", "tags": [], "connection": {"uri": "postgresql://doadmin:CANARY@h/db", "password": "CANARY"}}
    c = FakeClient(gets={"/v2/databases": {"databases": [db]}, "/v2/databases/d1/firewall": {"rules": []}})
    params = {"name": "pg", "state": "present", "engine": "pg", "version": "16", "size": "s", "num_nodes": 1,
              "region": "ams3", "private_network_uuid": None, "tags": None, "eviction_policy": None,
              "trusted_sources": None, "return_connection": False, "wait": True, "wait_timeout": 10}
    out = database.ensure_database(c, params, check_mode=False)
    assert "CANARY" not in json.dumps(out) and not out["changed"]
    out = database.ensure_database(c, dict(params, return_connection=True), check_mode=False)
    assert out["connection"]["connection"]["password"] == "CANARY"
