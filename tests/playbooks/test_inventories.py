"""Inventories: syntax, variable precedence, and the preflight play's refusals."""

from __future__ import annotations

import pathlib

import pytest
import yaml

from conftest import ENVS, REPO, run_playbook

DUMMY_CREDS = {
    "DIGITALOCEAN_TOKEN": "dummy-do-token",
    "SPACES_ACCESS_KEY_ID": "dummy-key-id",
    "SPACES_SECRET_ACCESS_KEY": "dummy-secret",
    "GCP_ACCESS_TOKEN": "dummy-gcp-token",
    "ECHO_ARGOCD_REPO_PASSWORD": "dummy-repo-token",
}


def env_values(env):
    return yaml.safe_load((REPO / "inventories" / env / "group_vars" / env / "main.yml").read_text())


@pytest.mark.parametrize("env", ENVS)
def test_site_syntax_check(env):
    run_playbook(["site.yml", "-i", "inventories/%s" % env, "--syntax-check"])


@pytest.mark.parametrize("env", ENVS)
def test_preflight_check_mode_passes_with_dummy_credentials(env):
    proc = run_playbook(["site.yml", "-i", "inventories/%s" % env, "--check", "--tags", "preflight",
                         "-e", "echo_gcp_auth_kind=accesstoken"], extra_env=DUMMY_CREDS)
    assert "failed=0" in proc.stdout
    for value in DUMMY_CREDS.values():
        assert value not in proc.stdout + proc.stderr


@pytest.mark.parametrize("env", ("dev", "testing", "prod"))
def test_environment_values_win_over_shared_defaults(env, probe_vars):
    got = probe_vars(".", env, ["echo_env", "echo_vpc_cidr", "echo_postgres", "echo_node_pools", "echo_namespace",
                                "echo_backend_secret_name"])
    want = env_values(env)
    assert got["echo_env"] == env
    assert got["echo_vpc_cidr"] == want["echo_vpc_cidr"]
    assert got["echo_postgres"]["size"] == want["echo_postgres"]["size"]
    assert got["echo_node_pools"][0]["max_nodes"] == want["echo_node_pools"][0]["max_nodes"]
    assert got["echo_namespace"] == "echo-%s" % env
    assert got["echo_backend_secret_name"] == "echo-backend-secrets"


def test_prod_values_win_in_adhoc_playbooks_too(probe_vars):
    got = probe_vars("playbooks", "prod", ["echo_env", "echo_postgres", "echo_loki_namespace", "echo_repo_root"])
    assert got["echo_env"] == "prod"
    assert got["echo_postgres"]["size"] == "db-s-2vcpu-4gb"
    # defined only in the root group_vars/: proves ad-hoc playbooks see the shared defaults
    assert got["echo_loki_namespace"] == "monitoring"
    assert pathlib.Path(got["echo_repo_root"]) == REPO


def test_shared_defaults_are_not_environment_specific():
    shared = "\n".join(p.read_text() for p in sorted((REPO / "group_vars" / "all").glob("*.yml")))
    for marker in ("echo-next", "echo-testing", "10.10.1"):
        assert marker not in shared, "shared defaults must not carry environment values (%s)" % marker


