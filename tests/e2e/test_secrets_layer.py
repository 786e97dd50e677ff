"""playbooks/secrets.yml end to end on the rehearsal environment: every Secret the charts mount.

The layer runs with planted canary values for every vault input (operator backend keys, the Slack webhook, the
Prometheus basic-auth password) at -vvv with --diff; no canary may appear in the output or the Ansible log, and the
cluster must then hold exactly what the charts mount:
  echo-backend-secrets   operator keys + DIRECTUS_SECRET / DIRECTUS_ADMIN_TOKEN / DIRECTUS_ADMIN_PASSWORD (generated)
  monitoring-secrets     grafana-admin-password (generated once), slack-webhook-url (vault)
  prometheus-basic-auth  auth = admin:<bcrypt of the vault password>
A second run changes nothing (generated values are kept); bad input fails before anything is sealed; with deploy
method argocd the manifests are committed and pushed to a git remote, and nothing is applied directly.
Scratch namespaces per run. Needs `testenv/bin/testenv up`.
"""

from __future__ import annotations

import json
import subprocess

import bcrypt
import pytest
import yaml

from _secrets_support import Kube, canary, require_testenv, run, tree_digest

FP_KEY = "e2e-layer-fingerprint-key"
OPERATOR_KEYS = ["ASSEMBLYAI_API_KEY", "AUTH_GOOGLE_CLIENT_ID", "AUTH_GOOGLE_CLIENT_SECRET", "DIRECTUS_EMAIL_FROM",
                 "DIRECTUS_EMAIL_SMTP_HOST", "DIRECTUS_EMAIL_SMTP_PASSWORD", "DIRECTUS_EMAIL_SMTP_PORT",
                 "DIRECTUS_EMAIL_SMTP_USER"]
GENERATED = ["DIRECTUS_ADMIN_PASSWORD", "DIRECTUS_ADMIN_TOKEN", "DIRECTUS_SECRET"]


@pytest.fixture(scope="module")
def kube():
    env = require_testenv()
    k = Kube(env["KUBECONFIG"])
    yield k
    k.api_client.close()


@pytest.fixture(scope="module")
def ctx(kube, tmp_path_factory):
    app, mon = kube.create_namespace("e2e-layer-app"), kube.create_namespace("e2e-layer-mon")
    tmp = tmp_path_factory.mktemp("layer")
    c = dict(app=app, mon=mon, tmp=tmp, secrets=tmp / "secrets", log=tmp / "ansible.log", canary=canary())
    c["operator"] = dict((k, "%s-%s" % (k.lower(), c["canary"])) for k in OPERATOR_KEYS)
    c["operator"]["DIRECTUS_EMAIL_SMTP_PORT"] = "587"
    c["slack"] = "https://hooks.slack.example/services/%s" % c["canary"]
    c["password"] = "pw-%s" % c["canary"][:40]
    yield c
    kube.delete_namespace(app)
    kube.delete_namespace(mon)


def layer(ctx, extra=None, check=False, verbose=True):
    extra_vars = {
        "echo_kube_context": "", "echo_deploy_method": "helm", "echo_namespace": ctx["app"],
        "echo_monitoring_namespace": ctx["mon"], "echo_secrets_dir": str(ctx["secrets"]),
        "echo_sealed_fingerprint_key": FP_KEY, "echo_backend_secrets": ctx["operator"],
        "echo_monitoring_slack_enabled": True, "echo_slack_webhook_url": ctx["slack"],
        "echo_prometheus_basic_auth_password": ctx["password"],
    }
    extra_vars.update(extra or {})
    path = ctx["tmp"] / "extra.json"
    path.write_text(json.dumps(extra_vars))
    cmd = ["ansible-playbook", "playbooks/secrets.yml", "-i", "inventories/local", "-e", "@%s" % path, "--diff"]
    if verbose:
        cmd.append("-vvv")
    if check:
        cmd.append("--check")
    rc, out = run(cmd, env_extra={"ANSIBLE_LOG_PATH": str(ctx["log"])})
    path.unlink()
    secrets_text = [ctx["canary"], ctx["password"], ctx["slack"]] + list(ctx["operator"].values())
    for value in secrets_text:
        if value == "587":
            continue
        assert value not in out, "a planted secret leaked into the output"
        assert value not in ctx["log"].read_text(), "a planted secret leaked into the Ansible log"
    return rc, out


