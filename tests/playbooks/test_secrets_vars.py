"""Secrets-layer variables derived from the repository (no cluster): where Slack and Prometheus basic auth are on,
the GitOps defaults, and the required-key tables."""

from __future__ import annotations

import pytest

from conftest import ENVS


@pytest.mark.parametrize("env", ENVS)
def test_slack_and_basic_auth_follow_the_monitoring_values(env, probe_vars):
    got = probe_vars("playbooks", env, ["echo_monitoring_slack_enabled", "echo_prometheus_basic_auth_enabled",
                                        "echo_gitops_checkout", "echo_gitops_branch", "echo_gitops_push",
                                        "echo_secrets_dir", "echo_argocd_target_revision", "echo_repo_root"])
    # charts/monitoring/values-<env>.yaml: dev, testing and prod route alerts to Slack, local has no Slack
    assert got["echo_monitoring_slack_enabled"] is (env != "local")
    # the Prometheus Ingress (with basic auth) is rendered everywhere but in testing (no ingress, no host)
    assert got["echo_prometheus_basic_auth_enabled"] is (env != "testing")
    assert got["echo_gitops_branch"] == got["echo_argocd_target_revision"]
    # real environments commit and leave the push to the operator; the rehearsal pushes to its own git server
    assert got["echo_gitops_push"] is (env == "local")
    if env != "local":
        assert got["echo_gitops_checkout"] == got["echo_repo_root"]
    else:
        assert got["echo_gitops_checkout"].endswith("/.testenv/git/checkout")
    assert got["echo_secrets_dir"] == "%s/secrets/%s" % (got["echo_gitops_checkout"], env)


def _json(tmp_path, data):
    import json
    path = tmp_path / "extra.json"
    path.write_text(json.dumps(data))
    return "@%s" % path


def test_rotation_refuses_to_remove_a_required_key_before_touching_anything(tmp_path):
    from conftest import run_playbook
    proc = run_playbook(["playbooks/rotate_secrets.yml", "-i", "inventories/prod", "-e", "echo_kubeconfig_refresh=false",
                         "-e", "echo_deploy_method=helm", "-e", "sealed_secrets_rotate_action=rotate",
                         "-e", _json(tmp_path, {"sealed_secrets_rotate_remove": ["DATABASE_URL", "SENDGRID_API_KEY"]})],
                        check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "Refusing to remove DATABASE_URL" in out and "api, worker, worker-cpu, worker-scheduler, directus" in out
    assert "-i inventories/prod" in out and '"echo_allow_missing_secrets": ["DATABASE_URL"]' in out
    assert "Refusing to remove SENDGRID_API_KEY" not in out  # optional keys need no allowance


def test_rotation_with_argocd_needs_the_tracked_branch_checked_out(tmp_path):
    import subprocess
    from conftest import run_playbook
    subprocess.run(["git", "init", "-q", "-b", "feature", str(tmp_path / "co")], check=True)
    proc = run_playbook(["playbooks/rotate_secrets.yml", "-i", "inventories/prod", "-e", "echo_kubeconfig_refresh=false",
                         "-e", "sealed_secrets_rotate_action=rotate", "-e", "echo_gitops_checkout=%s" % (tmp_path / "co"),
                         "-e", _json(tmp_path, {"sealed_secrets_rotate_values": {"SENDGRID_API_KEY": "x"}})], check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "branch feature" in out and "echo_argocd_target_revision" in out and "main" in out


@pytest.mark.parametrize("env,missing", [("dev", "vault_echo_slack_webhook_url"), ("prod", "vault_echo_prometheus_basic_auth_password")])
def test_secrets_layer_names_a_missing_vault_value_before_sealing(env, missing, tmp_path):
    from conftest import run_playbook
    extra = {"echo_slack_webhook_url": "" if missing.endswith("webhook_url") else "https://hooks.example/x",
             "echo_prometheus_basic_auth_password": "" if missing.endswith("password") else "pw",
             "echo_secrets_dir": str(tmp_path / "secrets")}
    proc = run_playbook(["playbooks/secrets.yml", "-i", "inventories/%s" % env, "-e", _json(tmp_path, extra)], check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and missing in out and "Nothing was sealed" in out
    assert not (tmp_path / "secrets").exists()


def _wired_names():
    import pathlib
    import yaml
    root = pathlib.Path(__file__).resolve().parents[2]
    return root, sorted(yaml.safe_load((root / "group_vars/all/sealed_secrets.yml").read_text()))


def test_the_role_wiring_lives_once_in_group_vars():
    import yaml
    root, names = _wired_names()
    assert names and all(n.startswith("sealed_secrets_rotate_") for n in names)
    for playbook in ("secrets.yml", "rotate_secrets.yml", "sealing_key_backup.yml"):
        text = (root / "playbooks" / playbook).read_text()
        doc = yaml.safe_load(text)
        for play in doc:
            given = set(play.get("vars") or {})
            for task in (play.get("tasks") or []) + (play.get("pre_tasks") or []):
                given |= set(task.get("vars") or {})
            for role in play.get("roles") or []:
                given |= set(role.get("vars") or {}) if isinstance(role, dict) else set()
            assert not given & set(names), "%s sets %s again" % (playbook, sorted(given & set(names)))


@pytest.mark.parametrize("env", ["prod", "local"])
def test_the_role_reads_the_inventory_through_the_wiring(env, probe_vars):
    got = probe_vars("playbooks", env, ["sealed_secrets_rotate_kubeconfig", "echo_kubeconfig", "sealed_secrets_rotate_env",
                                        "sealed_secrets_rotate_gitops_push", "echo_gitops_push",
                                        "sealed_secrets_rotate_controller_name", "echo_sealed_secrets_controller"])
    assert got["sealed_secrets_rotate_kubeconfig"] == got["echo_kubeconfig"]
    assert got["sealed_secrets_rotate_env"] == env
    assert got["sealed_secrets_rotate_gitops_push"] is got["echo_gitops_push"] is (env == "local")
    assert got["sealed_secrets_rotate_controller_name"] == got["echo_sealed_secrets_controller"]
