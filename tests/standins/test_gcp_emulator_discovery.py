"""The GCP emulator's request validation against Google's discovery documents (no network)."""

from __future__ import annotations

import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "testenv" / "gcp_emulator"))
import discovery  # noqa: E402  pylint: disable=wrong-import-position,import-error


def api(host):
    found = discovery.api_for_host(host)
    assert found is not None
    return found


@pytest.mark.parametrize("host,verb,path,method_id", [
    ("storage.googleapis.com", "POST", "/storage/v1/b", "storage.buckets.insert"),
    ("storage.googleapis.com", "GET", "/storage/v1/b/my-bucket", "storage.buckets.get"),
    ("serviceusage.googleapis.com", "POST", "/v1/projects/p/services/iam.googleapis.com:enable",
     "serviceusage.services.enable"),
    ("iam.googleapis.com", "POST", "/v1/projects/p/serviceAccounts/sa@p.iam.gserviceaccount.com/keys",
     "iam.projects.serviceAccounts.keys.create"),
    ("cloudresourcemanager.googleapis.com", "POST", "/v1/projects/p:setIamPolicy",
     "cloudresourcemanager.projects.setIamPolicy"),
    ("europe-west4-aiplatform.googleapis.com", "GET",
     "/v1/projects/p/locations/europe-west4/endpoints/e/operations/o",
     "aiplatform.projects.locations.endpoints.operations.get"),
])
def test_known_methods_route(host, verb, path, method_id):
    assert api(host).match(verb, path)[0].id == method_id


def test_unknown_host_path_and_verb():
    assert discovery.api_for_host("example.googleapis.com") is None
    with pytest.raises(discovery.Violation):
        api("iam.googleapis.com").match("GET", "/v1/projects/p/frobnicators")
    with pytest.raises(discovery.Violation):
        api("storage.googleapis.com").match("PUT", "/storage/v1/b")


def test_body_fields_and_types_are_checked():
    storage = api("storage.googleapis.com")
    insert = storage.match("POST", "/storage/v1/b")[0]
    storage.check_body(insert, {"name": "b", "versioning": {"enabled": True},
                                "lifecycle": {"rule": [{"action": {"type": "Delete"}, "condition": {"age": 3650}}]}})
    storage.check_body(insert, {"name": "b", "project": "tolerated-quirk"})
    with pytest.raises(discovery.Violation):
        storage.check_body(insert, {"name": "b", "colour": "blue"})
    with pytest.raises(discovery.Violation):
        storage.check_body(insert, {"name": "b", "versioning": {"enabled": "yes"}})
    with pytest.raises(discovery.Violation):
        storage.check_body(insert, {"name": "b", "lifecycle": {"rule": [{"action": {"kind": "Delete"}}]}})


def test_query_parameters_are_checked():
    crm = api("cloudresourcemanager.googleapis.com")
    method = crm.match("POST", "/v1/projects/p:getIamPolicy")[0]
    crm.check_query(method, {"alt": "json", "prettyPrint": "false"})
    with pytest.raises(discovery.Violation):
        crm.check_query(method, {"colour": "blue"})


def test_enum_values_are_checked():
    iam = api("iam.googleapis.com")
    method = iam.match("POST", "/v1/projects/p/serviceAccounts/sa@p.iam.gserviceaccount.com/keys")[0]
    iam.check_body(method, {"privateKeyType": "TYPE_GOOGLE_CREDENTIALS_FILE", "keyAlgorithm": "KEY_ALG_RSA_2048"})
    with pytest.raises(discovery.Violation):
        iam.check_body(method, {"privateKeyType": "TYPE_PEM"})


def test_required_fields_and_parameters():
    iam = api("iam.googleapis.com")
    create = iam.match("POST", "/v1/projects/p/serviceAccounts")[0]
    iam.check_body(create, {"accountId": "echo-agent"})
    with pytest.raises(discovery.Violation, match="required field 'accountId'"):
        iam.check_body(create, {"serviceAccount": {"displayName": "x"}})
    storage = api("storage.googleapis.com")
    insert = storage.match("POST", "/storage/v1/b")[0]
    with pytest.raises(discovery.Violation, match="required query parameter 'project'"):
        storage.check_query(insert, {})
    with pytest.raises(discovery.Violation, match="required field 'name'"):
        storage.check_body(insert, {"location": "EU"})  # annotations.required lists storage.buckets.insert
    patch = storage.match("PATCH", "/storage/v1/b/x")[0]
    storage.check_body(patch, {"labels": {"a": "b"}})  # partial updates leave required fields out


