"""The DigitalOcean emulator: spec validation (a bad request fails), lifecycles, faults, state.

The spec is DigitalOcean's own OpenAPI document at ../shared/reference/digitalocean-openapi.json
(or $DO_OPENAPI_SPEC). Without it these tests cannot mean anything, so a missing spec fails the
run (it never skips). Every test ends by asserting the emulator recorded no violation, unless it
provokes one on purpose and says so (``expect_violations``).
"""

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
if not os.path.isfile(SPEC_PATH):
    pytest.fail("DigitalOcean OpenAPI spec not found at %s: it is expected at ../shared/reference/"
                "digitalocean-openapi.json next to the repository, or wherever DO_OPENAPI_SPEC points"
                % os.path.abspath(SPEC_PATH), pytrace=False)


@pytest.fixture(scope="module")
def spec():
    return Spec(SPEC_PATH)


@pytest.fixture()
def expect_violations():
    """A test that provokes violations on purpose appends how many it expects."""
    return []


@pytest.fixture()
def emu(tmp_path, expect_violations):
    server = build_server(port=0, kubeconfig=str(tmp_path / "kubeconfig"), delays={"cluster": 0.3, "pg": 0.2},
                          spec_path=SPEC_PATH)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    base = "http://127.0.0.1:%d" % server.server_address[1]
    yield base
    violations = call(base, "GET", "/_emulator/violations")[1]["violations"]
    server.shutdown()
    server.server_close()
    assert len(violations) == sum(expect_violations), violations


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


def test_bad_request_answers_422_and_is_recorded(emu, expect_violations):
    expect_violations.append(1)
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


# ---- formats, additionalProperties, every response ----------------------------------------------
def test_formats_are_checked(spec):
    op, _ = spec.find("GET", "/v2/projects/default/resources")
    good = {"resources": [{"urn": "do:dbaas:1c0d4c4e-0f6e-4e53-9d4a-0d5f1b3c2a11", "assigned_at": "2026-01-02T03:04:05Z",
                           "links": {"self": "https://api.digitalocean.com/v2/databases/1c0d4c4e"}, "status": "ok"}],
            "links": {}, "meta": {"total": 1}}
    spec.validate_response(op, 200, good)
    relative = json.loads(json.dumps(good))
    relative["resources"][0]["links"]["self"] = "/v2/databases/1c0d4c4e"
    with pytest.raises(SpecViolation, match="uri"):
        spec.validate_response(op, 200, relative)
    bad_time = json.loads(json.dumps(good))
    bad_time["resources"][0]["assigned_at"] = "yesterday"
    with pytest.raises(SpecViolation, match="date-time"):
        spec.validate_response(op, 200, bad_time)


def test_uuid_format_catches_an_empty_project_id(spec, emu):
    _, out, _ = call(emu, "POST", "/v2/databases", {"name": "pgf", "engine": "pg", "version": "16",
                                                     "size": "db-s-1vcpu-1gb", "num_nodes": 1, "region": "ams3"})
    db = out["database"]
    op, _ = spec.find("GET", "/v2/databases/%s" % db["id"])
    spec.validate_response(op, 200, {"database": db})
    with pytest.raises(SpecViolation, match="uuid"):
        spec.validate_response(op, 200, {"database": dict(db, project_id="")})
    with pytest.raises(SpecViolation, match="uuid"):
        spec.validate_request("POST", "/v2/databases", {}, {"name": "x", "engine": "pg", "size": "db-s-1vcpu-1gb",
                                                            "num_nodes": 1, "region": "ams3", "project_id": "nope"}, True)


def test_additional_properties_false_is_enforced(spec):
    body = {"model": "m", "input": "hello"}
    spec.validate_request("POST", "/v1/embeddings", {}, body, True)
    with pytest.raises(SpecViolation, match="Additional properties"):
        spec.validate_request("POST", "/v1/embeddings", {}, dict(body, colour="red"), True)


