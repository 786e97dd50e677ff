"""The DigitalOcean emulator: spec validation (a bad request fails), lifecycles, faults, state."""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "testenv", "do_emulator"))

from server import build_server  # noqa: E402  pylint: disable=wrong-import-position,import-error
from spec import Spec, SpecViolation  # noqa: E402  pylint: disable=wrong-import-position,import-error

SPEC_PATH = os.environ.get("DO_OPENAPI_SPEC") or os.path.join(HERE, "..", "..", "..", "shared", "reference",
                                                              "digitalocean-openapi.json")
pytestmark = pytest.mark.skipif(not os.path.exists(SPEC_PATH), reason="DigitalOcean OpenAPI spec not found (DO_OPENAPI_SPEC)")


@pytest.fixture(scope="module")
def spec():
    return Spec(SPEC_PATH)


@pytest.fixture()
def emu(tmp_path):
    server = build_server(port=0, kubeconfig=str(tmp_path / "kubeconfig"), delays={"cluster": 0.3, "pg": 0.2},
                          spec_path=SPEC_PATH)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield "http://127.0.0.1:%d" % server.server_address[1]
    server.shutdown()
    server.server_close()


def call(base, method, path, body=None, token="t"):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            raw = resp.read().decode()
            return resp.status, (json.loads(raw) if raw and "json" in resp.headers.get("Content-Type", "") else raw), resp.headers
    except urllib.error.HTTPError as exc:
        raw = exc.read().decode()
        return exc.code, (json.loads(raw) if raw else None), exc.headers


def test_spec_rejects_bad_request_body(spec):
    with pytest.raises(SpecViolation, match="name"):
        spec.validate_request("POST", "/v2/vpcs", {}, {"name": "bad name!", "region": "ams3"}, True)
    with pytest.raises(SpecViolation, match="required"):
        spec.validate_request("POST", "/v2/databases", {}, {"name": "x", "engine": "pg"}, True)
    with pytest.raises(SpecViolation, match="no such operation"):
        spec.validate_request("GET", "/v2/nothing", {}, None, False)
    with pytest.raises(SpecViolation, match="unknown query parameter"):
        spec.validate_request("GET", "/v2/vpcs", {"colour": "red"}, None, False)
    op, params = spec.validate_request("GET", "/v2/vpcs/5a4981aa-9653-4bd1-bef5-d6bff52042e4", {}, None, False)
    assert op.operation_id == "vpcs_get" and params["vpc_id"].startswith("5a49")


def test_spec_response_validation(spec):
    op, _ = spec.find("GET", "/v2/vpcs")
    spec.validate_response(op, 200, {"vpcs": [], "links": {}, "meta": {"total": 0}})
    with pytest.raises(SpecViolation):
        spec.validate_response(op, 200, {"vpcs": [], "links": {}})  # meta is required


def test_bad_request_answers_422_and_is_recorded(emu):
    status, body, _ = call(emu, "POST", "/v2/vpcs", {"name": "bad name!", "region": "ams3"})
    assert status == 422 and body["id"] == "spec_violation"
    _, violations, _ = call(emu, "GET", "/_emulator/violations")
    assert len(violations["violations"]) == 1


def test_auth_required(emu):
    assert call(emu, "GET", "/v2/vpcs", token=None)[0] == 401


def test_cluster_lifecycle_and_kubeconfig(emu):
    _, vpc, _ = call(emu, "POST", "/v2/vpcs", {"name": "v1", "region": "ams3", "ip_range": "10.0.0.0/24"})
    status, out, headers = call(emu, "POST", "/v2/kubernetes/clusters", {
        "name": "c1", "region": "ams3", "version": "1.34.4-do.0", "vpc_uuid": vpc["vpc"]["id"],
        "node_pools": [{"name": "p", "size": "s-1vcpu-2gb", "count": 1}]})
    assert status == 201 and out["kubernetes_cluster"]["status"]["state"] == "provisioning"
    assert headers["ratelimit-limit"] == "5000"
    cid = out["kubernetes_cluster"]["id"]
    assert call(emu, "GET", "/v2/kubernetes/clusters/%s/kubeconfig" % cid)[0] == 404
    time.sleep(0.4)
    assert call(emu, "GET", "/v2/kubernetes/clusters/%s" % cid)[1]["kubernetes_cluster"]["status"]["state"] == "running"
    status, text, _ = call(emu, "GET", "/v2/kubernetes/clusters/%s/kubeconfig" % cid)
    assert status == 200 and "apiVersion: v1" in text