def test_1_first_run_seals_every_secret_the_charts_mount(kube, ctx):
    rc, out = layer(ctx)
    assert rc == 0, out[-5000:]
    backend = kube.secret_values(ctx["app"], "echo-backend-secrets")
    assert set(backend) == set(OPERATOR_KEYS + GENERATED)
    assert all(backend[k] == ctx["operator"][k] for k in OPERATOR_KEYS)
    assert all(len(backend[k]) == 32 and backend[k].isalnum() for k in GENERATED)
    assert len(set(backend[k] for k in GENERATED)) == 3
    mon = kube.secret_values(ctx["mon"], "monitoring-secrets")
    assert set(mon) == {"grafana-admin-password", "slack-webhook-url"}
    assert mon["slack-webhook-url"] == ctx["slack"] and len(mon["grafana-admin-password"]) == 32
    auth = kube.secret_values(ctx["mon"], "prometheus-basic-auth")["auth"]
    user, _, hashed = auth.partition(":")
    assert user == "admin" and hashed.startswith("$2b$")
    assert bcrypt.checkpw(ctx["password"].encode(), hashed.encode())
    for value in list(backend.values()) + list(mon.values()):
        if value != "587":
            assert value not in out
    files = sorted(p.name for p in ctx["secrets"].iterdir())
    assert files == ["echo-backend-secrets.yaml", "monitoring-secrets.yaml", "prometheus-basic-auth.yaml"]
    ctx["first"] = dict(backend=backend, mon=mon, auth=auth)


def test_2_second_run_changes_nothing_and_keeps_generated_values(kube, ctx):
    before = tree_digest(ctx["secrets"])
    rc, out = layer(ctx, verbose=False)
    assert rc == 0, out[-5000:]
    assert "changed=0" in out, out[-3000:]
    assert tree_digest(ctx["secrets"]) == before
    assert kube.secret_values(ctx["app"], "echo-backend-secrets") == ctx["first"]["backend"]
    assert kube.secret_values(ctx["mon"], "monitoring-secrets") == ctx["first"]["mon"]
    assert kube.secret_values(ctx["mon"], "prometheus-basic-auth")["auth"] == ctx["first"]["auth"]


def test_3_new_operator_value_and_password_are_sealed_others_kept(kube, ctx):
    operator = dict(ctx["operator"], ASSEMBLYAI_API_KEY="rotated-%s" % ctx["canary"])
    new_password = "pw2-%s" % ctx["canary"][:40]
    ctx["operator_rotated"] = operator["ASSEMBLYAI_API_KEY"]
    rc, out = layer(ctx, extra={"echo_backend_secrets": operator, "echo_prometheus_basic_auth_password": new_password},
                    check=True)
    assert rc == 0, out[-4000:]
    assert "ASSEMBLYAI_API_KEY  # re-encrypted" in out and "auth  # re-encrypted" in out
    assert kube.secret_values(ctx["app"], "echo-backend-secrets") == ctx["first"]["backend"]
    assert new_password not in out and operator["ASSEMBLYAI_API_KEY"] not in out
    rc, out = layer(ctx, extra={"echo_backend_secrets": operator, "echo_prometheus_basic_auth_password": new_password})
    assert rc == 0, out[-4000:]
    assert new_password not in out and operator["ASSEMBLYAI_API_KEY"] not in out
    backend = kube.secret_values(ctx["app"], "echo-backend-secrets")
    assert backend == dict(ctx["first"]["backend"], ASSEMBLYAI_API_KEY=operator["ASSEMBLYAI_API_KEY"])
    auth = kube.secret_values(ctx["mon"], "prometheus-basic-auth")["auth"]
    assert bcrypt.checkpw(new_password.encode(), auth.partition(":")[2].encode())
    assert kube.secret_values(ctx["mon"], "monitoring-secrets") == ctx["first"]["mon"]


@pytest.mark.parametrize("extra,message", [
    ({"echo_slack_webhook_url": ""}, "vault_echo_slack_webhook_url"),
    ({"echo_prometheus_basic_auth_password": ""}, "vault_echo_prometheus_basic_auth_password"),
    ({"echo_backend_secrets": {"ASSEMBLYAI_API_KEY": ["not", "a", "string"]}}, "vault_echo_backend_secrets"),
])
def test_4_missing_vault_values_fail_before_anything_is_sealed(kube, ctx, extra, message):
    fresh = ctx["tmp"] / "fresh"
    fresh.mkdir(exist_ok=True)
    ns = kube.create_namespace("e2e-layer-bad")
    try:
        rc, out = layer(ctx, extra=dict(extra, echo_secrets_dir=str(fresh), echo_namespace=ns, echo_monitoring_namespace=ns),
                        verbose=False)
        assert rc != 0 and message in out, out[-3000:]
        assert list(fresh.iterdir()) == []
        assert kube.secret_values(ns, "echo-backend-secrets") is None
    finally:
        kube.delete_namespace(ns)


