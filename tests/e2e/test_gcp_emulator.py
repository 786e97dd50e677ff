"""The GCP emulator behind its TLS proxy: discovery-document validation, OAuth2, etag semantics, LROs.

Needs `testenv/bin/testenv up` (component 55-gcp-emulator). Fails, not skips, when it is not up.
"""

from __future__ import annotations

import os
import uuid

import pytest
import requests
from google.auth.transport.requests import AuthorizedSession
from google.oauth2 import service_account

from _gcp_support import client_environ, control, gcp_env  # pylint: disable=import-error

CLOUD = "https://www.googleapis.com/auth/cloud-platform"


@pytest.fixture(scope="module")
def env():
    return gcp_env()


@pytest.fixture(scope="module")
def session(env):
    os.environ.update({k: v for k, v in client_environ(env).items()
                       if k in ("HTTPS_PROXY", "NO_PROXY", "REQUESTS_CA_BUNDLE")})
    try:
        creds = service_account.Credentials.from_service_account_file(env["ECHO_GCP_SERVICE_ACCOUNT_FILE"],
                                                                      scopes=[CLOUD])
        yield AuthorizedSession(creds)
    finally:
        for key in ("HTTPS_PROXY", "NO_PROXY", "REQUESTS_CA_BUNDLE"):
            os.environ.pop(key, None)


def _violations(env):
    return control(env, "/_emulator/violations")["violations"]


def test_request_outside_the_discovery_document_is_refused_and_recorded(env, session):
    before = len(_violations(env))
    project = "e2e-" + uuid.uuid4().hex[:8]
    # a field Bucket does not have
    bad = session.post("https://storage.googleapis.com/storage/v1/b", params={"project": project},
                       json={"name": project + "-b", "colour": "blue"})
    assert bad.status_code == 400 and "discovery document" in bad.text
    # a method that does not exist
    bad = session.get("https://iam.googleapis.com/v1/projects/%s/serviceAccounts:frobnicate" % project)
    assert bad.status_code == 400
    # an unknown query parameter
    bad = session.post("https://cloudresourcemanager.googleapis.com/v1/projects/%s:getIamPolicy" % project,
                       params={"colour": "blue"}, json={})
    assert bad.status_code == 400
    assert len(_violations(env)) >= before + 3


def test_tls_proxy_refuses_other_hosts(env):
    with pytest.raises(requests.exceptions.ProxyError):
        requests.get("https://example.com/", proxies={"https": env["ECHO_GCP_HTTPS_PROXY"]},
                     verify=env["ECHO_GCP_CA_BUNDLE"], timeout=10)


def test_unauthenticated_and_forged_tokens_are_refused(env, session):
    plain = requests.Session()
    plain.proxies = {"https": env["ECHO_GCP_HTTPS_PROXY"]}
    plain.verify = env["ECHO_GCP_CA_BUNDLE"]
    resp = plain.post("https://cloudresourcemanager.googleapis.com/v1/projects/p:getIamPolicy", json={},
                      headers={"Authorization": "Bearer forged"}, timeout=10)
    assert resp.status_code == 401
    resp = plain.post("https://oauth2.googleapis.com/token", timeout=10,
                      data={"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": "a.b.c"})
    assert resp.status_code == 400


def test_set_iam_policy_with_a_stale_etag_is_aborted(env, session):
    project = "e2e-" + uuid.uuid4().hex[:8]
    url = "https://cloudresourcemanager.googleapis.com/v1/projects/%s" % project
    first = session.post(url + ":getIamPolicy", json={}).json()
    first["bindings"].append({"role": "roles/viewer", "members": ["user:a@example.com"]})
    ok = session.post(url + ":setIamPolicy", json={"policy": first})
    assert ok.status_code == 200 and ok.json()["etag"] != first["etag"]
    stale = session.post(url + ":setIamPolicy", json={"policy": first})
    assert stale.status_code == 409 and stale.json()["error"]["status"] == "ABORTED"


def test_fault_injection_answers_429_with_retry_after(env, session):
    control(env, "/_emulator/faults", {"method": "iam.projects.serviceAccounts.list", "status": 429, "count": 1})
    url = "https://iam.googleapis.com/v1/projects/e2e-faults/serviceAccounts"
    first = session.get(url)
    assert first.status_code == 429 and first.headers.get("Retry-After")
    assert session.get(url).status_code == 200


def test_vertex_endpoint_long_running_operation_on_the_regional_host(env, session):
    project = "e2e-" + uuid.uuid4().hex[:8]
    base = "https://europe-west4-aiplatform.googleapis.com/v1/"
    op = session.post(base + "projects/%s/locations/europe-west4/endpoints" % project,
                      params={"endpointId": "e2e-endpoint"}, json={"displayName": "e2e"}).json()
    assert op["done"] is False
    # not readable before its operation is done; a second create conflicts as ALREADY_EXISTS
    assert session.get(base + "projects/%s/locations/europe-west4/endpoints/e2e-endpoint" % project).status_code == 404
    again = session.post(base + "projects/%s/locations/europe-west4/endpoints" % project,
                         params={"endpointId": "e2e-endpoint"}, json={"displayName": "e2e"})
    assert again.status_code == 409 and again.json()["error"]["status"] == "ALREADY_EXISTS"
    for _ in range(5):
        op = session.get(base + op["name"]).json()
        if op.get("done"):
            break
    assert op["done"] and op["response"]["displayName"] == "e2e"
    got = session.get(base + "projects/%s/locations/europe-west4/endpoints/e2e-endpoint" % project)
    assert got.status_code == 200
    assert session.delete(base + "projects/%s/locations/europe-west4/endpoints/e2e-endpoint" % project).ok


def test_a_failed_operation_creates_nothing(env, session):
    project = "e2e-" + uuid.uuid4().hex[:8]
    base = "https://europe-west4-aiplatform.googleapis.com/v1/"
    control(env, "/_emulator/lro", {"method": "aiplatform.projects.locations.endpoints.create", "polls": 3,
                                    "fail": {"status": "RESOURCE_EXHAUSTED", "message": "e2e quota"}})
    op = session.post(base + "projects/%s/locations/europe-west4/endpoints" % project,
                      params={"endpointId": "e2e-fail"}, json={"displayName": "e2e"}).json()
    polls = 0
    while not op.get("done"):
        op = session.get(base + op["name"]).json()
        polls += 1
        assert polls <= 5
    assert polls == 3 and op["error"]["code"] == 8 and "response" not in op
    assert session.get(base + "projects/%s/locations/europe-west4/endpoints/e2e-fail" % project).status_code == 404


def test_no_response_left_the_discovery_documents(env):
    assert [v for v in _violations(env) if v.get("response")] == []
