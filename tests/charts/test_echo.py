"""Render checks for charts/echo: every environment, every ci toggle, and the fixes of issue 4."""

from __future__ import annotations

import re
import subprocess
import time

import pytest
import yaml

from chartlib import ENVS, TAG, ci_files, find, one, render, render_text, run_helm, value_args

WORKLOADS = ("api", "worker", "worker-cpu", "worker-scheduler", "agent", "directus")
SERVER = ("api", "worker", "worker-cpu", "worker-scheduler")
REQUIRED_KEYS = {
    "DIRECTUS_TOKEN": "DIRECTUS_ADMIN_TOKEN", "DIRECTUS_SECRET": "DIRECTUS_SECRET",
    "ASSEMBLYAI_API_KEY": "ASSEMBLYAI_API_KEY", "REDIS_URL": "REDIS_URL", "DATABASE_URL": "DATABASE_URL",
    "STORAGE_S3_KEY": "S3_ACCESS_KEY", "STORAGE_S3_SECRET": "S3_SECRET_KEY", "GCP_SA_JSON": "GCP_SA_JSON",
}
OPTIONAL_KEYS = ("ASSEMBLYAI_WEBHOOK_SECRET", "SENDGRID_API_KEY", "MOLLIE_API_KEY", "ECHO_SUPPORT_WEBHOOK_TOKEN")
HOSTS = {
    "dev": ("api.echo-next.dembrane.com", "directus.echo-next.dembrane.com"),
    "testing": ("api.echo-testing.dembrane.com", "directus.echo-testing.dembrane.com"),
    "prod": ("api.dembrane.com", "directus.dembrane.com"),
    "local": ("api.echo.localtest.me", "directus.echo.localtest.me"),
}


def container(dep: dict) -> dict:
    return dep["spec"]["template"]["spec"]["containers"][0]


def env_of(dep: dict) -> dict:
    return {e["name"]: e for e in container(dep)["env"]}


def literal_env(dep: dict) -> dict:
    return {k: v["value"] for k, v in env_of(dep).items() if "value" in v}


def secret_refs(dep: dict) -> dict:
    return {k: v["valueFrom"]["secretKeyRef"] for k, v in env_of(dep).items() if "valueFrom" in v}


def test_lint_every_env():
    for env in ENVS:
        run_helm("lint", "charts/echo", "--strict", *value_args("echo", env), "--set-string", f"global.imageTag={TAG}")


@pytest.mark.parametrize("env", ENVS)
def test_render_every_env(env):
    kinds = {d["kind"] for d in render("echo", env)}
    assert {"Deployment", "Service", "Ingress", "PriorityClass"} <= kinds


@pytest.mark.parametrize("toggle", ci_files("echo"))
def test_render_every_ci_toggle(toggle):
    assert render("echo", "dev", (toggle,))


@pytest.mark.parametrize("env", ENVS)
def test_labels_and_selectors(env):
    docs = render("echo", env)
    for dep in find(docs, "Deployment"):
        comp = dep["metadata"]["labels"]["component"]
        pod_labels = dep["spec"]["template"]["metadata"]["labels"]
        for labels in (dep["metadata"]["labels"], pod_labels):
            assert labels["app"] == "echo"
            assert labels["component"] == comp
            assert labels["app.kubernetes.io/name"] == "echo"
            assert labels["app.kubernetes.io/component"] == comp
            assert labels["app.kubernetes.io/part-of"] == "echo-platform"
            assert labels["app.kubernetes.io/managed-by"] == "Helm"
            assert labels["app.kubernetes.io/version"]
        sel = dep["spec"]["selector"]["matchLabels"]
        assert "helm.sh/chart" not in sel and "app.kubernetes.io/version" not in sel
        assert sel.items() <= pod_labels.items()
        assert dep["metadata"]["name"] == f"echo-{comp}"
    api = one(docs, "Deployment", "echo-api")
    assert api["metadata"]["labels"]["component"] == "api"
    assert container(api)["name"] == "api-server"
    for svc in find(docs, "Service"):
        comp = svc["metadata"]["labels"]["component"]
        dep = one(docs, "Deployment", f"echo-{comp}")
        assert svc["spec"]["selector"].items() <= dep["spec"]["template"]["metadata"]["labels"].items()
    for kind in ("PodDisruptionBudget",):
        for pdb in find(docs, kind):
            comp = pdb["metadata"]["labels"]["component"]
            dep = one(docs, "Deployment", f"echo-{comp}")
            assert pdb["spec"]["selector"]["matchLabels"].items() <= dep["spec"]["template"]["metadata"]["labels"].items()