def git(*args, cwd):
    return subprocess.run(["git"] + list(args), cwd=str(cwd), capture_output=True, text=True, check=True).stdout


def test_5_argocd_method_commits_and_pushes_and_never_applies(kube, ctx):
    remote, clone = ctx["tmp"] / "remote.git", ctx["tmp"] / "checkout"
    git("init", "--bare", "-b", "main", str(remote), cwd=ctx["tmp"])
    git("clone", str(remote), str(clone), cwd=ctx["tmp"])
    git("-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "--allow-empty", "-m", "init", cwd=clone)
    git("push", "origin", "HEAD:main", cwd=clone)
    (clone / "unrelated.txt").write_text("staged but not ours\n")
    git("add", "unrelated.txt", cwd=clone)
    app, mon = kube.create_namespace("e2e-layer-git"), kube.create_namespace("e2e-layer-gitmon")
    try:
        extra = {"echo_deploy_method": "argocd", "echo_gitops_checkout": str(clone), "echo_gitops_branch": "main",
                 "echo_gitops_push": True, "echo_secrets_dir": str(clone / "secrets" / "local"),
                 "echo_namespace": app, "echo_monitoring_namespace": mon}
        rc, out = layer(ctx, extra=extra, check=True, verbose=False)
        assert rc == 0, out[-4000:]
        assert "Would commit secrets/local/echo-backend-secrets.yaml" in out
        assert git("rev-list", "--count", "HEAD", cwd=clone).strip() == "1"
        rc, out = layer(ctx, extra=extra)
        assert rc == 0, out[-5000:]
        # the rehearsal's echo-secrets-local Application tracks the served repository, not this test's remote:
        # the layer says it will not sync this commit instead of waiting for it
        assert "does not exist yet" in out or ("tracks http://" in out and "it will not sync it" in out), out[-3000:]
        log = git("log", "--format=%an <%ae>|%s", "main", cwd=remote).splitlines()
        assert len(log) == 4 and all(line.startswith("echo.platform <platform@dembrane.com>|secrets(local): ") for line in log[:3])
        files = git("ls-tree", "-r", "--name-only", "main", cwd=remote).split()
        assert sorted(files) == ["secrets/local/echo-backend-secrets.yaml", "secrets/local/monitoring-secrets.yaml",
                                 "secrets/local/prometheus-basic-auth.yaml"]
        # only our manifests were committed; the operator's staged file stays staged
        assert git("status", "--porcelain", cwd=clone).strip() == "A  unrelated.txt"
        pushed = yaml.safe_load(git("show", "main:secrets/local/echo-backend-secrets.yaml", cwd=remote))
        assert sorted(pushed["spec"]["encryptedData"]) == sorted(OPERATOR_KEYS + GENERATED)
        assert ctx["canary"] not in git("log", "-p", "main", cwd=remote)
        # no direct apply: Argo CD is the only writer
        for ns, name in ((app, "echo-backend-secrets"), (mon, "monitoring-secrets")):
            assert kube.custom.list_namespaced_custom_object("bitnami.com", "v1alpha1", ns, "sealedsecrets")["items"] == []
            assert kube.secret_values(ns, name) is None
        rc, out = layer(ctx, extra=extra, verbose=False)
        assert rc == 0 and "changed=0" in out, out[-3000:]
        assert len(git("log", "--format=%H", "main", cwd=remote).splitlines()) == 4
    finally:
        kube.delete_namespace(app)
        kube.delete_namespace(mon)


def test_6_argocd_method_refuses_a_checkout_on_another_branch(kube, ctx):
    clone = ctx["tmp"] / "checkout"
    git("checkout", "-b", "feature", cwd=clone)
    try:
        rc, out = layer(ctx, extra={"echo_deploy_method": "argocd", "echo_gitops_checkout": str(clone),
                                    "echo_gitops_branch": "main", "echo_secrets_dir": str(clone / "secrets" / "local")},
                        verbose=False)
        assert rc != 0 and "branch feature" in out and "echo_argocd_target_revision" in out, out[-3000:]
    finally:
        git("checkout", "main", cwd=clone)
