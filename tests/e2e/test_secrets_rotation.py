"""playbooks/rotate_secrets.yml end to end on the rehearsal environment (inventories/local).

Every run uses its own namespace and a temporary secrets dir, plants a canary value and checks it
never appears in output or in the Ansible log. Needs `testenv/bin/testenv up`.
"""

from __future__ import annotations

import base64
import json
import os
import stat

import pytest
import yaml

from _secrets_support import REPO, Kube, canary, require_testenv, run, tree_digest

NAME = "echo-backend-secrets"
FP_KEY = "e2e-fingerprint-key"


@pytest.fixture(scope="module")
def kube():
    env = require_testenv()
    k = Kube(env["KUBECONFIG"])
    yield k
    k.api_client.close()


@pytest.fixture(scope="module")
def ctx(kube, tmp_path_factory):
    ns = kube.create_namespace("e2e-rotate")
    tmp = tmp_path_factory.mktemp("rotate")
    c = dict(ns=ns, tmp=tmp, secrets=tmp / "secrets", log=tmp / "ansible.log", canary=canary())
    c["secrets"].mkdir()
    yield c
    kube.delete_namespace(ns)


def playbook(ctx, *extra, extra_vars=None, check=False, name="rotate_secrets.yml"):
    # the direct apply of the helm method, into a throw-away namespace: the GitOps flow of the local inventory's
    # argocd method (commit + push, Argo CD syncs) is test_secrets_layer.py's and test_argocd_secrets.py's
    cmd = ["ansible-playbook", "playbooks/%s" % name, "-i", "inventories/local", "-e", "echo_kube_context=",
           "-e", "echo_deploy_method=helm",
           "-e", "sealed_secrets_rotate_namespace=%s" % ctx["ns"],
           "-e", "sealed_secrets_rotate_secrets_dir=%s" % ctx["secrets"],
           "-e", "echo_sealed_fingerprint_key=%s" % FP_KEY]
    if extra_vars is not None:
        path = ctx["tmp"] / "extra.json"
        path.write_text(json.dumps(extra_vars))
        cmd += ["-e", "@%s" % path]
    for item in extra:
        cmd += ["-e", item]
    if check:
        cmd += ["--check", "--diff"]
    rc, out = run(cmd, env_extra={"ANSIBLE_LOG_PATH": str(ctx["log"])})
    if extra_vars is not None:
        os.unlink(ctx["tmp"] / "extra.json")
    assert ctx["canary"] not in out, "canary leaked into the output"
    assert ctx["canary"] not in ctx["log"].read_text(), "canary leaked into the Ansible log"
    return rc, out


def manifest(ctx):
    return yaml.safe_load((ctx["secrets"] / ("%s.yaml" % NAME)).read_text())


def test_1_add_keys_from_env_file(kube, ctx):
    c = ctx["canary"]
    env_file = ctx["tmp"] / "new.env"
    long_b64 = base64.b64encode(("{\"private_key\": \"%s\"}" % c * 100).encode()).decode()
    env_file.write_text(
        "# comment\n"
        "DATABASE_URL=postgres://u:%s@h:25060/db?sslmode=require\n"
        "QUOTED=\"say \\\"%s\\\"\"\n"
        "MULTI='a\nb %s'\n"
        "GCP_SA_JSON=%s\n" % (c, c, c, long_b64))
    rc, out = playbook(ctx, "sealed_secrets_rotate_action=rotate", "sealed_secrets_rotate_values_file=%s" % env_file)
    assert rc == 0, out
    assert "rotation verified" in out
    expected = {"DATABASE_URL": "postgres://u:%s@h:25060/db?sslmode=require" % c, "QUOTED": 'say "%s"' % c,
                "MULTI": "a\nb %s" % c, "GCP_SA_JSON": long_b64}
    assert kube.secret_values(ctx["ns"], NAME) == expected
    assert c not in (ctx["secrets"] / ("%s.yaml" % NAME)).read_text()