@pytest.mark.parametrize("env", ENVS)
def test_env_composition(env):
    docs = render("echo", env)
    for comp in SERVER:
        dep = one(docs, "Deployment", f"echo-{comp}")
        lit, refs = literal_env(dep), secret_refs(dep)
        names = [e["name"] for e in container(dep)["env"]]
        assert len(names) == len(set(names)), f"duplicate env in {comp}"
        for key in ("DIRECTUS_BASE_URL", "ADMIN_BASE_URL", "PARTICIPANT_BASE_URL", "API_BASE_URL", "STORAGE_S3_BUCKET",
                    "TRANSCRIPTION_PROVIDER", "DIRECTUS_SESSION_COOKIE_NAME", "SENDGRID_REGION"):
            assert lit.get(key), f"{comp}: {key} missing"
        assert lit["BUILD_VERSION"] == TAG
        assert lit["AGENT_SERVICE_URL"] == "http://echo-agent:8001"
        assert all(v != "" for v in lit.values()), f"{comp}: empty literal env rendered"
        for env_name, key in REQUIRED_KEYS.items():
            assert refs[env_name] == {"name": "echo-backend-secrets", "key": key}, f"{comp}: {env_name}"
        aliases = [k for k in refs if re.fullmatch(r"LLM__\w+__GCP_SA_JSON", k)]
        assert len(aliases) == 9 and all(refs[a]["key"] == "GCP_SA_JSON" for a in aliases)
        for key in OPTIONAL_KEYS:
            if key in refs:
                assert refs[key] == {"name": "echo-backend-secrets", "key": key, "optional": True}
        assert "LLM__TEXT_FAST__API_KEY" not in refs
    cpu = literal_env(one(docs, "Deployment", "echo-worker-cpu"))
    assert cpu["CPU_WORKER_PROCESSES"] == "2" and cpu["CPU_WORKER_THREADS"] == "1"
    agent = one(docs, "Deployment", "echo-agent")
    assert secret_refs(agent) == {"GCP_SA_JSON": {"name": "echo-backend-secrets", "key": "GCP_SA_JSON"}}
    assert "AGENT_CORS_ORIGINS" in literal_env(agent)
    directus = one(docs, "Deployment", "echo-directus")
    dlit, drefs = literal_env(directus), secret_refs(directus)
    assert "NODE_TLS_REJECT_UNAUTHORIZED" not in dlit
    assert dlit["DB_SSL_REJECT_UNAUTHORIZED"] == "true"
    assert dlit["SESSION_COOKIE_SECURE"] == "true"
    assert drefs["ADMIN_TOKEN"]["key"] == "DIRECTUS_ADMIN_TOKEN" and drefs["DB_CONNECTION_STRING"]["key"] == "DATABASE_URL"
    assert not any(r.get("optional") for r in drefs.values())


def test_optional_switches_per_env():
    prod = secret_refs(one(render("echo", "prod"), "Deployment", "echo-api"))
    assert all(k in prod for k in OPTIONAL_KEYS)
    testing = secret_refs(one(render("echo", "testing"), "Deployment", "echo-api"))
    assert "SENDGRID_API_KEY" in testing
    for key in ("ASSEMBLYAI_WEBHOOK_SECRET", "MOLLIE_API_KEY", "ECHO_SUPPORT_WEBHOOK_TOKEN"):
        assert key not in testing
    off = secret_refs(one(render("echo", "dev", ("charts/echo/ci/optional-secrets-off-values.yaml",)), "Deployment", "echo-worker"))
    assert not any(k in off for k in OPTIONAL_KEYS)
    assert all(k in off for k in REQUIRED_KEYS)


def test_webhook_url_without_secret_fails():
    proc = run_helm("template", "e", "charts/echo", *value_args("echo", "testing"), "--set-string", f"global.imageTag={TAG}",
                    "--set-string", "common.env.ASSEMBLYAI_WEBHOOK_URL=https://x.invalid/hook", check=False)
    assert proc.returncode != 0 and "backendSecret.optional.ASSEMBLYAI_WEBHOOK_SECRET" in proc.stderr


