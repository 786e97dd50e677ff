"""The local chart repository serves the upstream platform charts (../shared/charts), and what they render is accepted by
the real API server (server-side dry run, so nothing persists to collide with later suites).

Needs `testenv/bin/testenv up`.
"""

import os
import shutil
import subprocess
import urllib.request

import pytest
import yaml
from _testenv import REPO, STATE  # pylint: disable=import-error

EXPECTED = {
    "sealed-secrets": "2.17.1",
    "argo-cd": "7.8.9",
    "ingress-nginx": "4.7.1",
    "cert-manager": "v1.13.1",
    "metrics-server": "3.12.2",
}
DO_LB = {
    "service.beta.kubernetes.io/do-loadbalancer-name": "echo-local-ingress-lb",
    "service.beta.kubernetes.io/do-loadbalancer-size-unit": "1",
    "service.beta.kubernetes.io/do-loadbalancer-enable-proxy-protocol": "false",
    "service.beta.kubernetes.io/do-loadbalancer-tls-passthrough": "true",
}
VALUES = {
    "sealed-secrets": {},
    "argo-cd": {"configs": {"repositories": {"echo": {"url": "https://git.invalid/echo.git", "type": "git"}}}},
    "ingress-nginx": {"controller": {"service": {"annotations": DO_LB}, "metrics": {"enabled": True}}},
    "cert-manager": {"installCRDs": True},
    "metrics-server": {"args": ["--kubelet-insecure-tls"]},
}
RELEASE = {"sealed-secrets": "sealed-secrets-controller", "argo-cd": "argocd"}


def tool(name):
    for cand in (REPO / ".venv" / "bin" / name, shutil.which(name)):
        if cand and os.access(str(cand), os.X_OK):
            return str(cand)
    pytest.fail("%s not found; run make setup" % name)


@pytest.fixture(scope="module")
def env():
    facts = {}
    for f in sorted((STATE / "env.d").glob("*.env")):
        for line in f.read_text().splitlines():
            key, sep, value = line.partition("=")
            if sep:
                facts[key.strip()] = value.strip()
    if "TESTENV_CHART_REPO_URL" not in facts or "KUBECONFIG" not in facts:
        pytest.fail("the rehearsal environment is not up (no chart repo / kubeconfig facts in %s/env.d); "
                    "run `testenv/bin/testenv up` first" % STATE)
    return facts


def render(env, chart, tmp_path):
    values = tmp_path / ("%s-values.yaml" % chart)
    values.write_text(yaml.safe_dump(VALUES[chart]))
    out = subprocess.run(
        [tool("helm"), "template", RELEASE.get(chart, chart), chart, "--repo", env["TESTENV_CHART_REPO_URL"],
         "--version", EXPECTED[chart], "--namespace", "default", "--include-crds", "-f", str(values)],
        capture_output=True, text=True, check=False, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_index_serves_the_pinned_versions(env):
    with urllib.request.urlopen(env["TESTENV_CHART_REPO_URL"] + "/index.yaml", timeout=10) as resp:
        index = yaml.safe_load(resp.read())
    served = {name: [e["version"] for e in entries] for name, entries in index["entries"].items()}
    for name, version in EXPECTED.items():
        assert version in served.get(name, []), "%s %s not served (have %s)" % (name, version, served.get(name))


@pytest.mark.parametrize("chart", sorted(EXPECTED))
def test_rendered_chart_is_accepted_by_the_api_server(env, chart, tmp_path):
    manifest = render(env, chart, tmp_path)
    out = subprocess.run(
        # no -n: some charts name kube-system for a few objects (leader-election Roles, auth-reader bindings),
        # the rest falls into the kubeconfig's namespace
        [tool("kubectl"), "--kubeconfig", env["KUBECONFIG"], "apply", "--dry-run=server",
         "-f", "-"], input=manifest, capture_output=True, text=True, check=False, timeout=120)
    assert out.returncode == 0, out.stderr


def test_ingress_service_carries_the_load_balancer_annotations(env, tmp_path):
    docs = [d for d in yaml.safe_load_all(render(env, "ingress-nginx", tmp_path)) if d]
    services = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Service"}
    svc = services["ingress-nginx-controller"]
    assert svc["spec"]["type"] == "LoadBalancer"
    assert svc["metadata"]["annotations"] == DO_LB
    assert "ingress-nginx-controller-metrics" in services


def test_sealed_secrets_service_matches_the_testenv_endpoints(env, tmp_path):
    docs = [d for d in yaml.safe_load_all(render(env, "sealed-secrets", tmp_path)) if d]
    svc = next(d for d in docs if d["kind"] == "Service")
    assert svc["metadata"]["name"] == env.get("SEALED_SECRETS_CONTROLLER_NAME", "sealed-secrets-controller")
    assert svc["spec"]["ports"][0]["port"] == 8080
    assert svc["spec"]["ports"][0]["name"] == "http"
    # the host process plays the chart's pod (testenv/components/26-kwok): it must listen on the port the
    # Service targets, and the pod must carry the labels the kwok stage knows it by
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    pod = deployment["spec"]["template"]
    ports = {p["name"]: p["containerPort"] for c in pod["spec"]["containers"] for p in c.get("ports", [])}
    assert ports[svc["spec"]["ports"][0]["targetPort"]] == 8080
    assert pod["metadata"]["labels"]["app.kubernetes.io/name"] == "sealed-secrets"
    assert pod["metadata"]["labels"]["app.kubernetes.io/instance"] == "sealed-secrets-controller"
    assert "kube-system/sealed-secrets/sealed-secrets-controller" in env["TESTENV_HOST_PROCESS_PODS"].split(",")
