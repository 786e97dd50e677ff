"""playbooks/bootstrap.yml and secrets: canary values never appear in any output, and land intact.

Canaries are planted in the registry docker config, the Argo CD repository password and the
DigitalOcean token (used for the optional CSI secret). The run is verbose (-vv) with --diff and
forces the pull secret to be rewritten; no canary, nor its base64 form, may appear in the output.
The cluster then holds exactly the planted values: the pull secret's docker config, the repository
credential, and the CSI token encoded once (the original double-encoded it).

Needs `testenv/bin/testenv up`.
"""

from __future__ import annotations

import base64
import json
import uuid

import pytest

from _deploy_support import kubectl, require_testenv, run_playbook, seed_registry


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.fixture(scope="module")
def canaries():
    env = require_testenv()
    seed_registry(env["DO_API_URL"], {})
    run = uuid.uuid4().hex[:10]
    values = {
        "docker": "canary-docker-" + run,
        "repo": "canary-repo-" + run,
        "token": "canary-token-" + run,
    }
    dockerconfig = {"auths": {"registry.digitalocean.com": {"auth": b64("%s:%s" % (values["docker"], values["docker"]))}}}
    extra = {
        "echo_registry_dockerconfigjson": json.dumps(dockerconfig),
        "echo_registry_secret_replace": True,
        "echo_argocd_repo_password": values["repo"],
        "echo_do_token": values["token"],
        "echo_do_csi_secret": True,
    }
    rc, _, raw = run_playbook("bootstrap.yml", json.dumps(extra), json_output=False, diff=True, verbose=True)
    yield values, dockerconfig, rc, raw
    kubectl("-n", "kube-system", "delete", "secret", "digitalocean", "--ignore-not-found", check=False)


def secret(namespace: str, name: str) -> dict:
    return json.loads(kubectl("-n", namespace, "get", "secret", name, "-o", "json").stdout)


def test_run_succeeds(canaries):
    _, _, rc, raw = canaries
    assert rc == 0, raw[-4000:]


def test_no_canary_in_output(canaries):
    values, dockerconfig, _, raw = canaries
    forbidden = list(values.values()) + [b64(v) for v in values.values()]
    forbidden += [dockerconfig["auths"]["registry.digitalocean.com"]["auth"], b64(json.dumps(dockerconfig))]
    leaked = [f for f in forbidden if f in raw]
    assert leaked == [], "secret material in the playbook output"


def test_pull_secret_holds_the_docker_config(canaries):
    _, dockerconfig, _, _ = canaries
    obj = secret("echo-local", "do-registry-secret")
    assert obj["type"] == "kubernetes.io/dockerconfigjson"
    assert json.loads(base64.b64decode(obj["data"][".dockerconfigjson"])) == dockerconfig


def test_repository_credential_from_the_vault_value(canaries):
    values, _, _, _ = canaries
    obj = secret("argocd", "echo-platform-repo")
    assert obj["metadata"]["labels"]["argocd.argoproj.io/secret-type"] == "repository"
    assert base64.b64decode(obj["data"]["password"]).decode() == values["repo"]
    assert base64.b64decode(obj["data"]["type"]).decode() == "git"


def test_csi_token_encoded_once(canaries):
    values, _, _, _ = canaries
    obj = secret("kube-system", "digitalocean")
    assert base64.b64decode(obj["data"]["access-token"]).decode() == values["token"]