def test_2_same_values_again_is_a_noop(kube, ctx):
    env_file = ctx["tmp"] / "new.env"
    before = tree_digest(ctx["secrets"])
    rc, out = playbook(ctx, "sealed_secrets_rotate_action=rotate", "sealed_secrets_rotate_values_file=%s" % env_file)
    assert rc == 0, out
    assert tree_digest(ctx["secrets"]) == before


def test_2b_rotate_without_inputs_reapplies_and_verifies(kube, ctx):
    before = tree_digest(ctx["secrets"])
    rc, out = playbook(ctx, "sealed_secrets_rotate_action=rotate")
    assert rc == 0, out
    assert "rotation verified" in out and tree_digest(ctx["secrets"]) == before


def test_3_check_diff_shows_names_and_changes_nothing(kube, ctx):
    c = ctx["canary"]
    before_files, before_live = tree_digest(ctx["secrets"]), kube.secret_values(ctx["ns"], NAME)
    rc, out = playbook(ctx, "sealed_secrets_rotate_action=rotate", check=True,
                       extra_vars={"sealed_secrets_rotate_values": {"DATABASE_URL": "new-" + c, "SENDGRID_API_KEY": c}})
    assert rc == 0, out
    assert "+SENDGRID_API_KEY" in out and "DATABASE_URL  # re-encrypted" in out
    assert tree_digest(ctx["secrets"]) == before_files
    assert kube.secret_values(ctx["ns"], NAME) == before_live


def test_4_update_one_key_keeps_the_others(kube, ctx):
    c = ctx["canary"]
    old = manifest(ctx)["spec"]["encryptedData"]
    live = kube.secret_values(ctx["ns"], NAME)
    rc, out = playbook(ctx, "sealed_secrets_rotate_action=rotate",
                       extra_vars={"sealed_secrets_rotate_values": {"DATABASE_URL": "new-" + c}})
    assert rc == 0, out
    new = manifest(ctx)["spec"]["encryptedData"]
    assert new["DATABASE_URL"] != old["DATABASE_URL"]
    assert all(new[k] == old[k] for k in old if k != "DATABASE_URL")
    live["DATABASE_URL"] = "new-" + c
    assert kube.secret_values(ctx["ns"], NAME) == live


def test_5_remove_only_when_listed(kube, ctx):
    rc, out = playbook(ctx, "sealed_secrets_rotate_action=rotate", extra_vars={"sealed_secrets_rotate_remove": ["MULTI"]})
    assert rc == 0, out
    assert "MULTI" not in kube.secret_values(ctx["ns"], NAME)
    assert "MULTI" not in manifest(ctx)["spec"]["encryptedData"]


def test_6_list_and_show(kube, ctx):
    rc, out = playbook(ctx)
    assert rc == 0, out
    assert "GCP_SA_JSON" in out and "missing_required" in out
    show = ctx["tmp"] / "show.env"
    rc, out = playbook(ctx, "sealed_secrets_rotate_action=show", "sealed_secrets_rotate_show_file=%s" % show)
    assert rc == 0, out
    assert stat.S_IMODE(show.stat().st_mode) == 0o600
    import sys
    sys.path.insert(0, str(REPO / "collections"))
    from ansible_collections.echo.platform.plugins.module_utils._sealed.envfile import parse_env
    assert parse_env(show.read_text()) == kube.secret_values(ctx["ns"], NAME)
    show.unlink()


def test_6b_compare_with_another_environment(kube, ctx):
    # the scratch namespace (labelled "testing" here) against the local environment's echo-local namespace
    rc, out = playbook(ctx, "sealed_secrets_rotate_action=compare", "sealed_secrets_compare_envs=local",
                       "sealed_secrets_rotate_env=testing")
    assert rc == 0, out
    assert "differing" in out and "GCP_SA_JSON" in out and "hmac-sha256:" in out


