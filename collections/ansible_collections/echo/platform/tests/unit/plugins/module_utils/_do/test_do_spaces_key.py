# -*- coding: utf-8 -*-
"""Spaces keys with an in-memory client: a key is never re-created; the module keeps a new key's
secret in a file (mode 0600) and reads it back; a key whose create response was lost is replaced."""

from __future__ import annotations

import json
import os

from ansible_collections.echo.platform.plugins.module_utils._do import spaces_key
from ansible_collections.echo.platform.plugins.modules import do_spaces_key as mod
from ansible_collections.echo.platform.tests.unit.plugins.module_utils._do.fakes import FakeClient


def test_spaces_key_never_recreated_and_secret_kept_in_file(tmp_path):
    secret_file = tmp_path / "key.json"
    created = {"name": "k", "access_key": "AK", "secret_key": "CANARY-SECRET",
               "grants": [{"bucket": "b", "permission": "readwrite"}]}
    c = FakeClient(posts={("POST", "/v2/spaces/keys"): {"key": created}})
    params = {"name": "k", "state": "present", "grants": [{"bucket": "b", "permission": "readwrite"}],
              "secret_path": str(secret_file)}
    out = mod.ensure(c, params, check_mode=False)
    assert out["secret_key"] == "CANARY-SECRET" and "CANARY-SECRET" not in json.dumps(out["key"])
    assert oct(os.stat(secret_file).st_mode & 0o777) == "0o600"
    c2 = FakeClient(lists={"/v2/spaces/keys": [{"name": "k", "access_key": "AK",
                                                "grants": [{"bucket": "b", "permission": "readwrite"}]}]})
    out = mod.ensure(c2, params, check_mode=False)
    assert not out["changed"] and c2.writes == [] and out["secret_key"] == "CANARY-SECRET"
    out = mod.ensure(c2, dict(params, secret_path=None), check_mode=False)
    assert out["secret_key"] is None and out["warnings"]


class LostResponseClient(FakeClient):
    """The first POST creates the key but its response is lost (the probe finds the key)."""

    def __init__(self):
        super().__init__()
        self.posts_seen = 0

    def request(self, method, path, body=None, params=None, **kw):
        if method == "POST":
            self.posts_seen += 1
            self.writes.append((method, path, body))
            if self.posts_seen == 1:
                return {"access_key": "AK-LOST", "name": body["name"], "grants": body["grants"]}
            return {"key": {"access_key": "AK-NEW", "secret_key": "SK-NEW", "name": body["name"], "grants": body["grants"]}}
        return super().request(method, path, body, params, **kw)


def test_spaces_key_whose_create_response_was_lost_is_replaced():
    c = LostResponseClient()
    out = spaces_key.ensure_spaces_key(c, {"name": "k", "state": "present",
                                           "grants": [{"bucket": "b", "permission": "readwrite"}],
                                           "secret_path": None}, check_mode=False)
    assert out["access_key"] == "AK-NEW" and out["secret_key"] == "SK-NEW" and out["created"]
    assert [w[0] for w in c.writes] == ["POST", "DELETE", "POST"]
    assert c.writes[1][1] == "/v2/spaces/keys/AK-LOST"
