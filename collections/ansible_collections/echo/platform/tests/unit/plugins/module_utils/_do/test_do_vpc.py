# -*- coding: utf-8 -*-
"""VPCs with an in-memory client: check mode writes nothing, immutable fields fail before any write."""

from __future__ import annotations

import pytest

from ansible_collections.echo.platform.plugins.module_utils._common.errors import DoError
from ansible_collections.echo.platform.plugins.module_utils._do import vpc
from ansible_collections.echo.platform.tests.unit.plugins.module_utils._do.fakes import FakeClient


def test_vpc_check_mode_predicts_and_writes_nothing():
    c = FakeClient()
    out = vpc.ensure_vpc(c, {"name": "v", "state": "present", "region": "ams3", "ip_range": "10.0.0.0/24",
                             "description": None}, check_mode=True)
    assert out["changed"] and out["vpc"]["name"] == "v" and c.writes == []


def test_vpc_immutable_range_fails_without_writing():
    c = FakeClient(lists={"/v2/vpcs": [{"id": "1", "name": "v", "region": "ams3", "ip_range": "10.0.0.0/24"}]})
    with pytest.raises(DoError, match="ip_range cannot change"):
        vpc.ensure_vpc(c, {"name": "v", "state": "present", "region": "ams3", "ip_range": "10.9.0.0/24",
                           "description": None}, check_mode=False)
    assert c.writes == []