@pytest.mark.parametrize("env", ENVS)
def test_hosts_per_env(env):
    ing = one(render("echo", env), "Ingress", "echo-ingress")
    hosts = {r["host"] for r in ing["spec"]["rules"]}
    assert hosts == set(HOSTS[env])
    assert ing["spec"]["ingressClassName"] == "nginx"
    backends = {r["host"]: r["http"]["paths"][0]["backend"]["service"]["name"] for r in ing["spec"]["rules"]}
    assert backends[HOSTS[env][0]] == "echo-api" and backends[HOSTS[env][1]] == "echo-directus"
    ann = ing["metadata"]["annotations"]
    if env != "local":
        assert ann["cert-manager.io/cluster-issuer"] == "letsencrypt-prod"
        assert set(ing["spec"]["tls"][0]["hosts"]) == set(HOSTS[env])
    assert ann["nginx.ingress.kubernetes.io/proxy-body-size"] == "500m"
    assert ("nginx.ingress.kubernetes.io/enable-cors" in ann) == (env == "testing")


def test_prod_has_no_dev_or_testing_host():
    text = render_text("echo", "prod")
    for bad in ("echo-next", "echo-testing", "localtest.me", "localhost"):
        assert bad not in text, f"prod render mentions {bad}"


def test_neutral_values_name_no_environment():
    text = (render_text.__wrapped__ if hasattr(render_text, "__wrapped__") else render_text)  # noqa: F841
    raw = open("charts/echo/values.yaml", encoding="utf-8").read()
    for bad in ("echo-next", "echo-testing", "localtest", "dbr-echo-dev", "dbr-echo-prod", "dembrane_session_token"):
        assert bad not in raw


@pytest.mark.parametrize("env", ENVS)
def test_hpa_and_pdb_presence(env):
    docs = render("echo", env)
    values = {}
    for f in ("charts/echo/values.yaml", f"charts/echo/values-{env}.yaml"):
        layer = yaml.safe_load(open(f, encoding="utf-8"))
        for key in ("api", "worker", "workerCpu", "directus"):
            values.setdefault(key, {}).update({k: v for k, v in (layer.get(key) or {}).items() if k in ("replicaCount", "maxReplicaCount")})
    names = {"api": "echo-api", "worker": "echo-worker", "workerCpu": "echo-worker-cpu", "directus": "echo-directus"}
    for key, name in names.items():
        v = values[key]
        hpa = find(docs, "HorizontalPodAutoscaler", name)
        pdb = find(docs, "PodDisruptionBudget", name)
        dep = one(docs, "Deployment", name)
        assert bool(hpa) == (v["maxReplicaCount"] > v["replicaCount"]), f"{env} {name} HPA"
        assert bool(pdb) == (v["replicaCount"] > 1), f"{env} {name} PDB"
        if hpa:
            spec = hpa[0]["spec"]
            assert spec["minReplicas"] == v["replicaCount"] and spec["maxReplicas"] == v["maxReplicaCount"]
            targets = {m["resource"]["name"]: m["resource"]["target"]["averageUtilization"] for m in spec["metrics"]}
            assert targets == {"cpu": 60, "memory": 70}
            assert spec["behavior"]["scaleDown"]["stabilizationWindowSeconds"] == 300
            assert spec["behavior"]["scaleUp"]["stabilizationWindowSeconds"] == 60
            assert "replicas" not in dep["spec"]
        else:
            assert dep["spec"]["replicas"] == v["replicaCount"]
        if pdb:
            assert pdb[0]["spec"]["minAvailable"] == 1
            assert pdb[0]["spec"]["unhealthyPodEvictionPolicy"] == "AlwaysAllow"
    assert not find(docs, "HorizontalPodAutoscaler", "echo-worker-scheduler")
    assert not find(docs, "PodDisruptionBudget", "echo-worker-scheduler")
    if env in ("dev", "testing", "local"):
        assert not find(docs, "PodDisruptionBudget"), "single-replica environments must stay drainable"


