# -*- coding: utf-8 -*-
# Copyright: echo.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""REST client retries/errors, key listing and auth parameter checks (no network)."""

from __future__ import annotations

import json

import pytest

from ansible_collections.echo.platform.plugins.module_utils._common.errors import GcpError
from ansible_collections.echo.platform.plugins.module_utils._common.retry import RetryPolicy
from ansible_collections.echo.platform.plugins.module_utils._gcp import auth
from ansible_collections.echo.platform.plugins.module_utils._gcp.client import GcpClient
from ansible_collections.echo.platform.plugins.module_utils._gcp.keys import list_keys


class Resp:
    def __init__(self, status, body=None, headers=None):
        self.status_code = status
        self.body = body
        self.headers = headers or {}
        self.content = json.dumps(body).encode() if body is not None else b""
        self.text = self.content.decode()
        self.reason = "reason"

    def json(self):
        if self.body is None:
            raise ValueError("no body")
        return self.body


class Session:
    def __init__(self, responses):
        self.responses = list(responses)
        self.calls = []

    def request(self, method, url, json=None, timeout=None):  # pylint: disable=redefined-outer-name
        self.calls.append((method, url, json))
        return self.responses.pop(0)


def client(responses, sleeps):
    return GcpClient(Session(responses), policy=RetryPolicy(attempts=4, jitter=False), sleep=sleeps.append)


def test_retries_429_and_503_honouring_retry_after():
    sleeps = []
    c = client([Resp(429, {"error": {"status": "RESOURCE_EXHAUSTED"}}, {"Retry-After": "7"}),
                Resp(503, {"error": {"status": "UNAVAILABLE"}}), Resp(200, {"ok": True})], sleeps)
    assert c.call("GET", "https://x.googleapis.com/v1/a") == {"ok": True}
    assert len(sleeps) == 2 and sleeps[0] >= 7


def test_400_is_not_retried_and_message_names_the_action():
    sleeps = []
    c = client([Resp(400, {"error": {"status": "INVALID_ARGUMENT", "message": "bad field"}})], sleeps)
    with pytest.raises(GcpError) as err:
        c.call("POST", "https://x.googleapis.com/v1/a", {}, what="write thing t")
    assert err.value.status == 400 and sleeps == []
    assert str(err.value).startswith("Failed to write thing t: HTTP 400 INVALID_ARGUMENT bad field")


def test_empty_body_is_an_empty_dict():
    assert client([Resp(204)], []).call("DELETE", "https://x.googleapis.com/v1/a") == {}


def test_list_keys_metadata_only_and_missing_account():
    name = "projects/p/serviceAccounts/sa@p.iam.gserviceaccount.com/keys/"
    body = {"keys": [{"name": name + "bbb", "keyType": "USER_MANAGED", "privateKeyData": "c2VjcmV0"},
                     {"name": name + "aaa", "keyType": "USER_MANAGED", "disabled": True}]}
    keys = list_keys(client([Resp(200, body)], []), "p", "sa@p.iam.gserviceaccount.com")
    assert [k["key_id"] for k in keys] == ["aaa", "bbb"]
    assert keys[0]["disabled"] and "privateKeyData" not in json.dumps(keys)
    assert list_keys(client([Resp(404, {"error": {"status": "NOT_FOUND"}})], []), "p", "x@p") == []


@pytest.mark.parametrize("kind,args,ok", [
    ("serviceaccount", {}, False),
    ("serviceaccount", {"service_account_file": "/k.json"}, True),
    ("accesstoken", {}, False),
    ("accesstoken", {"access_token": "t"}, True),
    ("application", {}, True),
    ("machineaccount", {}, False),
])
def test_check_auth_params(kind, args, ok):
    assert (auth.check_auth_params(kind, **args) is None) == ok


def test_bad_service_account_contents_never_echoed():
    secret = '{"type": "service_account", "private_key": "CANARY-not-a-key"}'
    with pytest.raises(GcpError) as err:
        auth.credentials("serviceaccount", service_account_contents=secret)
    assert "CANARY" not in str(err.value)
