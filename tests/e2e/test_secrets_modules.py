"""sealed_secret and secret_diff against the real controller: seal, apply, unseal, compare.

Needs `testenv/bin/testenv up`.
"""

from __future__ import annotations

import base64
import json
import textwrap

import pytest
import yaml

from _secrets_support import Kube, canary, require_testenv, run


@pytest.fixture(scope="module")
def kube():
    env = require_testenv()
    k = Kube(env["KUBECONFIG"])
    k.kubeconfig = env["KUBECONFIG"]
    yield k
    k.api_client.close()


@pytest.fixture()
def namespace(kube):
    ns = kube.create_namespace("e2e-sealed")
    yield ns
    kube.delete_namespace(ns)


def play(tmp_path, tasks, name="play.yml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump([{"name": "Test", "hosts": "localhost", "gather_facts": False,
                                     "tasks": tasks}], sort_keys=False))
    return ["ansible-playbook", "-i", "localhost,", "-c", "local", "-e", "ansible_python_interpreter={{ ansible_playbook_python }}",
            str(path), "-v", "--diff"]


@pytest.mark.parametrize("scope", ["strict", "namespace-wide", "cluster-wide"])
def test_controller_unseals_exactly_what_was_sealed(kube, namespace, tmp_path, scope):
    secret = canary()
    values = {
        "PLAIN": secret,
        "WITH_EQUALS": "a=b==" + secret,
        "QUOTES": "it's \"quoted\" " + secret,
        "MULTILINE": "line1\nline2 " + secret + "\n",
        "LONG_B64": base64.b64encode((secret * 200).encode()).decode(),
    }
    manifest = tmp_path / "m.yaml"
    rc, out = run(play(tmp_path, [{"name": "Seal", "echo.platform.sealed_secret": {
        "path": str(manifest), "name": "e2e", "namespace": namespace, "scope": scope,
        "kubeconfig": kube.kubeconfig, "values": values}}]))
    assert rc == 0, out
    assert secret not in out and secret not in manifest.read_text()
    data = yaml.safe_load(manifest.read_text())
    kube.apply_sealed(data)
    assert kube.wait_secret(namespace, "e2e", values) == values


def test_merge_keeps_untouched_ciphertexts_and_the_controller_agrees(kube, namespace, tmp_path):
    secret = canary()
    manifest = tmp_path / "m.yaml"
    base = {"kubeconfig": kube.kubeconfig, "path": str(manifest), "name": "merge", "namespace": namespace,
            "fingerprint_key": "fp-key-" + secret}
    rc, out = run(play(tmp_path, [{"name": "Seal", "echo.platform.sealed_secret": dict(base, values={"A": secret, "B": "b"})}]))
    assert rc == 0, out
    first = yaml.safe_load(manifest.read_text())
    # same values again: no change thanks to the fingerprints; then update B, add C, remove nothing
    rc, out = run(play(tmp_path, [
        {"name": "Same again", "echo.platform.sealed_secret": dict(base, values={"A": secret, "B": "b"}), "register": "same"},
        {"name": "No change", "ansible.builtin.assert": {"that": ["not same.changed"]}},
        {"name": "Update", "echo.platform.sealed_secret": dict(base, values={"B": "b2" + secret, "C": "c"})},
    ]))
    assert rc == 0, out
    assert secret not in out
    second = yaml.safe_load(manifest.read_text())
    assert second["spec"]["encryptedData"]["A"] == first["spec"]["encryptedData"]["A"]
    assert second["spec"]["encryptedData"]["B"] != first["spec"]["encryptedData"]["B"]
    kube.apply_sealed(second)
    expected = {"A": secret, "B": "b2" + secret, "C": "c"}
    assert kube.wait_secret(namespace, "merge", expected) == expected


def test_secret_diff_reports_names_and_fingerprints_only(kube, namespace, tmp_path):
    secret = canary()
    other = kube.create_namespace("e2e-sealed-other")
    try:
        kube.core.create_namespaced_secret(namespace, {"metadata": {"name": "s"}, "stringData": {
            "SAME": secret, "DIFF": "one" + secret, "ONLY_HERE": "x" + secret}})
        kube.core.create_namespaced_secret(other, {"metadata": {"name": "s"}, "stringData": {
            "SAME": secret, "DIFF": "two" + secret, "ONLY_THERE": "y" + secret}})
        env_file = tmp_path / "desired.env"
        env_file.write_text("SAME='%s'\nDIFF=new%s\nNEW=%s\n" % (secret, secret, secret))
        rc, out = run(play(tmp_path, [
            {"name": "Diff", "echo.platform.secret_diff": {
                "name": "s", "namespace": namespace, "label": "dev", "kubeconfig": kube.kubeconfig,
                "desired_file": str(env_file),
                "compare_to": [{"label": "prod", "namespace": other}],
                "required_keys": {"api": ["SAME", "DATABASE_URL"]}}, "register": "d"},
            {"name": "Dump", "ansible.builtin.copy": {"content": "{{ d | to_json }}", "dest": str(tmp_path / "d.json"),
                                                      "mode": "0600"}},
        ]))
        assert rc == 0, out
        result = json.loads((tmp_path / "d.json").read_text())
        assert secret not in out and secret not in json.dumps(result)
        assert result["added"] == ["NEW"] and result["changed_keys"] == ["DIFF"]
        assert result["removed"] == ["ONLY_HERE"] and result["unchanged"] == ["SAME"]
        m = result["matrix"]
        assert m["keys"]["SAME"]["dev"] == m["keys"]["SAME"]["prod"] == m["keys"]["SAME"]["desired"]
        assert m["keys"]["ONLY_THERE"]["dev"] is None
        assert "DIFF" in m["differing"] and "SAME" not in m["differing"]
        assert result["missing_required"]["dev"] == {"api": ["DATABASE_URL"]}
        assert result["changed"] is False
    finally:
        kube.delete_namespace(other)


def test_unreachable_controller_and_missing_cert_fail_clearly_without_writing(kube, namespace, tmp_path):
    secret = canary()
    manifest = tmp_path / "m.yaml"
    base = {"path": str(manifest), "name": "x", "namespace": namespace, "kubeconfig": kube.kubeconfig,
            "values": {"A": secret}}
    rc, out = run(play(tmp_path, [{"name": "Seal", "echo.platform.sealed_secret": dict(base, controller_name="no-such-controller")}]))
    assert rc != 0 and "Failed to fetch sealing certificate" in out and secret not in out
    rc, out = run(play(tmp_path, [{"name": "Seal", "echo.platform.sealed_secret": dict(base, certificate_path=str(tmp_path / "nope.pem"))}]))
    assert rc != 0 and "certificate_path" in out and secret not in out
    rc, out = run(play(tmp_path, [{"name": "Seal", "echo.platform.sealed_secret": dict(
        base, kubeconfig=None, host="https://127.0.0.1:9", validate_certs=False)}]))
    assert rc != 0 and "unreachable" in out and secret not in out
    bad = tmp_path / "bad.env"
    bad.write_text("GOOD=%s\nthis line is broken\n" % secret)
    rc, out = run(play(tmp_path, [{"name": "Seal", "echo.platform.sealed_secret": dict(
        base, values=None, values_file=str(bad))}]))
    assert rc != 0 and "line 2: expected KEY=VALUE" in out and secret not in out
    assert not manifest.exists()