@pytest.mark.parametrize("env", ENVS)
def test_workload_settings(env):
    docs = render("echo", env)
    sched = one(docs, "Deployment", "echo-worker-scheduler")
    assert sched["spec"]["strategy"] == {"type": "Recreate"} and sched["spec"]["replicas"] == 1
    expected = {"api": ("echo-high", 60, 8000), "directus": ("echo-high", 60, 8055), "agent": ("echo-low", 60, 8001),
                "worker": ("echo-low", 120, None), "worker-cpu": ("echo-low", 120, None), "worker-scheduler": ("echo-low", 120, None)}
    for comp, (prio, grace, port) in expected.items():
        dep = one(docs, "Deployment", f"echo-{comp}")
        pod = dep["spec"]["template"]["spec"]
        c = container(dep)
        assert pod["priorityClassName"] == prio and pod["terminationGracePeriodSeconds"] == grace
        assert ([p["containerPort"] for p in c.get("ports", [])] or [None]) == [port]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
        assert c["securityContext"]["allowPrivilegeEscalation"] is False
        assert c["securityContext"]["capabilities"]["drop"] == ["ALL"]
        assert pod["automountServiceAccountToken"] is False
        assert c["livenessProbe"], f"{comp} has no liveness probe"
        assert c["resources"]["requests"] and c["resources"]["limits"]
        if comp != "worker-scheduler":
            ru = dep["spec"]["strategy"]["rollingUpdate"]
            assert ru == {"maxUnavailable": "0%", "maxSurge": "25%"}
    api = container(one(docs, "Deployment", "echo-api"))
    assert api["startupProbe"]["httpGet"]["path"] == "/api/health" and api["startupProbe"]["failureThreshold"] == 30
    assert api["command"] == ["/bin/sh", "/code/server/prod.sh"]
    for comp in ("worker", "worker-cpu"):
        c = container(one(docs, "Deployment", f"echo-{comp}"))
        for probe in ("readinessProbe", "livenessProbe"):
            assert "ramatiq" in " ".join(c[probe]["exec"]["command"])
    images = {container(d)["image"] for d in find(docs, "Deployment")}
    assert all(i.startswith("registry.digitalocean.com/dbr-cr/dbr-echo-") for i in images)
    assert not find(docs, "Deployment", "echo-neo4j"), "neo4j must be off by default"
    assert not find(docs, "ClusterIssuer")


def test_dramatiq_probe_command_behaviour():
    """The default probe fails without a dramatiq process (it must not match itself) and passes with one."""
    cmd = container(one(render("echo", "dev"), "Deployment", "echo-worker"))["livenessProbe"]["exec"]["command"]
    assert subprocess.run(cmd, check=False).returncode != 0
    fake = subprocess.Popen(["bash", "-c", "exec -a dramatiq-fake-worker sleep 30"])
    try:
        time.sleep(0.3)
        assert subprocess.run(cmd, check=False).returncode == 0
    finally:
        fake.kill()
        fake.wait()


def test_worker_probe_command_is_configurable():
    docs = render("echo", "dev", sets=("dramatiqProbeCommand[0]=/usr/local/bin/check",))
    c = container(one(docs, "Deployment", "echo-worker"))
    assert c["livenessProbe"]["exec"]["command"][0] == "/usr/local/bin/check"


def test_per_image_tags():
    docs = render("echo", "dev", ("charts/echo/ci/per-image-tags-values.yaml",))
    images = {d["metadata"]["name"]: container(d)["image"] for d in find(docs, "Deployment")}
    assert images["echo-api"].endswith("dbr-echo-server:1111111")
    assert images["echo-directus"].endswith("dbr-echo-directus:2222222")
    assert images["echo-agent"].endswith("dbr-echo-agent:3333333")
    # per-image tag wins over the shared default set by the test helper
    assert literal_env(one(docs, "Deployment", "echo-worker"))["BUILD_VERSION"] == "1111111"


def test_missing_tag_fails_naming_the_key():
    proc = run_helm("template", "e", "charts/echo", *value_args("echo", "prod"), check=False)
    assert proc.returncode != 0 and "images.server.tag" in proc.stderr and "global.imageTag" in proc.stderr


def test_neo4j_password_only_from_secret():
    docs = render("echo", "dev", ("charts/echo/ci/neo4j-values.yaml",))
    dep = one(docs, "Deployment", "echo-neo4j")
    auth = env_of(dep)["NEO4J_AUTH"]
    assert auth["valueFrom"]["secretKeyRef"] == {"name": "echo-neo4j-auth", "key": "NEO4J_AUTH"}
    assert "STRICT" not in render_text("echo", "dev", ("charts/echo/ci/neo4j-values.yaml",)).upper().replace("STRICT-TRANSPORT", "")
    assert one(docs, "PersistentVolumeClaim", "echo-neo4j-data")


