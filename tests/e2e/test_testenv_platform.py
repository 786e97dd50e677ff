"""The five upstream platform charts are installed with `helm upgrade --install --wait` on the rehearsal, with the
values the collection's bootstrap uses (roles/cluster_bootstrap/vars/main.yml + group_vars/all/platform.yml): by
site.yml's bootstrap layer when the session converged the local platform (tests/e2e/conftest.py; then their
status and pinned version are checked), else by this module itself; then a ClusterIssuer and an Ingress can be created, and the services the rehearsal's
host processes play (sealed-secrets certificate, Loki) stay reachable through the API server's service proxy
before and after the charts (and our monitoring chart's Loki) are installed.

Needs `testenv/bin/testenv up`. At the end the releases this module installed are uninstalled and the
sealed-secrets and Loki components are started again, so later suites find the environment as before.
"""

import collections
import json
import subprocess
import uuid

import pytest
import yaml
from jinja2.nativetypes import NativeEnvironment

from _testenv import REPO, STATE, read_env
from test_testenv_workloads import Rehearsal, ready, tool, wait_for

Result = collections.namedtuple("Result", "ok detail")

ROLE_VARS = REPO / "collections/ansible_collections/echo/platform/roles/cluster_bootstrap/vars/main.yml"
ROLE_DEFAULTS = REPO / "collections/ansible_collections/echo/platform/roles/cluster_bootstrap/defaults/main.yml"
PLATFORM = REPO / "group_vars/all/platform.yml"
UNSERVED = [
    "validatingwebhookconfigurations cert-manager-webhook",
    "mutatingwebhookconfigurations cert-manager-webhook",
    "validatingwebhookconfigurations ingress-nginx-admission",
    "apiservices v1beta1.metrics.k8s.io",
]


def render(value, context):
    """Render the role's Jinja values the way Ansible would for these simple expressions."""
    env = NativeEnvironment()
    env.filters["combine"] = lambda a, *more: {k: v for d in (a, *more) for k, v in d.items()}
    if isinstance(value, dict):
        return {k: render(v, context) for k, v in value.items()}
    if isinstance(value, list):
        return [render(v, context) for v in value]
    if isinstance(value, str) and "{{" in value:
        return env.from_string(value).render(**context)
    return value


def release_plan():
    releases = yaml.safe_load(PLATFORM.read_text())["echo_platform_releases"]
    role_vars = yaml.safe_load(ROLE_VARS.read_text())
    context = {k: v for k, v in yaml.safe_load(ROLE_DEFAULTS.read_text()).items()}
    context["cluster_bootstrap_env"] = "local"
    context["cluster_bootstrap_ingress_lb_name"] = "echo-local-ingress-lb"
    context.update({k: v for k, v in role_vars.items() if k.startswith("__") and k != "__cluster_bootstrap_chart_values"})
    context["__cluster_bootstrap_ingress_annotations"] = render(role_vars["__cluster_bootstrap_ingress_annotations"], context)
    chart_values = render(role_vars["__cluster_bootstrap_chart_values"], context)
    plan = []
    for key, rel in releases.items():
        plan.append({"name": rel.get("release_name", key), "chart": rel["chart"], "version": rel["version"],
                     "namespace": rel["namespace"], "values": chart_values.get(rel["chart"], {})})
    return plan


def helm(*args, timeout=600):
    return subprocess.run([tool("helm"), *args], capture_output=True, text=True, timeout=timeout, check=False)


