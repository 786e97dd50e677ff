"""Render checks for charts/monitoring, plus promtool/amtool validation and a structural Loki check."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from chartlib import ENVS, REPO, ci_files, find, find_tool, one, render, render_text, run_helm, value_args

APP_NS = {"dev": "echo-dev", "testing": "echo-testing", "prod": "echo-prod", "local": "echo-local"}
PROBE_HOSTS = {
    "dev": {"https://api.echo-next.dembrane.com/api/health", "https://directus.echo-next.dembrane.com/server/health"},
    "testing": {"https://api.echo-testing.dembrane.com/api/health", "https://directus.echo-testing.dembrane.com/server/health"},
    "prod": {"https://api.dembrane.com/api/health", "https://directus.dembrane.com/server/health"},
    "local": {"http://echo-api.echo-local.svc:8000/api/health", "http://echo-directus.echo-local.svc:8055/server/health"},
}


def cm_data(docs, name):
    return one(docs, "ConfigMap", name)["data"]


def prom_config(env, extra=()):
    return yaml.safe_load(cm_data(render("monitoring", env, extra), "prometheus-config")["prometheus.yml"])


def write_prometheus_tree(env: str, root: Path) -> Path:
    data = cm_data(render("monitoring", env), "prometheus-config")
    rules = root / "rules"
    rules.mkdir(parents=True)
    for key, text in data.items():
        if key != "prometheus.yml":
            (rules / key).write_text(text)
    cfg = root / "prometheus.yml"
    cfg.write_text(data["prometheus.yml"].replace("/etc/prometheus/rules/", f"{rules}/"))
    return cfg


def test_lint_every_env():
    for env in ENVS:
        run_helm("lint", "charts/monitoring", "--strict", "-n", "monitoring", *value_args("monitoring", env))


@pytest.mark.parametrize("env", ENVS)
def test_render_every_env(env):
    docs = render("monitoring", env)
    assert not find(docs, "Namespace"), "the namespace has one owner: the bootstrap layer"
    for d in docs:
        if d["kind"] not in ("ClusterRole", "ClusterRoleBinding", "PriorityClass"):
            assert d["metadata"]["namespace"] == "monitoring", f"{d['kind']}/{d['metadata']['name']}"
        labels = d["metadata"]["labels"]
        assert labels["app.kubernetes.io/part-of"] == "echo-platform" and labels["app.kubernetes.io/managed-by"] == "Helm"


@pytest.mark.parametrize("toggle", ci_files("monitoring"))
def test_render_every_ci_toggle(toggle):
    assert render("monitoring", "dev", (toggle,))


@pytest.mark.parametrize("env", ENVS)
def test_selectors_match_pods(env):
    docs = render("monitoring", env)
    for w in find(docs, "Deployment") + find(docs, "DaemonSet"):
        pod = w["spec"]["template"]["metadata"]["labels"]
        assert w["spec"]["selector"]["matchLabels"].items() <= pod.items()
        assert "helm.sh/chart" not in w["spec"]["selector"]["matchLabels"]
    pods = [w["spec"]["template"]["metadata"]["labels"] for w in find(docs, "Deployment") + find(docs, "DaemonSet")]
    for svc in find(docs, "Service"):
        assert any(svc["spec"]["selector"].items() <= p.items() for p in pods), svc["metadata"]["name"]


@pytest.mark.parametrize("env", ENVS)
def test_promtool_check_config_and_rules(env, tmp_path):
    promtool = find_tool("promtool", "run scripts/build-promtool; Debian's promtool lacks kubernetes_sd_configs")
    cfg = write_prometheus_tree(env, tmp_path)
    proc = subprocess.run([promtool, "check", "config", "--syntax-only", str(cfg)], capture_output=True, text=True, check=False)
    if "field kubernetes_sd_configs not found" in proc.stdout + proc.stderr:
        pytest.fail(f"{promtool} was built without Kubernetes service discovery (Debian's build): "
                    "run scripts/build-promtool (installs $ECHO_CACHE_DIR/bin/promtool)")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rules = sorted(str(p) for p in (tmp_path / "rules").glob("*.yml"))
    proc = subprocess.run([promtool, "check", "rules", *rules], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("env", ENVS)
def test_amtool_check_config(env, tmp_path):
    amtool = find_tool("amtool", "Debian package prometheus-alertmanager, see scripts/apt-packages.txt")
    data = cm_data(render("monitoring", env), "alertmanager-config")
    for key, text in data.items():
        (tmp_path / key).write_text(text.replace("/etc/alertmanager/config/", f"{tmp_path}/"))
    proc = subprocess.run([amtool, "check-config", str(tmp_path / "alertmanager.yml")], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 templates" in proc.stdout


@pytest.mark.parametrize("env", ENVS)
def test_rules_follow_environment(env):
    data = cm_data(render("monitoring", env), "prometheus-config")
    app = yaml.safe_load(data["application.yml"])
    text = data["application.yml"]
    assert f'namespace="{APP_NS[env]}"' in text
    for other in set(APP_NS.values()) - {APP_NS[env]}:
        assert other not in text
    for d in data.values():
        assert not re.search(r"__[A-Z_]+__", d), "a token was left unreplaced"
    names = {r["alert"] for g in app["groups"] for r in g["rules"]}
    assert {"IngressHighErrorRate", "CrashLoopBackOff", "OOMKilled", "DeploymentAvailabilityShortfall"} <= names
    platform = yaml.safe_load(data["platform.yml"])
    pnames = {r["alert"] for g in platform["groups"] for r in g["rules"]}
    assert {"ProbeFailed", "CertificateExpiringSoon", "PVCFillingUp", "Watchdog"} <= pnames
    for group in app["groups"] + platform["groups"]:
        for rule in group["rules"]:
            assert rule["labels"]["severity"] in ("warning", "critical", "none"), rule["alert"]
    cfg = yaml.safe_load(data["prometheus.yml"])
    assert cfg["global"]["external_labels"]["env"] == env


@pytest.mark.parametrize("env", ENVS)
def test_scrape_jobs(env):
    cfg = prom_config(env)
    jobs = {j["job_name"]: j for j in cfg["scrape_configs"]}
    assert len(jobs) == len(cfg["scrape_configs"]), "duplicate job names"
    api = jobs["kubernetes-apiservers"]["relabel_configs"][0]
    assert api["action"] == "keep" and api["regex"] == "default;kubernetes;https"
    pods = jobs["kubernetes-pods"]["relabel_configs"]
    assert {"action": "drop", "regex": "monitoring", "source_labels": ["__meta_kubernetes_namespace"]} in pods
    assert not any(r.get("action") == "labelmap" for r in pods)
    assert "ingress-nginx-pods" not in jobs
    for name in ("kube-state-metrics", "node-exporter", "promtail", "prometheus", "alertmanager", "grafana"):
        assert name in jobs
    assert "loki" in jobs
    box = jobs["blackbox_http"]
    assert {t["targets"][0] for t in box["static_configs"]} == PROBE_HOSTS[env]
    # no workload of this chart asks the annotation job for a (duplicate) scrape
    for d in render("monitoring", env):
        if d["kind"] in ("Deployment", "DaemonSet"):
            assert "prometheus.io/scrape" not in d["spec"]["template"]["metadata"].get("annotations", {})


def test_blackbox_verifies_tls():
    data = cm_data(render("monitoring", "prod"), "blackbox-exporter-config")
    mod = yaml.safe_load(data["blackbox.yml"])["modules"]["http_2xx"]
    assert "insecure_skip_verify" not in json.dumps(mod)
    assert mod["http"]["valid_status_codes"] == [200]


@pytest.mark.parametrize("env", ENVS)
def test_alertmanager_routes_per_env(env):
    cfg = yaml.safe_load(cm_data(render("monitoring", env), "alertmanager-config")["alertmanager.yml"])
    receivers = {r["name"]: r for r in cfg["receivers"]}
    routes = cfg["route"]["routes"]
    assert routes[0]["matchers"] == ['alertname="Watchdog"']
    if env == "local":
        assert set(receivers) == {"blackhole"}
    else:
        slack = receivers["slack"]["slack_configs"][0]
        assert slack["api_url_file"] == "/etc/alertmanager/secrets/slack-webhook-url"
        assert "api_url" not in slack
        assert slack["channel"] == {"dev": "#dev-alerts", "testing": "#testing-alerts", "prod": "#prod-alerts"}[env]
        assert any(r["receiver"] == "slack" and r["matchers"] == ['severity="critical"'] for r in routes)


def test_route_to_undefined_receiver_fails():
    proc = run_helm("template", "m", "charts/monitoring", "-n", "monitoring", *value_args("monitoring", "local"),
                    "--set", "alertmanager.routes[0].receiver=slack", "--set", "alertmanager.routes[0].matchers[0]=a=b", check=False)
    assert proc.returncode != 0 and 'receiver "slack" is not defined' in proc.stderr


@pytest.mark.parametrize("env", ENVS)
def test_grafana(env):
    docs = render("monitoring", env)
    dep = one(docs, "Deployment", "grafana")
    env_vars = {e["name"]: e for e in dep["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env_vars["GF_SECURITY_ADMIN_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
        "name": "monitoring-secrets", "key": "grafana-admin-password"}
    assert env_vars["GF_AUTH_ANONYMOUS_ENABLED"]["value"] == "false"
    prov = cm_data(docs, "grafana-provisioning")
    ds = {d["uid"]: d for d in yaml.safe_load(prov["datasources.yaml"])["datasources"]}
    assert ds["prometheus"]["url"] == "http://prometheus.monitoring.svc:9090" and ds["prometheus"]["isDefault"]
    assert ds["loki"]["url"] == "http://loki.monitoring.svc:3100"
    dashboards = cm_data(docs, "grafana-dashboards")
    health = json.loads(dashboards["health.json"])
    assert health["uid"] == "health" and health["refresh"] == "30s"
    assert health["templating"]["list"][0]["current"]["value"] == APP_NS[env]
    titles = [p["title"] for p in health["panels"]]
    for row in ("SLIs", "Reliability", "Capacity", "Resource hotspots", "Error logs", "Pods stuck"):
        assert row in titles
    for comp in ("api", "directus", "worker", "worker-cpu", "worker-scheduler", "agent"):
        assert f"Errors: {comp}" in titles
    non_rows = [p for p in health["panels"] if p["type"] != "row"]
    assert len(non_rows) >= 15 and all(p["targets"][0]["expr"] for p in non_rows)
    for name, text in dashboards.items():
        assert "__APP_NAMESPACE__" not in text, name
        json.loads(text)


def test_loki_disabled_removes_datasource_and_job():
    docs = render("monitoring", "dev", ("charts/monitoring/ci/loki-disabled-values.yaml",))
    assert not find(docs, "Deployment", "loki") and not find(docs, "DaemonSet", "promtail")
    ds = yaml.safe_load(cm_data(docs, "grafana-provisioning")["datasources.yaml"])["datasources"]
    assert [d["uid"] for d in ds] == ["prometheus"]
    cfg = yaml.safe_load(cm_data(docs, "prometheus-config")["prometheus.yml"])
    assert "loki" not in {j["job_name"] for j in cfg["scrape_configs"]}


def test_local_deploys_loki_as_production_does():
    # the rehearsal runs what production runs: the chart's own Loki, whose pod testenv's Loki stand-in plays
    # (testenv/components/26-kwok matches it by namespace, app.kubernetes.io/name and instance)
    docs = render("monitoring", "local")
    loki = find(docs, "Deployment", "loki")
    assert loki and find(docs, "Service", "loki") and find(docs, "ConfigMap", "loki-config")
    labels = loki[0]["spec"]["template"]["metadata"]["labels"]
    assert labels["app.kubernetes.io/name"] == "loki" and labels["app.kubernetes.io/instance"] == "monitoring"
    ds = yaml.safe_load(cm_data(docs, "grafana-provisioning")["datasources.yaml"])["datasources"]
    assert "loki" in [d["uid"] for d in ds]
    assert find(docs, "DaemonSet", "promtail")


@pytest.mark.parametrize("env", ("dev", "testing", "prod"))
def test_loki_config_structure(env):
    """Structural check: the Loki binary (AGPL) is not available here to run -verify-config."""
    values = yaml.safe_load((REPO / "charts/monitoring/values.yaml").read_text())["loki"]
    cfg = yaml.safe_load(cm_data(render("monitoring", env), "loki-config")["loki.yaml"])
    for key in ("auth_enabled", "server", "common", "schema_config", "storage_config", "compactor", "limits_config"):
        assert key in cfg
    assert cfg["auth_enabled"] is False and cfg["server"]["http_listen_port"] == 3100
    schema = cfg["schema_config"]["configs"][0]
    assert (schema["store"], schema["object_store"], schema["schema"]) == ("tsdb", "filesystem", "v13")
    assert schema["index"]["period"] == "24h"
    assert cfg["common"]["storage"]["filesystem"]["chunks_directory"].startswith("/data")
    assert cfg["storage_config"]["tsdb_shipper"]["active_index_directory"].startswith("/data")
    assert cfg["compactor"]["retention_enabled"] is True and cfg["compactor"]["delete_request_store"] == "filesystem"
    lim = cfg["limits_config"]
    assert lim["retention_period"] == values["retention"]
    assert lim["max_query_length"] == values["limits"]["maxQueryLength"] == "13h"
    assert lim["max_entries_limit_per_query"] == values["limits"]["maxEntriesLimitPerQuery"]
    assert lim["max_query_parallelism"] == values["limits"]["maxQueryParallelism"]
    assert lim["split_queries_by_interval"] == values["limits"]["splitQueriesByInterval"]


def test_loki_limits_follow_values():
    docs = render("monitoring", "dev", sets=("loki.limits.maxQueryLength=25h", "loki.retention=14d"))
    lim = yaml.safe_load(cm_data(docs, "loki-config")["loki.yaml"])["limits_config"]
    assert lim["max_query_length"] == "25h" and lim["retention_period"] == "14d"


def test_promtail_labels():
    docs = render("monitoring", "prod")
    cfg = yaml.safe_load(cm_data(docs, "promtail-config")["promtail.yaml"])
    job = cfg["scrape_configs"][0]
    relabel = job["relabel_configs"]
    assert not any(r.get("action") == "labelmap" for r in relabel), "no copying of every pod label"
    targets = {r.get("target_label") for r in relabel}
    assert {"namespace", "app", "component", "pod", "container", "node"} <= targets
    # the `app` and `component` pod labels are applied last, so they win
    app_rules = [r for r in relabel if r.get("target_label") == "app"]
    assert app_rules[-1]["source_labels"] == ["__meta_kubernetes_pod_label_app"]
    comp_rules = [r for r in relabel if r.get("target_label") == "component"]
    assert comp_rules[-1]["source_labels"] == ["__meta_kubernetes_pod_label_component"]
    pod = next(r for r in relabel if r.get("target_label") == "pod")
    assert pod["separator"] == "/"
    assert job["pipeline_stages"] == [{"cri": {}}]
    assert cfg["clients"][0]["url"] == "http://loki.monitoring.svc:3100/loki/api/v1/push"


@pytest.mark.parametrize("env", ENVS)
def test_daemonsets_priority_and_tolerations(env):
    docs = render("monitoring", env)
    pc = one(docs, "PriorityClass", "monitoring-node-agent")
    for ds in find(docs, "DaemonSet"):
        spec = ds["spec"]["template"]["spec"]
        assert spec["priorityClassName"] == pc["metadata"]["name"]
        assert {"operator": "Exists"} in spec["tolerations"]
    assert {d["metadata"]["name"] for d in find(docs, "DaemonSet")} == {"promtail", "node-exporter"}


def test_promtail_job_follows_loki():
    cfg = prom_config("dev", ("charts/monitoring/ci/loki-disabled-values.yaml",))
    assert "promtail" not in {j["job_name"] for j in cfg["scrape_configs"]}


@pytest.mark.parametrize("env", ENVS)
def test_storage_rbac_and_accounts(env):
    docs = render("monitoring", env)
    pvcs = {p["metadata"]["name"] for p in find(docs, "PersistentVolumeClaim")}
    assert pvcs == {"prometheus-data", "grafana-data", "loki-data"}
    for p in find(docs, "PersistentVolumeClaim"):
        assert p["spec"]["storageClassName"] == "do-block-storage" and p["spec"]["accessModes"] == ["ReadWriteOnce"]
    sas = {s["metadata"]["name"] for s in find(docs, "ServiceAccount")}
    assert sas == {"prometheus", "promtail", "kube-state-metrics"}
    for crb in find(docs, "ClusterRoleBinding"):
        sub = crb["subjects"][0]
        assert sub["namespace"] == "monitoring" and sub["name"] in sas
    ksm = one(docs, "ClusterRole", "monitoring-kube-state-metrics")
    assert not any("secrets" in r.get("resources", []) for r in ksm["rules"])
    for kind in ("Deployment", "DaemonSet"):
        for w in find(docs, kind):
            spec = w["spec"]["template"]["spec"]
            uses_api = w["metadata"]["name"] in sas
            assert bool(spec.get("automountServiceAccountToken")) == uses_api, w["metadata"]["name"]


def test_ingress_basic_auth_default_on():
    docs = render("monitoring", "prod")
    prom = one(docs, "Ingress", "prometheus")
    ann = prom["metadata"]["annotations"]
    assert ann["nginx.ingress.kubernetes.io/auth-type"] == "basic"
    assert ann["nginx.ingress.kubernetes.io/auth-secret"] == "prometheus-basic-auth"
    assert prom["spec"]["rules"][0]["host"] == "prometheus.dembrane.com"
    graf = one(docs, "Ingress", "grafana")
    assert "nginx.ingress.kubernetes.io/auth-type" not in graf["metadata"]["annotations"]
    assert graf["spec"]["rules"][0]["host"] == "grafana.dembrane.com"
    assert prom["spec"]["tls"][0]["secretName"] == "monitoring-tls"
    off = render("monitoring", "dev", ("charts/monitoring/ci/prometheus-no-auth-values.yaml",))
    assert "nginx.ingress.kubernetes.io/auth-type" not in one(off, "Ingress", "prometheus")["metadata"]["annotations"]


def test_hosts_per_env():
    assert not find(render("monitoring", "testing"), "Ingress")
    local = {i["spec"]["rules"][0]["host"] for i in find(render("monitoring", "local"), "Ingress")}
    assert local == {"grafana.echo.localtest.me", "prometheus.echo.localtest.me"}
    prod = render_text("monitoring", "prod")
    for bad in ("echo-next", "echo-testing", "localtest.me", "echo-dev", "echo-local"):
        assert bad not in prod, bad


def test_digest_script_comes_verbatim_from_file():
    docs = render("monitoring", "prod")
    script = (REPO / "charts/monitoring/files/warning-digest/warning_digest.py").read_text()
    assert "{{" in script or "{" in script  # braces that would have collided with inline templating
    assert cm_data(docs, "warning-digest-script")["warning_digest.py"] == script
    cron = one(docs, "CronJob", "warning-digest")
    assert cron["spec"]["timeZone"] == "Europe/Amsterdam" and cron["spec"]["concurrencyPolicy"] == "Forbid"
    compile(script, "warning_digest.py", "exec")
    assert not find(render("monitoring", "local"), "CronJob")


def test_digest_formatting():
    import importlib.util

    spec = importlib.util.spec_from_file_location("wd", REPO / "charts/monitoring/files/warning-digest/warning_digest.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert "No warnings fired" in mod.format_digest({})
    text = mod.format_digest({"A": {"minutes": 5, "events": 1}, "B": {"minutes": 50, "events": 3}})
    assert text.index("B:") < text.index("A:")


@pytest.mark.parametrize(
    ("setting", "needle"),
    [
        ("grafana.adminPassword=admin", "adminPassword"),
        ("alerting.enabled=true", "alerting"),
        ("domain=example.com", "domain"),
        ("loki.limits.maxQueryLenght=1h", "maxQueryLenght"),
        ("ingress.basicAuth.enabled=true", "basicAuth"),
        ("blackbox.targets[0].nmae=x", "nmae"),
    ],
)
def test_schema_rejects_bad_values(setting, needle):
    proc = run_helm("template", "m", "charts/monitoring", "-n", "monitoring", *value_args("monitoring", "dev"),
                    "--set", setting, check=False)
    assert proc.returncode != 0, f"{setting} was accepted"
    assert needle in proc.stderr, proc.stderr


def test_schema_requires_target_url(tmp_path):
    bad = tmp_path / "values-bad.yaml"
    bad.write_text("blackbox:\n  targets:\n    - name: api\n")
    proc = run_helm("template", "m", "charts/monitoring", "-n", "monitoring", *value_args("monitoring", "dev"), "-f", str(bad),
                    check=False)
    assert proc.returncode != 0 and "url" in proc.stderr


def test_environment_is_required():
    proc = run_helm("template", "m", "charts/monitoring", "-n", "monitoring", "-f", "charts/monitoring/values.yaml", check=False)
    assert proc.returncode != 0 and "global.environment must be set" in proc.stderr


def test_priority_class_toggle():
    docs = render("monitoring", "dev", ("charts/monitoring/ci/no-priority-class-values.yaml",))
    assert not find(docs, "PriorityClass")
    assert all(d["spec"]["template"]["spec"]["priorityClassName"] == "monitoring-node-agent" for d in find(docs, "DaemonSet"))


def test_digest_and_slack_toggle():
    docs = render("monitoring", "dev", ("charts/monitoring/ci/digest-and-slack-values.yaml",))
    cfg = yaml.safe_load(cm_data(docs, "alertmanager-config")["alertmanager.yml"])
    assert cfg["route"]["receiver"] == "slack"
    dep = one(docs, "Deployment", "alertmanager")
    vol = next(v for v in dep["spec"]["template"]["spec"]["volumes"] if v["name"] == "secrets")
    assert vol["secret"]["optional"] is False  # Slack on: a missing webhook key must stop the pod, loudly
    assert one(docs, "CronJob", "warning-digest")