def test_error_and_non_json_responses_are_checked(spec):
    op, _ = spec.find("GET", "/v2/vpcs/5a4981aa-9653-4bd1-bef5-d6bff52042e4")
    spec.validate_response(op, 404, {"id": "not_found", "message": "gone"})
    with pytest.raises(SpecViolation, match="message"):
        spec.validate_response(op, 404, {"id": "not_found"})
    with pytest.raises(SpecViolation, match="message"):
        spec.validate_response(op, 418, {"id": "teapot"})  # the default response applies
    with pytest.raises(SpecViolation, match="media type text/plain"):
        spec.validate_response(op, 200, "hello", "text/plain")
    kube, _ = spec.find("GET", "/v2/kubernetes/clusters/5a4981aa-9653-4bd1-bef5-d6bff52042e4/kubeconfig")
    spec.validate_response(kube, 200, "apiVersion: v1\n", "application/yaml")
    with pytest.raises(SpecViolation, match="application/json is not declared"):
        spec.validate_response(kube, 200, {"apiVersion": "v1"}, "application/json")
    delete, _ = spec.find("DELETE", "/v2/vpcs/5a4981aa-9653-4bd1-bef5-d6bff52042e4")
    spec.validate_response(delete, 204, None)
    with pytest.raises(SpecViolation, match="declares none"):
        spec.validate_response(delete, 204, {"deleted": True})


def test_401_faults_and_errors_are_spec_true(emu):
    status, body, headers = call(emu, "GET", "/v2/vpcs", token=None)
    assert status == 401 and body["id"] == "unauthorized" and body["message"]
    assert call(emu, "GET", "/v2/vpcs/5a4981aa-9653-4bd1-bef5-d6bff52042e4")[1]["id"] == "not_found"
    call(emu, "POST", "/_emulator/faults", {"faults": [{"status": 429, "reset_in": 3, "count": 1}]})
    status, body, headers = call(emu, "GET", "/v2/vpcs")
    assert status == 429 and body["id"] == "too_many_requests"
    assert headers["ratelimit-remaining"] == "0" and len(headers.get_all("ratelimit-reset")) == 1
    # the emu fixture asserts none of these answers broke the spec


def test_unimplemented_spec_operation_is_501_and_recorded(emu, expect_violations):
    expect_violations.append(1)
    status, body, _ = call(emu, "GET", "/v2/droplets")
    assert status == 501 and body["id"] == "not_implemented" and "droplets" in body["message"]
    assert "not implement" in call(emu, "GET", "/_emulator/violations")[1]["violations"][0]["errors"][0]


# ---- default project, links ---------------------------------------------------------------------
def test_resources_join_the_default_project_with_absolute_links(emu):
    _, proj, _ = call(emu, "GET", "/v2/projects/default")
    pid = proj["project"]["id"]
    _, db, _ = call(emu, "POST", "/v2/databases", {"name": "pgp", "engine": "pg", "version": "16",
                                                    "size": "db-s-1vcpu-1gb", "num_nodes": 1, "region": "ams3"})
    assert db["database"]["project_id"] == pid
    _, k8s, _ = call(emu, "POST", "/v2/kubernetes/clusters", {
        "name": "cp", "region": "ams3", "version": "1.34.4-do.0", "node_pools": [{"name": "p", "size": "s-1vcpu-2gb", "count": 1}]})
    _, res, _ = call(emu, "GET", "/v2/projects/default/resources")
    links = dict((r["urn"], r["links"]["self"]) for r in res["resources"])
    assert links == {
        "do:dbaas:%s" % db["database"]["id"]: "https://api.digitalocean.com/v2/databases/%s" % db["database"]["id"],
        "do:kubernetes:%s" % k8s["kubernetes_cluster"]["id"]:
            "https://api.digitalocean.com/v2/kubernetes/clusters/%s" % k8s["kubernetes_cluster"]["id"]}
    _, new, _ = call(emu, "POST", "/v2/projects", {"name": "echo", "purpose": "Web Application", "environment": "Production"})
    _, moved, _ = call(emu, "POST", "/v2/projects/%s/resources" % new["project"]["id"],
                       {"resources": ["do:dbaas:%s" % db["database"]["id"]]})
    assert moved["resources"][0]["status"] == "assigned"
    assert [r["urn"] for r in call(emu, "GET", "/v2/projects/default/resources")[1]["resources"]] == [
        "do:kubernetes:%s" % k8s["kubernetes_cluster"]["id"]]


