# -*- coding: utf-8 -*-
"""The container registry with an in-memory client: an existing registry is only read; tag info
tells a missing registry from a missing tag."""

from __future__ import annotations

import pytest

from ansible_collections.echo.platform.plugins.module_utils._do import registry
from ansible_collections.echo.platform.tests.unit.plugins.module_utils._do.fakes import FakeClient


def test_registry_existing_is_only_read():
    c = FakeClient(gets={"/v2/registries/dbr-cr": {"registry": {"name": "dbr-cr", "region": "ams3"}}})
    out = registry.ensure_registry(c, {"name": "dbr-cr", "state": "present", "subscription_tier": "basic",
                                       "region": "ams3"}, check_mode=False)
    assert not out["changed"] and not out["created"] and c.writes == []
    assert out["endpoint"] == "registry.digitalocean.com/dbr-cr"


@pytest.mark.parametrize("gets,lists,exists,registry_exists", [
    ({}, {}, False, False),
    ({"/v2/registries/dbr-cr": {"registry": {"name": "dbr-cr"}}}, {}, False, True),
    ({}, {"/v2/registries/dbr-cr/repositories/dbr-echo-server/tags": [{"tag": "v1", "compressed_size_bytes": 9}]}, True, True),
])
def test_registry_tag_info_tells_missing_registry_from_missing_tag(gets, lists, exists, registry_exists):
    c = FakeClient(lists=lists, gets=gets)
    out = registry.registry_tag_info(c, {"registry": "dbr-cr", "repository": "dbr-echo-server", "tag": "v1", "min_size_bytes": 1})
    assert (out["exists"], out["registry_exists"], out["usable"]) == (exists, registry_exists, exists)
    assert c.writes == []
