"""Every environment's Applications render: exactly the value files the Argo CD Application lists (the release
file with the image tags last) plus the values the inventory gives it (helm valuesObject), and nothing else.

This is the production path: `helm template charts/echo -f values.yaml -f values-prod.yaml` used to fail with
"images.server.tag ... must be set" while every other test was green.
"""

import pytest
import yaml

from chartlib import ENVS, REPO, inventory_values_file, release_namespace, run_helm, find

VALUE_FILES = {
    "echo": lambda env: ["values.yaml", f"values-{env}.yaml", f"../../releases/{env}.yaml"],
    "monitoring": lambda env: ["values.yaml", f"values-{env}.yaml"],
}


def render_application(chart, env):
    args = ["template", chart, f"charts/{chart}", "-n", release_namespace(chart, env)]
    for f in VALUE_FILES[chart](env):
        args += ["-f", f"charts/{chart}/{f}"]
    args += ["-f", inventory_values_file(chart, env)]
    proc = run_helm(*args, check=False)
    assert proc.returncode == 0, f"the {chart}-{env} Application does not render:\n{proc.stderr}"
    return [d for d in yaml.safe_load_all(proc.stdout) if d]


@pytest.mark.parametrize("env", ENVS)
@pytest.mark.parametrize("chart", sorted(VALUE_FILES))
def test_application_renders_from_its_value_files_alone(chart, env):
    assert render_application(chart, env)


@pytest.mark.parametrize("env", ENVS)
def test_image_tags_come_from_the_release_file(env):
    release = yaml.safe_load((REPO / "releases" / f"{env}.yaml").read_text())
    docs = render_application("echo", env)
    images = {c["image"] for d in find(docs, "Deployment") for c in d["spec"]["template"]["spec"]["containers"]
              if "registry.digitalocean.com" in c["image"]}
    assert images, "no ECHO image rendered"
    expected = {t["tag"] for t in release["images"].values()}
    assert {i.rsplit(":", 1)[1] for i in images} <= expected
    provider = release["common"]["env"]["TRANSCRIPTION_PROVIDER"]
    api = [d for d in find(docs, "Deployment") if d["metadata"]["name"].endswith("-api")][0]
    env_vars = {e["name"]: e.get("value") for e in api["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env_vars["TRANSCRIPTION_PROVIDER"] == provider


@pytest.mark.parametrize("env", ENVS)
def test_hosts_tls_and_cookie_come_from_the_inventory(env):
    values = yaml.safe_load(open(inventory_values_file("echo", env)))
    docs = render_application("echo", env)
    ingress = find(docs, "Ingress")[0]
    hosts = {r["host"] for r in ingress["spec"]["rules"]}
    assert hosts == {values["ingress"]["apiHost"], values["ingress"]["directusHost"]}
    for chart in ("echo", "monitoring"):
        text = (REPO / "charts" / chart / f"values-{env}.yaml").read_text()
        for key in ("apiHost:", "directusHost:", "grafanaHost:", "prometheusHost:", "tlsSecretName:", "SESSION_COOKIE_NAME:"):
            assert key not in text, f"charts/{chart}/values-{env}.yaml repeats {key} (the inventory owns it)"