# ---- asynchronous lifecycles --------------------------------------------------------------------
def wait_until(fn, timeout=5.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met within %ss" % timeout)


def test_cluster_delete_shows_deleting_and_holds_the_vpc(emu):
    call(emu, "POST", "/_emulator/config", {"delays": {"cluster": 0, "cluster_delete": 0.6}})
    _, vpc, _ = call(emu, "POST", "/v2/vpcs", {"name": "vd", "region": "ams3", "ip_range": "10.1.0.0/24"})
    vid = vpc["vpc"]["id"]
    _, out, _ = call(emu, "POST", "/v2/kubernetes/clusters", {
        "name": "cd", "region": "ams3", "version": "1.34.4-do.0", "vpc_uuid": vid,
        "node_pools": [{"name": "p", "size": "s-1vcpu-2gb", "count": 1}]})
    cid = out["kubernetes_cluster"]["id"]
    assert call(emu, "DELETE", "/v2/kubernetes/clusters/%s" % cid)[0] == 204
    _, got, _ = call(emu, "GET", "/v2/kubernetes/clusters/%s" % cid)
    assert got["kubernetes_cluster"]["status"]["state"] == "deleting"
    status, body, _ = call(emu, "DELETE", "/v2/vpcs/%s" % vid)
    assert status == 403 and "cd" in body["message"]
    wait_until(lambda: call(emu, "GET", "/v2/kubernetes/clusters/%s" % cid)[0] == 404)
    assert call(emu, "DELETE", "/v2/vpcs/%s" % vid)[0] == 204


def test_database_removal_holds_the_vpc_for_a_while(emu):
    call(emu, "POST", "/_emulator/config", {"delays": {"pg": 0, "database_delete": 0.6}})
    _, vpc, _ = call(emu, "POST", "/v2/vpcs", {"name": "vdb", "region": "ams3", "ip_range": "10.2.0.0/24"})
    vid = vpc["vpc"]["id"]
    _, db, _ = call(emu, "POST", "/v2/databases", {"name": "pgd", "engine": "pg", "version": "16", "size": "db-s-1vcpu-1gb",
                                                    "num_nodes": 1, "region": "ams3", "private_network_uuid": vid})
    assert call(emu, "DELETE", "/v2/databases/%s" % db["database"]["id"])[0] == 204
    assert call(emu, "GET", "/v2/databases/%s" % db["database"]["id"])[0] == 404
    assert call(emu, "DELETE", "/v2/vpcs/%s" % vid)[0] == 403
    wait_until(lambda: call(emu, "DELETE", "/v2/vpcs/%s" % vid)[0] == 204)


def test_node_pool_resize_takes_time_node_by_node(emu):
    call(emu, "POST", "/_emulator/config", {"delays": {"cluster": 0, "node_pool": 0.4, "node_delete": 0.8}})
    _, out, _ = call(emu, "POST", "/v2/kubernetes/clusters", {
        "name": "cr", "region": "ams3", "version": "1.34.4-do.0", "node_pools": [{"name": "p", "size": "s-1vcpu-2gb", "count": 2}]})
    cid, pool = out["kubernetes_cluster"]["id"], out["kubernetes_cluster"]["node_pools"][0]
    path = "/v2/kubernetes/clusters/%s/node_pools/%s" % (cid, pool["id"])

    def states():
        nodes = call(emu, "GET", path)[1]["node_pool"]["nodes"]
        return dict((n["name"], n["status"]["state"]) for n in nodes)

    first = wait_until(lambda: (lambda s: s if set(s.values()) == {"running"} else None)(states()))
    assert len(first) == 2
    status, resized, _ = call(emu, "PUT", path, {"name": "p", "count": 3})
    assert status == 202 and resized["node_pool"]["count"] == 3
    now = states()
    assert len(now) == 3 and sorted(now.values()) == ["provisioning", "running", "running"]
    wait_until(lambda: set(states().values()) == {"running"})
    call(emu, "PUT", path, {"name": "p", "count": 1})
    shrinking = states()
    assert sorted(shrinking.values()) == ["draining", "draining", "running"]
    wait_until(lambda: "deleting" in states().values())
    final = wait_until(lambda: (lambda s: s if len(s) == 1 else None)(states()))
    assert list(final.values()) == ["running"] and set(final) <= set(first)
    listed = call(emu, "GET", "/v2/kubernetes/clusters")[1]["kubernetes_clusters"][0]["node_pools"][0]["nodes"]
    assert [n["name"] for n in listed] == list(final)


def test_database_resize_shows_resizing(emu):
    call(emu, "POST", "/_emulator/config", {"delays": {"pg": 0, "database_resize": 0.5}})
    _, db, _ = call(emu, "POST", "/v2/databases", {"name": "pgr", "engine": "pg", "version": "16", "size": "db-s-1vcpu-1gb",
                                                    "num_nodes": 1, "region": "ams3"})
    did = db["database"]["id"]
    assert call(emu, "PUT", "/v2/databases/%s/resize" % did, {"size": "db-s-1vcpu-2gb", "num_nodes": 1})[0] == 202
    got = call(emu, "GET", "/v2/databases/%s" % did)[1]["database"]
    assert got["status"] == "resizing" and got["size"] == "db-s-1vcpu-2gb"
    status, body, _ = call(emu, "PUT", "/v2/databases/%s/resize" % did, {"size": "db-s-2vcpu-4gb", "num_nodes": 1})
    assert status == 422 and "resizing" in body["message"]
    wait_until(lambda: call(emu, "GET", "/v2/databases/%s" % did)[1]["database"]["status"] == "online")


def test_domains_and_records(emu):
    status, out, _ = call(emu, "POST", "/v2/domains", {"name": "echo.example.com", "ip_address": "203.0.113.7"})
    assert status == 201 and out["domain"] == {"name": "echo.example.com", "ttl": 1800, "zone_file": None}
    assert call(emu, "POST", "/v2/domains", {"name": "echo.example.com"})[0] == 422
    status, rec, _ = call(emu, "POST", "/v2/domains/echo.example.com/records",
                          {"type": "A", "name": "api", "data": "203.0.113.8", "ttl": 300})
    assert status == 201 and rec["domain_record"]["name"] == "api"
    rid = rec["domain_record"]["id"]
    _, listed, _ = call(emu, "GET", "/v2/domains/echo.example.com/records?type=A&name=api.echo.example.com")
    assert [r["data"] for r in listed["domain_records"]] == ["203.0.113.8"]
    _, apex, _ = call(emu, "GET", "/v2/domains/echo.example.com/records?type=A&name=echo.example.com")
    assert [r["data"] for r in apex["domain_records"]] == ["203.0.113.7"]
    assert call(emu, "PATCH", "/v2/domains/echo.example.com/records/%d" % rid, {"type": "A", "data": "203.0.113.9"}
                )[1]["domain_record"]["data"] == "203.0.113.9"
    _, dom, _ = call(emu, "GET", "/v2/domains/echo.example.com")
    assert "api.echo.example.com. 300 IN A 203.0.113.9" in dom["domain"]["zone_file"]
    assert call(emu, "DELETE", "/v2/domains/echo.example.com/records/%d" % rid)[0] == 204
    assert call(emu, "GET", "/v2/domains/echo.example.com/records/%d" % rid)[0] == 404
    assert call(emu, "DELETE", "/v2/domains/echo.example.com")[0] == 204
    assert call(emu, "GET", "/v2/domains")[1]["domains"] == []