def test_responses_are_checked():
    iam = api("iam.googleapis.com")
    get = iam.match("GET", "/v1/projects/p/serviceAccounts/sa@p.iam.gserviceaccount.com")[0]
    iam.check_response(get, 200, {"email": "sa@p.iam.gserviceaccount.com", "uniqueId": "1"})
    with pytest.raises(discovery.Violation, match="unknown field 'colour'"):
        iam.check_response(get, 200, {"email": "x", "colour": "blue"})
    iam.check_response(get, 404, {"error": {"code": 404, "message": "gone", "status": "NOT_FOUND"}})
    with pytest.raises(discovery.Violation, match="canonical"):
        iam.check_response(get, 409, {"error": {"code": 409, "message": "x", "status": "CONFLICT"}})
    with pytest.raises(discovery.Violation, match="HTTP status"):
        iam.check_response(get, 404, {"error": {"code": 400, "message": "x"}})
    vertex = api("europe-west4-aiplatform.googleapis.com")
    ep = vertex.match("GET", "/v1/projects/p/locations/europe-west4/endpoints/e")[0]
    with pytest.raises(discovery.Violation, match="required field 'displayName'"):
        vertex.check_response(ep, 200, {"name": "projects/1/locations/europe-west4/endpoints/e"})


# ---- the emulator itself, in process ------------------------------------------------------------
import json  # noqa: E402  pylint: disable=wrong-import-position
import threading  # noqa: E402  pylint: disable=wrong-import-position
import urllib.error  # noqa: E402  pylint: disable=wrong-import-position
import urllib.request  # noqa: E402  pylint: disable=wrong-import-position
import importlib.util  # noqa: E402  pylint: disable=wrong-import-position

# loaded by path under its own name: every stand-in's entry point is called server.py
_SPEC = importlib.util.spec_from_file_location(
    "gcp_emulator_server", pathlib.Path(__file__).resolve().parents[2] / "testenv" / "gcp_emulator" / "server.py")
emulator = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(emulator)


@pytest.fixture()
def gcp(tmp_path):
    server = emulator.standin_http.Server(("127.0.0.1", 0), emulator.Handler, state=emulator.State(str(tmp_path)))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    port = server.server_address[1]

    def call(host, method, path, body=None, token=None):
        req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), method=method,
                                     data=json.dumps(body).encode() if body is not None else None)
        req.add_header("Host", host)
        req.add_header("Content-Type", "application/json")
        if token:
            req.add_header("Authorization", "Bearer " + token)
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                raw = resp.read()
                return resp.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            return exc.code, json.loads(raw) if raw else None

    token = call("127.0.0.1", "POST", "/_emulator/token", {"email": "t@p.iam.gserviceaccount.com"})[1]["access_token"]
    yield lambda host, method, path, body=None: call(host, method, path, body, token), call
    violations = call("127.0.0.1", "GET", "/_emulator/violations")[1]["violations"]
    server.shutdown()
    server.server_close()
    assert [v for v in violations if v.get("response")] == []  # every answer fitted the documents


CRM = "cloudresourcemanager.googleapis.com"
VERTEX = "europe-west4-aiplatform.googleapis.com"


def test_conflicts_are_specific(gcp):
    call, _raw = gcp
    body = {"accountId": "echo-agent"}
    assert call("iam.googleapis.com", "POST", "/v1/projects/p/serviceAccounts", body)[0] == 200
    status, out = call("iam.googleapis.com", "POST", "/v1/projects/p/serviceAccounts", body)
    assert status == 409 and out["error"]["status"] == "ALREADY_EXISTS"
    assert call("storage.googleapis.com", "POST", "/storage/v1/b?project=p", {"name": "bkt"})[0] == 200
    status, out = call("storage.googleapis.com", "POST", "/storage/v1/b?project=p", {"name": "bkt"})
    assert status == 409 and out["error"]["status"] == "ALREADY_EXISTS" and out["error"]["errors"][0]["reason"] == "conflict"
    policy = call(CRM, "POST", "/v1/projects/p:getIamPolicy", {})[1]
    assert call(CRM, "POST", "/v1/projects/p:setIamPolicy", {"policy": policy})[0] == 200
    status, out = call(CRM, "POST", "/v1/projects/p:setIamPolicy", {"policy": policy})  # stale etag
    assert status == 409 and out["error"]["status"] == "ABORTED"


def test_set_iam_policy_honours_the_update_mask(gcp):
    call, _raw = gcp
    audit = [{"service": "allServices", "auditLogConfigs": [{"logType": "DATA_READ"}]}]
    policy = call(CRM, "POST", "/v1/projects/p:getIamPolicy", {})[1]
    policy = call(CRM, "POST", "/v1/projects/p:setIamPolicy",
                  {"policy": dict(policy, auditConfigs=audit), "updateMask": "bindings,etag,auditConfigs"})[1]
    assert policy["auditConfigs"] == audit
    # the default mask (bindings, etag) leaves auditConfigs alone even when the body drops them
    changed = dict(policy, bindings=policy["bindings"] + [{"role": "roles/viewer", "members": ["user:a@example.com"]}])
    del changed["auditConfigs"]
    out = call(CRM, "POST", "/v1/projects/p:setIamPolicy", {"policy": changed})[1]
    assert out["auditConfigs"] == audit and any(b["role"] == "roles/viewer" for b in out["bindings"])
    # a mask without bindings changes no binding
    out2 = call(CRM, "POST", "/v1/projects/p:setIamPolicy",
                {"policy": dict(((k, v) for k, v in out.items() if k != "auditConfigs"), bindings=[]),
                 "updateMask": "auditConfigs"})[1]
    assert out2["bindings"] == out["bindings"] and "auditConfigs" not in out2
    assert call(CRM, "POST", "/v1/projects/p:setIamPolicy", {"policy": out2, "updateMask": "owners"})[0] == 400


