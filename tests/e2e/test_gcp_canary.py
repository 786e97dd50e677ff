"""The service-account key made by playbooks/provision_gcp.yml never appears in any output.

Runs the GCP layer and then the secrets layer (one ansible-playbook run, as site.yml does) against the emulator (a
fresh project per run) with --diff and -vv: key creation, a no-op run and a rotation. The key reaches the cluster
only as the SealedSecret argocd/gcp-sa (secrets/<env>/argocd/gcp-sa.yaml), which the controller unseals; the GCP
layer writes no plain Secret. The key material (read back from the unsealed Secret) is the canary: no line of its
PEM body, its JSON or its base64 form may appear in stdout/stderr.
Needs `testenv/bin/testenv up` (API server + gcp-emulator + sealed-secrets).
"""

from __future__ import annotations

import base64
import json
import pathlib
import subprocess
import uuid

import pytest
import yaml

from _gcp_support import control, gcp_env  # pylint: disable=import-error
from _testenv import REPO, STATE  # pylint: disable=import-error

VENV_BIN = REPO / ".venv" / "bin"


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    env = gcp_env()
    if not (STATE / "kubeconfig").is_file():
        pytest.fail("the rehearsal API server is not up (no %s/kubeconfig)" % STATE)
    from kubernetes import client, config
    api = client.CoreV1Api(config.new_client_from_config(config_file=str(STATE / "kubeconfig")))
    made = []
    for ns in ("argocd", "e2e-gcp-app-" + uuid.uuid4().hex[:6], "e2e-gcp-mon-" + uuid.uuid4().hex[:6]):
        try:
            api.create_namespace({"metadata": {"name": ns}})
            made.append(ns)
        except client.exceptions.ApiException as exc:
            if exc.status != 409:
                raise
    env = dict(env, _app_ns=made[-2], _mon_ns=made[-1], _secrets=str(tmp_path_factory.mktemp("gcp-secrets")))
    # this suite seals argocd/gcp-sa the helm method's way (direct apply); where the local platform's Argo CD
    # syncs that object from git (echo-ai-secrets-local, self-heal), its automated sync pauses meanwhile
    custom = client.CustomObjectsApi(api.api_client)
    app = ("argoproj.io", "v1alpha1", "argocd", "applications", "echo-ai-secrets-local")
    try:
        policy = custom.get_namespaced_custom_object(*app)["spec"].get("syncPolicy")
        custom.patch_namespaced_custom_object(*app, {"spec": {"syncPolicy": {"automated": None}}})
    except client.exceptions.ApiException as exc:
        if exc.status != 404:
            raise
        policy = None
    try:
        yield env
    finally:
        for ns in made[-2:]:
            api.delete_namespace(ns)
        if policy is not None:
            custom.patch_namespaced_custom_object(*app, {"spec": {"syncPolicy": policy}})


def run_playbook(env, project, *extra):
    extra_vars = {
        "echo_deploy_method": "helm",
        "echo_kube_context": "",
        "echo_secrets_dir": env["_secrets"] + "/" + project,
        "echo_namespace": env["_app_ns"],
        "echo_monitoring_namespace": env["_mon_ns"],
        "echo_prometheus_basic_auth_password": "e2e-gcp-canary-basic-auth",
        "echo_sealed_fingerprint_key": "e2e-gcp-canary-fingerprint-key",
        "echo_gcp_project": project,
        "echo_gcp_state_bucket": project + "-state",
        "echo_gcp_auth_kind": "serviceaccount",
        "echo_gcp_service_account_file": env["ECHO_GCP_SERVICE_ACCOUNT_FILE"],
        "echo_gcp_environment": {"HTTPS_PROXY": env["ECHO_GCP_HTTPS_PROXY"], "NO_PROXY": "127.0.0.1,localhost",
                                 "REQUESTS_CA_BUNDLE": env["ECHO_GCP_CA_BUNDLE"]},
        "echo_kubeconfig": str(STATE / "kubeconfig"),
    }
    cmd = [str(VENV_BIN / "ansible-playbook"), "-i", "inventories/local", "playbooks/provision_gcp.yml",
           "playbooks/secrets.yml", "--diff", "-vv", "-e", json.dumps(extra_vars)] + list(extra)
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=600,
                          env={"PATH": "%s:/usr/bin:/bin" % VENV_BIN, "HOME": str(REPO / ".cache" / "home"),
                               "ANSIBLE_COLLECTIONS_PATH": str(REPO / "collections")})
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-4000:]
    return output


def read_key():
    from kubernetes import client, config
    api = client.CoreV1Api(config.new_client_from_config(config_file=str(STATE / "kubeconfig")))
    secret = api.read_namespaced_secret("gcp-sa", "argocd")
    raw = base64.b64decode(secret.data["application-credentials.json"]).decode()
    return raw, json.loads(raw)


def read_owner():
    from kubernetes import client, config
    api = client.CoreV1Api(config.new_client_from_config(config_file=str(STATE / "kubeconfig")))
    meta = api.read_namespaced_secret("gcp-sa", "argocd").metadata
    return [ref.kind for ref in meta.owner_references or []], dict(meta.annotations or {})


def canary_fragments(raw, info):
    pem_lines = [line for line in info["private_key"].splitlines() if line and not line.startswith("-----")]
    assert len(pem_lines) > 10
    return pem_lines + [raw, base64.b64encode(raw.encode()).decode()[:60], json.dumps(info)[:80],
                        info["private_key"].replace("\n", "\\n")[40:120]]


def assert_no_canary(output, fragments, what):
    leaked = [f[:12] + "..." for f in fragments if f in output]
    assert not leaked, "%s: key material in the output (%s)" % (what, ", ".join(leaked))


def test_key_never_printed_on_create_noop_and_rotation(env):
    project = "e2e-canary-" + uuid.uuid4().hex[:8]
    first = run_playbook(env, project)
    raw, info = read_key()
    sealed = pathlib.Path(env["_secrets"]) / project / "argocd" / "gcp-sa.yaml"
    manifest = yaml.safe_load(sealed.read_text())
    assert (manifest["kind"], manifest["metadata"]["namespace"]) == ("SealedSecret", "argocd")
    assert list(manifest["spec"]["encryptedData"]) == ["application-credentials.json"]
    assert_no_canary(sealed.read_text(), canary_fragments(raw, info), "sealed manifest")
    owners, annotations = read_owner()
    assert owners == ["SealedSecret"], "the Secret must be the controller's, not a plain one (%s)" % owners
    assert annotations.get("echo.platform/key-id") == info["private_key_id"]
    assert info["client_email"] == "vertex-caller@%s.iam.gserviceaccount.com" % project
    fragments = canary_fragments(raw, info)
    assert_no_canary(first, fragments, "first run")
    assert "changed=0" not in first

    second = run_playbook(env, project)
    assert_no_canary(second, fragments, "second run")
    assert "changed=0" in second, second[-3000:]
    assert read_key()[0] == raw, "a second run must not create a key"

    rotated = run_playbook(env, project, "-e", "echo_gcp_rotate_key=true")
    assert_no_canary(rotated, fragments, "rotation")
    new_raw, new_info = read_key()
    assert new_info["private_key_id"] != info["private_key_id"]
    assert_no_canary(rotated, canary_fragments(new_raw, new_info), "rotation (new key)")
    keys = control(env, "/_emulator/state")["keys"]
    assert [k for k in keys if "/serviceAccounts/%s/" % info["client_email"] in k] == [
        "projects/%s/serviceAccounts/%s/keys/%s" % (project, info["client_email"], new_info["private_key_id"])]