def proxied(rh, path):
    out = rh.kubectl("get", "--raw", path, check=False)
    return out.stdout if out.returncode == 0 else ""


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    facts = read_env()
    for key in ("KUBECONFIG", "DO_API_URL", "TESTENV_CHART_REPO_URL", "SEALED_SECRETS_CERT_PROXY_PATH",
                "LOKI_PROXY_PATH", "TESTENV_UNSERVED_LOG"):
        if key not in facts:
            pytest.fail("the rehearsal environment is not up (no %s in env.d); run `testenv/bin/testenv up`" % key)
    rh = Rehearsal(facts)
    cert_path, loki_path = facts["SEALED_SECRETS_CERT_PROXY_PATH"], facts["LOKI_PROXY_PATH"] + "/ready"
    before = {"cert": "BEGIN CERTIFICATE" in proxied(rh, cert_path), "loki": "ready" in proxied(rh, loki_path)}

    suffix = uuid.uuid4().hex[:6]
    tmp = tmp_path_factory.mktemp("platform")
    kube = ["--kubeconfig", facts["KUBECONFIG"]]
    installed, results = [], {}
    try:
        wait_for("Ready nodes", lambda: [n for n in rh.nodes("doks.digitalocean.com/node-pool") if ready(n)])
        for rel in release_plan():
            listed = helm("list", "--namespace", rel["namespace"], "--filter", "^%s$" % rel["name"], "-o", "json", *kube)
            found = json.loads(listed.stdout or "[]") if listed.returncode == 0 else []
            if found:
                # site.yml's bootstrap layer (tests/e2e/conftest.py) installed it with --wait: check what it left
                release = found[0]
                pinned = release["chart"] == "%s-%s" % (rel["chart"], rel["version"])
                results[rel["name"]] = Result(release["status"] == "deployed" and pinned,
                                              "%s, chart %s (pinned %s)" % (release["status"], release["chart"],
                                                                            rel["version"]))
                continue
            values = tmp / ("%s.yaml" % rel["name"])
            values.write_text(yaml.safe_dump(rel["values"]))
            out = helm("upgrade", "--install", rel["name"], rel["chart"], "--repo", facts["TESTENV_CHART_REPO_URL"],
                       "--version", rel["version"], "--namespace", rel["namespace"], "--create-namespace",
                       "--wait", "--timeout", "5m", "-f", str(values), *kube)
            results[rel["name"]] = Result(out.returncode == 0, out.stderr[-3000:])
            if out.returncode == 0:
                installed.append(rel)
        app = rh.kubectl("-n", "argocd", "get", "application", "echo-monitoring-local", "-o", "json", check=False)
        if app.returncode == 0:
            # the local inventory deploys our monitoring chart through Argo CD (with Loki played by the host process)
            state = json.loads(app.stdout).get("status", {})
            results["monitoring"] = Result(state.get("health", {}).get("status") == "Healthy", json.dumps(state)[-3000:])
        else:
            mon = ["upgrade", "--install", "monitoring", str(REPO / "charts" / "monitoring"), "--namespace", "monitoring",
                   "--create-namespace", "--wait", "--timeout", "5m",
                   "-f", str(REPO / "charts/monitoring/values.yaml"), "-f", str(REPO / "charts/monitoring/values-local.yaml"),
                   "--set", "loki.deploy=true", *kube]
            out = helm(*mon)
            results["monitoring"] = Result(out.returncode == 0, out.stderr[-3000:])
            if out.returncode == 0:
                installed.append({"name": "monitoring", "namespace": "monitoring"})
        yield {"rh": rh, "results": results, "before": before, "cert_path": cert_path, "loki_path": loki_path,
               "facts": facts, "suffix": suffix}
    finally:
        # only what this module installed goes again; the converged local platform stays for later suites
        for rel in reversed(installed):
            helm("uninstall", rel["name"], "--namespace", rel["namespace"], "--kubeconfig", facts["KUBECONFIG"], "--wait")
        subprocess.run([str(REPO / "testenv" / "bin" / "testenv"), "start", "sealed-secrets", "loki"],
                       capture_output=True, text=True, timeout=300, check=False)


def test_proxied_services_answer_before_the_charts(platform):
    assert platform["before"] == {"cert": True, "loki": True}


@pytest.mark.parametrize("release", ["sealed-secrets-controller", "argo-cd", "ingress-nginx", "cert-manager",
                                     "metrics-server", "monitoring"])
def test_release_installs_with_wait(platform, release):
    result = platform["results"][release]
    assert result.ok, result.detail


def test_pods_of_the_charts_are_ready_on_kwok_nodes(platform):
    rh = platform["rh"]
    kwok_nodes = {n["metadata"]["name"] for n in rh.get("nodes")["items"]
                  if (n["metadata"].get("annotations") or {}).get("kwok.x-k8s.io/node") == "fake"}
    for ns in ("kube-system", "argocd", "ingress-nginx", "cert-manager", "monitoring"):
        pods = [p for p in rh.get("-n", ns, "pods")["items"] if not p["metadata"]["name"].endswith("-testenv")]
        running = [p for p in pods if p["status"].get("phase") == "Running"]
        assert running, "no running pod in %s" % ns
        for pod in running:
            assert pod["spec"].get("nodeName") in kwok_nodes, pod["metadata"]["name"]
            assert any(c["type"] == "Ready" and c["status"] == "True" for c in pod["status"]["conditions"])