BAD_VALUES = [
    ("echo_env", "-e echo_env=staging"),
    ("echo_vpc_cidr", "-e echo_vpc_cidr=10.10.11.0/24"),          # overlaps dev (run against prod)
    ("echo_vpc_cidr", "-e echo_vpc_cidr=10.10.300.0/24"),
    ("echo_vpc_cidr", "-e echo_vpc_cidr=8.8.8.0/24"),
    ("echo_node_pools[0].size", '-e {"echo_node_pools":[{"name":"default-pool","size":"huge","auto_scale":true,"min_nodes":2,"max_nodes":6}]}'),
    ("echo_node_pools[0]", '-e {"echo_node_pools":[{"name":"default-pool","size":"s-4vcpu-8gb","auto_scale":true,"min_nodes":5,"max_nodes":2}]}'),
    ("echo_postgres.version", '-e {"echo_postgres":{"name":"dbr-echo-prod-postgres","engine":"pg","version":"9","size":"db-s-2vcpu-4gb","num_nodes":1}}'),
    ("echo_valkey.eviction_policy", '-e {"echo_valkey":{"name":"dbr-echo-prod-redis","engine":"valkey","version":"8","size":"db-s-2vcpu-4gb","num_nodes":1,"eviction_policy":"lru"}}'),
    ("echo_kubernetes_version", "-e echo_kubernetes_version=latest"),
    ("echo_domain", "-e echo_domain=dembrane..com"),
    ("echo_api_host", "-e echo_api_host=api.example.org"),
    ("echo_uploads_bucket", "-e echo_uploads_bucket=Uploads_Bucket"),
    ("echo_webhook_urls.mollie", '-e {"echo_webhook_urls":{"assemblyai":"","mollie":"http://localhost:8000/mollie","support":""}}'),
    ("echo_webhook_urls.assembly", '-e {"echo_webhook_urls":{"assembly":"https://api.dembrane.com/hook"}}'),
    ("echo_webhook_urls", "-e echo_webhook_urls=https://api.dembrane.com/hook"),
    ("echo_directus_google_default_role_id", "-e echo_directus_google_default_role_id=admin"),
    ("echo_do_token", None),                                         # missing credential for the do layer
]


@pytest.mark.parametrize("variable,extra", BAD_VALUES, ids=[v for v, _ in BAD_VALUES])
def test_preflight_refuses_bad_values_naming_the_variable(variable, extra):
    args = ["site.yml", "-i", "inventories/prod", "--tags", "preflight"]
    creds = dict(DUMMY_CREDS)
    if extra is None:
        creds.pop("DIGITALOCEAN_TOKEN")
        args += ["--tags", "do"]
    else:
        opt, _, value = extra.partition(" ")
        args += [opt, value]
    args += ["-e", "echo_gcp_auth_kind=accesstoken"]
    proc = run_playbook(args, extra_env=creds, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-3000:]
    assert "Inventory check failed" in out
    assert "%s:" % variable in out
    assert "Fix:" in out
    for value in creds.values():
        assert value not in out


@pytest.mark.parametrize("variable,value,kind", [
    ("echo_image_tags", "server=v1.2.3", "a mapping"),
    ("echo_node_pools", "default-pool", "a list"),
])
def test_a_key_value_extra_var_for_a_structured_setting_gets_a_named_type_error(variable, value, kind):
    # key=value extra vars are always strings: the refusal names the variable, its type and how to pass it
    proc = run_playbook(["site.yml", "-i", "inventories/prod", "--tags", "preflight", "-e", "%s=%s" % (variable, value),
                         "-e", "echo_gcp_auth_kind=accesstoken"], extra_env=DUMMY_CREDS, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-3000:]
    assert "%s: is a string ('%s'), not %s" % (variable, value, kind) in out, out[-3000:]
    assert "-e @file.yml" in out
    assert "has no attribute" not in out and "needs at least one node pool" not in out


def test_prod_preflight_warns_about_settings_the_original_had():
    proc = run_playbook(["site.yml", "-i", "inventories/prod", "--check", "--tags", "preflight",
                         "-e", "echo_gcp_auth_kind=accesstoken"], extra_env=DUMMY_CREDS)
    out = proc.stdout + proc.stderr
    assert "WARNING: prod of the system this replaces set echo_webhook_urls.assemblyai" in out
    assert "echo_directus_google_default_role_id" in out
    # an environment whose settings are all given says nothing
    filled = ('{"echo_webhook_urls": {"assemblyai": "https://api.dembrane.com/a", "mollie": "https://api.dembrane.com/m",'
              ' "support": "https://europe-west1-dembrane-echo.cloudfunctions.net/support"},'
              ' "echo_directus_google_default_role_id": "2446660a-0000-4000-8000-00000000ba83"}')
    proc = run_playbook(["site.yml", "-i", "inventories/prod", "--check", "--tags", "preflight",
                         "-e", "echo_gcp_auth_kind=accesstoken", "-e", filled], extra_env=DUMMY_CREDS)
    assert "system this replaces" not in proc.stdout + proc.stderr