def test_policy_versions(gcp):
    call, _raw = gcp
    cond = {"title": "until-2030", "expression": "request.time < timestamp('2030-01-01T00:00:00Z')"}
    policy = call(CRM, "POST", "/v1/projects/p:getIamPolicy", {"options": {"requestedPolicyVersion": 3}})[1]
    binding = {"role": "roles/viewer", "members": ["user:a@example.com"], "condition": cond}
    status, out = call(CRM, "POST", "/v1/projects/p:setIamPolicy",
                       {"policy": dict(policy, bindings=policy["bindings"] + [binding])})
    assert status == 400 and "version 3" in out["error"]["message"]
    out = call(CRM, "POST", "/v1/projects/p:setIamPolicy",
               {"policy": dict(policy, version=3, bindings=policy["bindings"] + [binding])})[1]
    assert out["version"] == 3
    v3 = call(CRM, "POST", "/v1/projects/p:getIamPolicy", {"options": {"requestedPolicyVersion": 3}})[1]
    assert v3["version"] == 3 and any(b.get("condition") == cond for b in v3["bindings"])
    v1 = call(CRM, "POST", "/v1/projects/p:getIamPolicy", {})[1]
    assert v1["version"] == 1 and not any(b.get("condition") for b in v1["bindings"])
    assert any(b["role"].startswith("roles/viewer_withcond_") for b in v1["bindings"])
    status, out = call(CRM, "POST", "/v1/projects/p:setIamPolicy", {"policy": v1})
    assert status == 400
    assert call(CRM, "POST", "/v1/projects/p:getIamPolicy", {"options": {"requestedPolicyVersion": 2}})[0] == 400


def test_long_running_operations_take_polls_and_can_fail(gcp):
    call, raw = gcp
    base = "/v1/projects/p/locations/europe-west4/endpoints"
    raw("127.0.0.1", "POST", "/_emulator/lro", {"method": "aiplatform.projects.locations.endpoints.create", "polls": 3})
    op = call(VERTEX, "POST", base + "?endpointId=e1", {"displayName": "e1"})[1]
    assert op["done"] is False
    assert call(VERTEX, "GET", base + "/e1")[0] == 404  # readable only once the operation is done
    assert call(VERTEX, "POST", base + "?endpointId=e1", {"displayName": "e1"})[1]["error"]["status"] == "ALREADY_EXISTS"
    polls = []
    while not op["done"]:
        op = call(VERTEX, "GET", "/v1/" + op["name"])[1]
        polls.append(op["done"])
    assert polls == [False, False, True] and op["response"]["displayName"] == "e1"
    assert call(VERTEX, "GET", base + "/e1")[1]["displayName"] == "e1"
    raw("127.0.0.1", "POST", "/_emulator/lro", {"method": "aiplatform.projects.locations.endpoints.create", "polls": 2,
                                               "fail": {"status": "RESOURCE_EXHAUSTED", "message": "quota exceeded"}})
    op = call(VERTEX, "POST", base + "?endpointId=e2", {"displayName": "e2"})[1]
    while not op["done"]:
        op = call(VERTEX, "GET", "/v1/" + op["name"])[1]
    assert op["error"] == {"code": 8, "message": "quota exceeded"} and "response" not in op
    assert call(VERTEX, "GET", base + "/e2")[0] == 404  # a failed operation created nothing
    status, svc_op = call("serviceusage.googleapis.com", "POST", "/v1/projects/p/services/aiplatform.googleapis.com:enable", {})
    assert status == 200 and svc_op["done"] is False
    svc = call("serviceusage.googleapis.com", "GET", "/v1/projects/p/services/aiplatform.googleapis.com")[1]
    assert svc["state"] == "DISABLED"
    call("serviceusage.googleapis.com", "GET", "/v1/" + svc_op["name"])
    svc = call("serviceusage.googleapis.com", "GET", "/v1/projects/p/services/aiplatform.googleapis.com")[1]
    assert svc["state"] == "ENABLED"


def test_unauthenticated_answer_fits_the_envelope(gcp):
    _call, raw = gcp
    status, out = raw("iam.googleapis.com", "GET", "/v1/projects/p/serviceAccounts")
    assert status == 401 and out["error"]["status"] == "UNAUTHENTICATED"
