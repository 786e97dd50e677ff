from __future__ import annotations

import os

import pytest
import yaml

from ansible_collections.echo.platform.plugins.module_utils._common.errors import (
    K8sError, SealedSecretsError, ValidationError)
from ansible_collections.echo.platform.plugins.module_utils._k8s import client as k8s
from ansible_collections.echo.platform.plugins.module_utils._sealed import crypto, keydiff, service
from ansible_collections.echo.platform.plugins.modules import secret_diff

CANARY = "CANARY-unit-5f0c"


def test_read_values_merges_file_and_dict(tmp_path):
    f = tmp_path / "v.env"
    f.write_text("A=1\nB='two'\n")
    assert service.read_values({"B": "dict wins", "C": 3}, str(f)) == {"A": "1", "B": "dict wins", "C": "3"}
    with pytest.raises(ValidationError, match="does not exist"):
        service.read_values(None, str(tmp_path / "missing.env"))
    with pytest.raises(ValidationError, match="boolean"):
        service.read_values({"FLAG": True})
    with pytest.raises(ValidationError, match="not a valid key"):
        service.read_values({"bad key": "x"})


def test_seal_manifest_writes_atomically_and_failures_touch_nothing(tmp_path, keypair):
    priv, pem = keypair
    path = str(tmp_path / "s.yaml")
    res = service.seal_manifest(path, "ns", "n", {"A": CANARY, "B": "b"}, pem)
    assert res["changed"] and res["added"] == ["A", "B"] and CANARY not in repr(res)
    assert oct(os.stat(path).st_mode & 0o777) == "0o644"
    before = open(path, "rb").read()
    with pytest.raises(SealedSecretsError, match="lack 1 key"):
        service.seal_manifest(path, "ns", "n", {"C": "c"}, pem, expect_keys=["A", "B", "LIVE_ONLY"])
    with pytest.raises(SealedSecretsError, match="Refusing to reseal"):
        service.seal_manifest(path, "ns", "n", {"A": "x"}, pem, reseal=True)
    with pytest.raises(SealedSecretsError, match="certificate"):
        service.seal_manifest(path, "ns", "n", {"A": "x"}, "not a cert")
    assert open(path, "rb").read() == before
    assert sorted(os.listdir(str(tmp_path))) == ["s.yaml"]  # no temp files left behind
    res = service.seal_manifest(path, "ns", "n", {"C": "c"}, pem, check_mode=True)
    assert res["changed"] and res["key_names"] == ["A", "B", "C"] and open(path, "rb").read() == before
    assert "+C" not in res["diff"]["after"] and "C\n" in res["diff"]["after"]
    m = yaml.safe_load(before)
    assert crypto.decrypt_value(priv, b"ns/n", m["spec"]["encryptedData"]["A"]) == CANARY.encode()


def test_fetch_certificate_wraps_proxy_errors():
    class Broken:
        def service_proxy_get(self, *a):
            raise K8sError("Failed to get path x: 503 no endpoints")
    with pytest.raises(SealedSecretsError, match="Failed to fetch sealing certificate from kube-system/ssc:8080.*503"):
        service.fetch_certificate(Broken(), "kube-system", "ssc", "8080")


def test_service_proxy_path_and_secret_decoding():
    assert k8s.service_proxy_path("kube-system", "ssc", 8080, "/v1/cert.pem") == \
        "/api/v1/namespaces/kube-system/services/ssc:8080/proxy/v1/cert.pem"
    assert k8s.decode_secret_data({"data": {"A": "YQ=="}, "stringData": {"B": "b"}}) == {"A": "a", "B": "b"}
    with pytest.raises(K8sError, match="binary"):
        k8s.decode_secret_data({"data": {"BIN": "/w=="}})


def test_keydiff_fingerprints_are_comparable_in_a_run_only():
    k1 = keydiff.derive_run_key(None, random_bytes=lambda n: b"\x01" * n)
    k2 = keydiff.derive_run_key(None, random_bytes=lambda n: b"\x02" * n)
    assert keydiff.fingerprints({"A": "v"}, k1) != keydiff.fingerprints({"A": "v"}, k2)
    assert keydiff.fingerprints({"A": "v"}, k1)["A"] != keydiff.fingerprints({"B": "v"}, k1)["B"]
    assert keydiff.derive_run_key("vault") == keydiff.derive_run_key("vault")


def test_compare_matrix_and_required_keys():
    run_key = b"k" * 32
    sources = {"dev": {"A": "1", "B": "2", "C": CANARY}, "prod": {"A": "1", "B": "x"}, "testing": None}
    res = secret_diff.compare(sources, "dev", None, ["prod", "testing"], {"api": ["A", "D"]}, run_key)
    assert res["changed"] is False and res["exists"] is True
    assert res["matrix"]["differing"] == ["A", "B", "C"]  # testing lacks all of them
    assert res["matrix"]["missing"] == {"dev": [], "prod": ["C"], "testing": ["A", "B", "C"]}
    assert res["missing_required"] == {"dev": {"api": ["D"]}, "prod": {"api": ["D"]}, "testing": {"api": ["A", "D"]}}
    assert CANARY not in repr(res)
    res = secret_diff.compare(sources, "dev", None, ["prod"], {}, run_key)
    assert (res["added"], res["changed_keys"], res["removed"], res["unchanged"]) == ([], ["B"], ["C"], ["A"])
    sources["desired"] = {"A": "1", "N": "n"}
    res = secret_diff.compare(sources, "dev", sources["desired"], ["prod"], {}, run_key)
    assert (res["added"], res["removed"], res["unchanged"]) == (["N"], ["B", "C"], ["A"])
