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