def test_agent_disabled_drops_agent_url():
    docs = render("echo", "dev", ("charts/echo/ci/agent-disabled-values.yaml",))
    assert not find(docs, "Deployment", "echo-agent") and not find(docs, "Service", "echo-agent")
    assert "AGENT_SERVICE_URL" not in literal_env(one(docs, "Deployment", "echo-api"))


def test_ingress_toggle():
    assert not find(render("echo", "dev", ("charts/echo/ci/ingress-disabled-values.yaml",)), "Ingress")


@pytest.mark.parametrize(
    ("setting", "needle"),
    [
        ("apiServer.replicaCount=2", "apiServer"),
        ("api.replicaCont=2", "replicaCont"),
        ("workerScheduler.maxReplicaCount=3", "maxReplicaCount"),
        ("ingress.domain=example.com", "domain"),
        ("neo4j.password=plaintext", "password"),
        ("backendSecret.optional.LLM__TEXT_FAST__API_KEY=true", "LLM__TEXT_FAST__API_KEY"),
        ("common.env.NOT_A_SETTING=1", "NOT_A_SETTING"),
        ("api.probes.liveness.httpGett.path=/x", "httpGett"),
    ],
)
def test_schema_rejects_unknown_keys(setting, needle):
    proc = run_helm("template", "e", "charts/echo", *value_args("echo", "dev"), "--set-string", f"global.imageTag={TAG}",
                    "--set", setting, check=False)
    assert proc.returncode != 0, f"{setting} was accepted"
    assert needle in proc.stderr, proc.stderr


def test_schema_rejects_unknown_key_in_values_file(tmp_path):
    bad = tmp_path / "values-bad.yaml"
    bad.write_text("workerCpu:\n  env:\n    CPU_WORKER_PROCESSES: \"2\"\n  maxReplicas: 4\n")
    proc = run_helm("template", "e", "charts/echo", *value_args("echo", "dev"), "-f", str(bad),
                    "--set-string", f"global.imageTag={TAG}", check=False)
    assert proc.returncode != 0 and "maxReplicas" in proc.stderr


def test_numeric_tag_is_rejected_not_mangled():
    proc = run_helm("template", "e", "charts/echo", *value_args("echo", "dev"), "--set", "images.server.tag=1234567",
                    "--set-string", f"global.imageTag={TAG}", check=False)
    assert proc.returncode != 0 and "tag" in proc.stderr


SECRET_NAME = re.compile(r"(PASSWORD|TOKEN|_SECRET|SECRET$|_API_KEY|^STORAGE_S3_KEY$|^DATABASE_URL$|^REDIS(_URL)?$|CONNECTION_STRING|GCP_SA_JSON|NEO4J_AUTH)")


@pytest.mark.parametrize("env", ENVS)
def test_secret_like_env_only_from_secrets(env):
    """No credential is ever a literal: every secret-looking variable comes from a secretKeyRef."""
    docs = render("echo", env, ("charts/echo/ci/neo4j-values.yaml",))
    for dep in find(docs, "Deployment"):
        for name, entry in env_of(dep).items():
            if SECRET_NAME.search(name) and not name.endswith("_ALLOW_LIST"):
                assert "valueFrom" in entry and "secretKeyRef" in entry["valueFrom"], f"{dep['metadata']['name']}: {name}"
    assert not find(docs, "Secret"), "the chart never carries secret material"


def test_webhooks_toggle_and_priority_classes_off():
    docs = render("echo", "dev", ("charts/echo/ci/webhooks-values.yaml",))
    assert not find(docs, "PriorityClass")
    api = one(docs, "Deployment", "echo-api")
    lit, refs = literal_env(api), secret_refs(api)
    assert lit["ASSEMBLYAI_WEBHOOK_URL"].startswith("https://") and "ASSEMBLYAI_WEBHOOK_SECRET" in refs
    pcs = {p["metadata"]["name"]: p["value"] for p in find(render("echo", "dev"), "PriorityClass")}
    assert pcs == {"echo-high": 100000, "echo-low": 1000}
