"""The rollout check refuses a rollout whose pod templates reference a Secret key the cluster does not hold, before
anything changes (reference 10.3: CreateContainerConfigError in prod, twice), naming each key, its users and the
command that adds it; echo_allow_missing_secrets accepts one for a single run.

Runs the deploy layer's check against a namespace of its own holding an incomplete backend Secret.
Needs `testenv/bin/testenv up`.
"""

from __future__ import annotations

import base64
import json
import subprocess
import uuid

import pytest

from _deploy_support import KUBECONFIG, REPO, kubectl, require_testenv, run_playbook, seed_registry

REQUIRED = ["DIRECTUS_ADMIN_TOKEN", "DIRECTUS_SECRET", "ASSEMBLYAI_API_KEY", "REDIS_URL", "DATABASE_URL",
            "S3_ACCESS_KEY", "S3_SECRET_KEY", "GCP_SA_JSON", "DIRECTUS_ADMIN_PASSWORD", "AUTH_GOOGLE_CLIENT_ID",
            "AUTH_GOOGLE_CLIENT_SECRET", "DIRECTUS_EMAIL_FROM", "DIRECTUS_EMAIL_SMTP_HOST", "DIRECTUS_EMAIL_SMTP_PASSWORD",
            "DIRECTUS_EMAIL_SMTP_PORT", "DIRECTUS_EMAIL_SMTP_USER"]
CANARY = "canary-" + uuid.uuid4().hex


@pytest.fixture(scope="module")
def namespace():
    env = require_testenv()
    seed_registry(env["DO_API_URL"], {"dbr-echo-%s" % i: ("rehearsal", 4096) for i in ("server", "directus", "agent")})
    ns = "e2e-cfg-" + uuid.uuid4().hex[:6]
    kubectl("create", "namespace", ns)
    data = {k: base64.b64encode(CANARY.encode()).decode() for k in REQUIRED if k != "ASSEMBLYAI_API_KEY"}
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "echo-backend-secrets", "namespace": ns},
              "type": "Opaque", "data": data}
    pull = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "do-registry-secret", "namespace": ns},
            "type": "kubernetes.io/dockerconfigjson",
            "data": {".dockerconfigjson": base64.b64encode(b'{"auths":{}}').decode()}}
    for obj in (secret, pull):
        subprocess.run([str(REPO / ".venv/bin/kubectl"), "--kubeconfig", str(KUBECONFIG), "apply", "-f", "-"],
                       input=json.dumps(obj), text=True, capture_output=True, check=True)
    yield ns
    kubectl("delete", "namespace", ns, "--wait=false", check=False)


def check_only(namespace, tmp_path, *extra):
    empty = tmp_path / "no-sealed-manifests"
    empty.mkdir(exist_ok=True)
    return run_playbook("deploy.yml", "echo_namespace=%s" % namespace, "echo_secrets_dir=%s" % empty,
                        *extra, verbose=True, json_output=False, tags="rollout_check")


def test_a_missing_required_key_stops_the_rollout_naming_key_users_and_command(namespace, tmp_path):
    rc, _, raw = check_only(namespace, tmp_path)
    assert rc != 0, raw[-3000:]
    assert "Refusing to roll out local" in raw
    assert "Secret %s/echo-backend-secrets key ASSEMBLYAI_API_KEY" % namespace in raw
    assert "Deployment %s/echo-api container api-server env ASSEMBLYAI_API_KEY" % namespace in raw
    assert "playbooks/rotate_secrets.yml -i inventories/local" in raw
    assert "echo_allow_missing_secrets" in raw
    assert "DATABASE_URL" not in raw.split("Refusing to roll out local", 1)[1].split("Add the keys", 1)[0]
    assert CANARY not in raw  # key names only, never values


def test_the_exception_for_one_run_lets_the_check_pass(namespace, tmp_path):
    # (the monitoring release's Secrets are accepted too: whether an earlier suite made them is not this test's point)
    allow = ["ASSEMBLYAI_API_KEY", "monitoring/monitoring-secrets", "monitoring/prometheus-basic-auth",
             "monitoring-secrets:grafana-admin-password", "monitoring-secrets:slack-webhook-url", "prometheus-basic-auth:auth"]
    rc, _, raw = check_only(namespace, tmp_path, json.dumps({"echo_allow_missing_secrets": allow}))
    assert rc == 0, raw[-3000:]
    assert CANARY not in raw
