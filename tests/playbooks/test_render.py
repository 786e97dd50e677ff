"""playbooks/render.yml: every environment's charts render as their Applications do, and the node pools hold
the requests at their minimum size (reference 9.3, I10). A pool minimum that cannot hold them fails the run,
and the message says by how much and how many nodes are needed."""

import pytest

from conftest import run_playbook

ENVS = ["dev", "testing", "prod", "local"]


@pytest.mark.parametrize("env", ENVS)
def test_every_environment_renders_and_fits_its_pool_minimum(env):
    proc = run_playbook(["playbooks/render.yml", "-i", f"inventories/{env}"], check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert f"Capacity of {env} at the pools" in out  # (the yaml result format doubles the quote)
    assert ": fits" in out


def test_a_pool_minimum_too_small_for_prod_is_refused_with_the_shortfall():
    pools = '{"echo_node_pools": [{"name": "default-pool", "size": "s-4vcpu-8gb", "auto_scale": true, "min_nodes": 2, "max_nodes": 6}]}'
    proc = run_playbook(["playbooks/render.yml", "-i", "inventories/prod", "-e", pools], check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-3000:]
    assert "Refusing to roll out prod" in out
    assert "do not fit, short by" in out
    assert "Raise min_nodes in echo_node_pools (needed: default-pool: 3)" in out


def test_webhook_urls_and_default_role_reach_the_pods(tmp_path):
    """The inventory's webhook URLs and Directus default role land in the rendered pod env (reference 1.8, 1.9)."""
    import yaml

    role = "2446660a-0000-4000-8000-00000000ba83"
    extra = ('{"echo_webhook_urls": {"assemblyai": "https://api.dembrane.com/hooks/assemblyai",'
             ' "mollie": "https://api.dembrane.com/hooks/mollie", "support": ""},'
             ' "echo_directus_google_default_role_id": "%s"}' % role)
    proc = run_playbook(["playbooks/render.yml", "-i", "inventories/prod", "-e", extra,
                         "-e", "echo_render_dir=%s" % tmp_path], check=False)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    docs = [d for d in yaml.safe_load_all((tmp_path / "echo.yaml").read_text()) if d]

    def env_of(kind, name_part):
        for d in docs:
            if d["kind"] == kind and name_part in d["metadata"]["name"]:
                return {e["name"]: e.get("value") for c in d["spec"]["template"]["spec"]["containers"]
                        for e in c.get("env", [])}
        raise AssertionError("no %s named *%s*" % (kind, name_part))

    api = env_of("Deployment", "api")
    assert api["ASSEMBLYAI_WEBHOOK_URL"] == "https://api.dembrane.com/hooks/assemblyai"
    assert api["MOLLIE_WEBHOOK_URL"] == "https://api.dembrane.com/hooks/mollie"
    assert "SUPPORT_WEBHOOK_URL" not in api  # "" leaves it out
    assert env_of("Deployment", "directus")["AUTH_GOOGLE_DEFAULT_ROLE_ID"] == role