def test_7_a_rotation_that_would_drop_keys_is_refused(kube, ctx):
    path = ctx["secrets"] / ("%s.yaml" % NAME)
    saved = path.read_bytes()
    path.unlink()  # a lost or stale manifest: sealing only the new key would drop every live key
    before = tree_digest(ctx["secrets"])
    live = kube.secret_values(ctx["ns"], NAME)
    rc, out = playbook(ctx, "sealed_secrets_rotate_action=rotate",
                       extra_vars={"sealed_secrets_rotate_values": {"NEW_KEY": ctx["canary"]}})
    assert rc != 0
    assert "Refusing to write" in out and "DATABASE_URL" in out
    assert tree_digest(ctx["secrets"]) == before
    assert kube.secret_values(ctx["ns"], NAME) == live
    path.write_bytes(saved)


def test_8_reseal_everything_from_the_live_secret(kube, ctx):
    old = manifest(ctx)["spec"]["encryptedData"]
    live = kube.secret_values(ctx["ns"], NAME)
    rc, out = playbook(ctx, "sealed_secrets_rotate_action=rotate", "sealed_secrets_rotate_reseal=true")
    assert rc == 0, out
    new = manifest(ctx)["spec"]["encryptedData"]
    assert set(new) == set(old) and all(new[k] != old[k] for k in old)
    assert kube.secret_values(ctx["ns"], NAME) == live


@pytest.mark.parametrize("args,message", [
    (["echo_env=staging"], "must be one of"),
    (["sealed_secrets_rotate_action=compare", "sealed_secrets_compare_envs=staging"], "unknown environment"),
    (["sealed_secrets_rotate_action=rotate", "sealed_secrets_rotate_certificate_path=/nonexistent/cert.pem"],
     "certificate_path /nonexistent/cert.pem does not exist"),
    (["sealed_secrets_rotate_action=rotate", "sealed_secrets_rotate_controller_name=no-such-controller"],
     "Failed to fetch sealing certificate"),
    (["sealed_secrets_rotate_action=rotate", "sealed_secrets_rotate_values_file=BAD"], "line 2: expected KEY=VALUE"),
    (["sealed_secrets_rotate_action=rotate", "sealed_secrets_rotate_secrets_dir=/nonexistent/secrets"],
     "Nothing to seal"),
])
def test_9_bad_input_fails_clearly_and_touches_nothing(kube, ctx, args, message):
    bad = ctx["tmp"] / "bad.env"
    bad.write_text("GOOD=%s\nnot a key value line\n" % ctx["canary"])
    args = [a.replace("BAD", str(bad)) for a in args]
    if "certificate_path" not in " ".join(args) and "values_file" not in " ".join(args) and "rotate" in " ".join(args) \
            and "controller_name" in " ".join(args):
        args.append("sealed_secrets_rotate_values_file=%s" % (ctx["tmp"] / "new.env"))
    before_files, before_live = tree_digest(ctx["secrets"]), kube.secret_values(ctx["ns"], NAME)
    rc, out = playbook(ctx, *args, extra_vars=(
        {"sealed_secrets_rotate_values": {"X": ctx["canary"]}} if "certificate_path" in " ".join(args) else None))
    assert rc != 0, out
    assert message in out
    assert tree_digest(ctx["secrets"]) == before_files
    assert kube.secret_values(ctx["ns"], NAME) == before_live


def test_10_ordered_restart_patches_consumers(kube, ctx):
    for name in ("echo-directus", "echo-api"):
        kube.apps.create_namespaced_deployment(ctx["ns"], {
            "metadata": {"name": name},
            "spec": {"selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "c", "image": "example.invalid/none:1"}]}}}})
    rc, out = playbook(ctx, "sealed_secrets_rotate_action=rotate", "sealed_secrets_rotate_restart=true",
                       extra_vars={"sealed_secrets_rotate_values": {"DIRECTUS_ADMIN_TOKEN": ctx["canary"]}})
    assert rc == 0, out
    stamps = {}
    for name in ("echo-directus", "echo-api"):
        dep = kube.apps.read_namespaced_deployment(name, ctx["ns"])
        stamps[name] = dep.spec.template.metadata.annotations["echo.platform/secrets-rotated-at"]
    assert stamps["echo-directus"] <= stamps["echo-api"]
    assert out.index("echo-directus") < out.index("echo-api")