def test_unserved_objects_were_removed_and_logged(platform):
    rh = platform["rh"]
    log = (STATE / "logs" / "unserved.log").read_text()
    for entry in UNSERVED:
        kind, name = entry.split()
        if kind == "apiservices":
            # no pod can serve it, so it must not exist (discovery stays complete): the local inventory does not
            # create it (metrics-server apiService.create=false), and the watcher deletes it when a chart does
            assert rh.kubectl("get", kind, name, check=False).returncode != 0
            assert "deleted %s %s" % (kind, name) in log or "%s/%s" % (kind, name) in log  # watched, at least
            continue
        # webhook configurations stay (helm --wait and the charts' hooks expect them) but are never called
        assert "neutralised %s %s" % (kind, name) in log
        for hook in rh.get(kind, name)["webhooks"]:
            assert hook["failurePolicy"] == "Ignore", hook
            assert hook.get("objectSelector", {}).get("matchLabels"), hook  # a label no object carries
    # discovery is complete again: no unavailable aggregated API
    out = rh.kubectl("api-resources", check=False)
    assert out.returncode == 0, out.stderr


def test_cluster_issuer_and_ingress_can_be_created(platform):
    rh = platform["rh"]
    name = "e2e-%s" % platform["suffix"]
    rh.apply([{"apiVersion": "cert-manager.io/v1", "kind": "ClusterIssuer", "metadata": {"name": name},
               "spec": {"acme": {"server": "https://acme-staging-v02.api.letsencrypt.org/directory",
                                 "email": "ops@example.com", "privateKeySecretRef": {"name": name},
                                 "solvers": [{"http01": {"ingress": {"ingressClassName": "nginx"}}}]}}},
              {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": name, "namespace": "monitoring"},
               "spec": {"ingressClassName": "nginx", "rules": [{"host": "e2e.example.com", "http": {"paths": [
                   {"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "loki", "port": {"number": 3100}}}}]}}]}}])
    assert rh.get("clusterissuer", name)["metadata"]["name"] == name
    assert rh.get("-n", "monitoring", "ingress", name)["spec"]["ingressClassName"] == "nginx"
    rh.kubectl("delete", "clusterissuer", name, check=False)
    rh.kubectl("-n", "monitoring", "delete", "ingress", name, check=False)


def test_ingress_controller_service_gets_its_load_balancer(platform):
    svc = platform["rh"].get("-n", "ingress-nginx", "service", "ingress-nginx-controller")
    assert svc["spec"]["type"] == "LoadBalancer"
    assert svc["status"]["loadBalancer"]["ingress"][0]["ip"].startswith("198.51.100.")
    assert svc["metadata"]["annotations"]["service.beta.kubernetes.io/do-loadbalancer-name"] == "echo-local-ingress-lb"


@pytest.mark.parametrize("ns,svc,pod_prefix", [("kube-system", "sealed-secrets-controller", "sealed-secrets-controller-"),
                                               ("monitoring", "loki", "loki-")])
def test_chart_pod_played_by_the_host_process_backs_the_service(platform, ns, svc, pod_prefix):
    rh = platform["rh"]
    eps = rh.get("-n", ns, "endpoints", svc)
    addresses = [a for s in eps.get("subsets") or [] for a in s.get("addresses") or []]
    assert addresses, eps
    assert {a["ip"] for a in addresses} == {platform["facts"]["TESTENV_NS_IP"]}
    refs = [a["targetRef"]["name"] for a in addresses]
    assert all(r.startswith(pod_prefix) and not r.endswith("-testenv") for r in refs), refs


def test_proxied_services_answer_after_the_charts(platform):
    rh = platform["rh"]
    assert "BEGIN CERTIFICATE" in proxied(rh, platform["cert_path"])
    assert "ready" in proxied(rh, platform["loki_path"])