def test_database_lifecycle(emu):
    status, out, _ = call(emu, "POST", "/v2/databases", {"name": "pg", "engine": "pg", "version": "16",
                                                         "size": "db-s-1vcpu-1gb", "num_nodes": 1, "region": "ams3"})
    assert status == 201 and out["database"]["status"] == "creating"
    time.sleep(0.3)
    assert call(emu, "GET", "/v2/databases/%s" % out["database"]["id"])[1]["database"]["status"] == "online"


def test_faults_429_with_retry_after_and_503(emu):
    call(emu, "POST", "/_emulator/faults", {"faults": [
        {"status": 429, "retry_after": 2, "method": "GET", "path": "^/v2/vpcs$", "count": 1},
        {"status": 503, "method": "GET", "path": "^/v2/vpcs$", "count": 1}]})
    status, _, headers = call(emu, "GET", "/v2/vpcs")
    assert status == 429 and headers["Retry-After"] == "2"
    assert call(emu, "GET", "/v2/vpcs")[0] == 503
    assert call(emu, "GET", "/v2/vpcs")[0] == 200
    _, stats, _ = call(emu, "GET", "/_emulator/stats")
    assert stats["faults_injected"] == 2


def test_fault_after_phase_still_creates(emu):
    call(emu, "POST", "/_emulator/faults", {"faults": [{"status": 500, "method": "POST", "phase": "after", "count": 1}]})
    assert call(emu, "POST", "/v2/vpcs", {"name": "v2", "region": "ams3"})[0] == 500
    assert [v["name"] for v in call(emu, "GET", "/v2/vpcs")[1]["vpcs"]] == ["v2"]


def test_spaces_key_secret_only_on_create_and_reset(emu):
    status, out, _ = call(emu, "POST", "/v2/spaces/keys", {"name": "k", "grants": [{"bucket": "b", "permission": "read"}]})
    assert status == 201 and out["key"]["secret_key"]
    _, listed, _ = call(emu, "GET", "/v2/spaces/keys?name=k")
    assert "secret_key" not in listed["keys"][0]
    call(emu, "POST", "/_emulator/reset")
    assert call(emu, "GET", "/v2/spaces/keys")[1]["keys"] == []


def test_registry_tags(emu):
    call(emu, "POST", "/v2/registries", {"name": "dbr-cr", "subscription_tier_slug": "basic", "region": "ams3"})
    call(emu, "POST", "/_emulator/registry_tags", {"registry": "dbr-cr", "repository": "server", "tag": "v1", "size_bytes": 5})
    _, tags, _ = call(emu, "GET", "/v2/registries/dbr-cr/repositories/server/tags")
    assert tags["tags"][0]["tag"] == "v1"
    assert call(emu, "GET", "/v2/registries/dbr-cr/repositories/other/tags")[0] == 404


def test_registry_tags_queued_until_the_registry_exists(emu):
    push = {"registry": "dbr-cr", "repository": "dbr-echo-server", "tag": "rehearsal", "size_bytes": 7}
    assert call(emu, "POST", "/_emulator/registry_tags", push)[0] == 404
    assert call(emu, "POST", "/_emulator/registry_tags", dict(push, when_created=True))[0] == 201
    assert call(emu, "GET", "/v2/registries/dbr-cr/repositories/dbr-echo-server/tags")[0] == 404
    call(emu, "POST", "/v2/registries", {"name": "dbr-cr", "subscription_tier_slug": "basic", "region": "ams3"})
    _, tags, _ = call(emu, "GET", "/v2/registries/dbr-cr/repositories/dbr-echo-server/tags")
    assert [(t["tag"], t["size_bytes"]) for t in tags["tags"]] == [("rehearsal", 7)]
