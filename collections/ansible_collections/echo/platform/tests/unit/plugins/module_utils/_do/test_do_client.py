# -*- coding: utf-8 -*-
"""Retry decisions, Retry-After/ratelimit-reset handling, POST safety, 404 and pagination of DoClient."""

from __future__ import annotations

import json

import pytest

from ansible_collections.echo.platform.plugins.module_utils._common.errors import DoError
from ansible_collections.echo.platform.plugins.module_utils._common.retry import RetryPolicy
from ansible_collections.echo.platform.plugins.module_utils._do import client as do_client


def test_should_retry_decisions():
    assert do_client.should_retry("GET", 429)
    assert do_client.should_retry("POST", 429)           # throttled: nothing happened
    assert do_client.should_retry("GET", 503)
    assert do_client.should_retry("DELETE", 500)
    assert not do_client.should_retry("POST", 500)       # unknown outcome, no probe
    assert not do_client.should_retry("POST", 500, created=True)
    assert do_client.should_retry("POST", 503, created=False)
    assert do_client.should_retry("POST", None, connection=True, created=False)
    assert not do_client.should_retry("GET", 422)
    assert not do_client.should_retry("GET", 404)


def test_retry_after_header_wins_then_ratelimit_reset():
    assert do_client.retry_after_from_headers({"Retry-After": "7"}, now=1000) == 7
    assert do_client.retry_after_from_headers({"ratelimit-reset": "1030", "ratelimit-remaining": "0"}, now=1000) == 30
    assert do_client.retry_after_from_headers({"ratelimit-reset": "1030", "ratelimit-remaining": "12"}, now=1000) is None
    assert do_client.retry_after_from_headers({}, now=1000) is None


def test_error_reason_and_pages():
    assert do_client.error_reason(422, {"id": "unprocessable_entity", "message": "bad size"}) == "bad size (HTTP 422)"
    assert do_client.error_reason(500, None) == "HTTP 500"
    assert do_client.next_page_url({"links": {"pages": {"next": "u"}}}) == "u"
    assert do_client.next_page_url({"links": {}}) is None


class FakeResponse:
    def __init__(self, status, body=None, headers=None, ctype="application/json"):
        self.status_code = status
        self._text = "" if body is None else (body if isinstance(body, str) else json.dumps(body))
        self.headers = dict(headers or {})
        if self._text:
            self.headers.setdefault("Content-Type", ctype)

    @property
    def content(self):
        return self._text.encode()

    def read(self):
        return self.content

    def text(self):
        return self._text


class ScriptedClient(do_client.DoClient):
    """DoClient whose transport is a list of canned responses (the pipeline is bypassed)."""

    def __init__(self, responses, **kw):
        super().__init__("http://127.0.0.1:9", "tok", policy=RetryPolicy(attempts=4, base_delay=0, jitter=False),
                         sleep=self._sleep, **kw)
        self.responses = list(responses)
        self.sent = []
        self.slept = []
        self._pydo.send_request = self._send

    def _sleep(self, seconds):
        self.slept.append(seconds)

    def _send(self, req, stream=False):  # pylint: disable=unused-argument
        self.sent.append((req.method, req.url))
        return self.responses.pop(0)


def test_get_404_is_none_and_never_retried():
    c = ScriptedClient([FakeResponse(404, {"id": "not_found", "message": "nope"})])
    assert c.get("/v2/vpcs/x", "VPC", "x") is None
    assert len(c.sent) == 1


def test_get_retries_429_honouring_retry_after():
    c = ScriptedClient([FakeResponse(429, {"id": "too_many_requests", "message": "slow"}, {"Retry-After": "3"}),
                        FakeResponse(200, {"vpc": {"id": "1"}})])
    assert c.get("/v2/vpcs/1", "VPC", "v") == {"vpc": {"id": "1"}}
    assert c.slept == [3.0]


def test_post_429_retried_5xx_not_without_probe():
    c = ScriptedClient([FakeResponse(429, {"id": "too_many_requests", "message": "slow"}),
                        FakeResponse(201, {"vpc": {"id": "1"}})])
    assert c.request("POST", "/v2/vpcs", body={}, verb="create", kind="VPC", name="v") == {"vpc": {"id": "1"}}
    c = ScriptedClient([FakeResponse(500, {"id": "server_error", "message": "oops"})])
    with pytest.raises(DoError) as err:
        c.request("POST", "/v2/vpcs", body={}, verb="create", kind="VPC", name="v")
    assert str(err.value) == "Failed to create VPC v: oops (HTTP 500)"
    assert len(c.sent) == 1


def test_post_5xx_retried_only_when_probe_finds_nothing():
    probes = []
    c = ScriptedClient([FakeResponse(503, {"id": "service_unavailable", "message": "x"}),
                        FakeResponse(201, {"vpc": {"id": "2"}})])
    out = c.request("POST", "/v2/vpcs", body={}, verb="create", kind="VPC", name="v",
                    probe=lambda: probes.append(1))
    assert out == {"vpc": {"id": "2"}} and probes == [1] and len(c.sent) == 2


def test_post_5xx_after_creation_returns_the_found_resource_without_second_post():
    c = ScriptedClient([FakeResponse(500, {"id": "server_error", "message": "x"})])
    out = c.request("POST", "/v2/vpcs", body={}, verb="create", kind="VPC", name="v", probe=lambda: {"vpc": {"id": "3"}})
    assert out == {"vpc": {"id": "3"}} and len(c.sent) == 1


def test_list_all_follows_pages():
    c = ScriptedClient([FakeResponse(200, {"vpcs": [{"id": 1}], "links": {"pages": {"next": "n"}}, "meta": {"total": 2}}),
                        FakeResponse(200, {"vpcs": [{"id": 2}], "links": {}, "meta": {"total": 2}})])
    assert c.list_all("/v2/vpcs", "vpcs", "VPC") == [{"id": 1}, {"id": 2}]
    assert "page=2" in c.sent[1][1]


def test_kubeconfig_raw_yaml():
    c = ScriptedClient([FakeResponse(200, "apiVersion: v1\nkind: Config\n", ctype="application/yaml")])
    assert c.kubeconfig("id", "c").startswith("apiVersion")


def test_missing_token_fails_clearly():
    with pytest.raises(DoError, match="DIGITALOCEAN_TOKEN"):
        do_client.DoClient("http://127.0.0.1:9", "")


def test_bearer_policy_allows_http():
    class Req:
        class http_request:  # noqa: N801  pylint: disable=invalid-name,too-few-public-methods
            headers = {}
    do_client.BearerTokenPolicy("abc").on_request(Req)
    assert Req.http_request.headers["Authorization"] == "Bearer abc"
