"""Pure checks of rendered manifests: quantities, references, missing keys, capacity on DOKS pools."""

import pytest

from ansible_collections.echo.platform.plugins.module_utils._k8s import workloads as wl

GIB = 1024 ** 3


def deployment(name, replicas=1, cpu="500m", memory="1Gi", env=(), volumes=(), pull=("do-registry-secret",),
               init=None, namespace="echo-prod", **spec_extra):
    container = {"name": name, "image": "registry.digitalocean.com/dbr-cr/dbr-echo-server:v1",
                 "resources": {"requests": {"cpu": cpu, "memory": memory}}, "env": list(env)}
    pod = {"containers": [container], "imagePullSecrets": [{"name": p} for p in pull], "volumes": list(volumes)}
    if init:
        pod["initContainers"] = init
    pod.update(spec_extra)
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": namespace},
            "spec": {"replicas": replicas, "template": {"spec": pod}}}


def daemonset(name, cpu="100m", memory="128Mi", tolerations=None):
    pod = {"containers": [{"name": name, "image": "prom/node-exporter:v1", "resources": {"requests": {"cpu": cpu, "memory": memory}}}]}
    if tolerations is not None:
        pod["tolerations"] = tolerations
    return {"kind": "DaemonSet", "metadata": {"name": name, "namespace": "monitoring"}, "spec": {"template": {"spec": pod}}}


def secret_env(var, name, key, optional=None):
    ref = {"name": name, "key": key}
    if optional is not None:
        ref["optional"] = optional
    return {"name": var, "valueFrom": {"secretKeyRef": ref}}


@pytest.mark.parametrize(("text", "millicores"), [("500m", 500), ("1", 1000), ("0.25", 250), (2, 2000), ("", 0), (None, 0)])
def test_parse_cpu(text, millicores):
    assert wl.parse_cpu(text) == millicores


@pytest.mark.parametrize(("text", "size"), [("1Gi", GIB), ("1.5Gi", 3 * GIB // 2), ("512Mi", 512 * 1024 ** 2),
                                            ("1G", 10 ** 9), ("1536Mi", 1536 * 1024 ** 2), ("100", 100)])
def test_parse_memory(text, size):
    assert wl.parse_memory(text) == size


def test_bad_quantities_are_refused():
    with pytest.raises(ValueError):
        wl.parse_cpu("lots")
    with pytest.raises(ValueError):
        wl.parse_memory("1Gb")


def test_doks_sizes():
    vcpus, mem_gb, cpu_m, mem_b = wl.doks_node_size("s-4vcpu-8gb")
    assert (vcpus, mem_gb, cpu_m, mem_b) == (4, 8, 3900, 6 * GIB)
    assert wl.doks_node_size("s-2vcpu-4gb")[3] == int(2.5 * GIB)
    assert wl.doks_node_size("s-8vcpu-16gb")[2:] == (7900, 13 * GIB)
    assert wl.doks_node_size("not-a-size") is None


def test_pod_requests_take_the_larger_of_containers_and_init_containers():
    pod = deployment("api", cpu="200m", memory="256Mi",
                     init=[{"name": "migrate", "resources": {"requests": {"cpu": "1", "memory": "128Mi"}}}])
    assert wl.pod_requests(pod["spec"]["template"]["spec"]) == (1000, 256 * 1024 ** 2)


def test_config_refs_cover_env_envfrom_volumes_projected_and_pull_secrets():
    docs = [deployment("api", env=[secret_env("DATABASE_URL", "echo-backend-secrets", "DATABASE_URL"),
                                   secret_env("MOLLIE_API_KEY", "echo-backend-secrets", "MOLLIE_API_KEY", optional=True),
                                   {"name": "X", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "x"}}}],
                       volumes=[{"name": "s", "secret": {"secretName": "monitoring-secrets",
                                                         "items": [{"key": "slack-webhook-url", "path": "url"}]}},
                                {"name": "c", "configMap": {"name": "whole"}},
                                {"name": "p", "projected": {"sources": [{"secret": {"name": "proj"}}]}}])]
    docs[0]["spec"]["template"]["spec"]["containers"][0]["envFrom"] = [{"secretRef": {"name": "extra"}}]
    refs = {(r["kind"], r["name"], r["key"], r["optional"]) for r in wl.config_refs(docs)}
    assert refs == {
        ("Secret", "do-registry-secret", ".dockerconfigjson", False),
        ("Secret", "echo-backend-secrets", "DATABASE_URL", False),
        ("Secret", "echo-backend-secrets", "MOLLIE_API_KEY", True),
        ("ConfigMap", "cfg", "x", False),
        ("Secret", "monitoring-secrets", "slack-webhook-url", False),
        ("ConfigMap", "whole", None, False),
        ("Secret", "proj", None, False),
        ("Secret", "extra", None, False),
    }


def test_missing_refs_names_each_key_once_with_every_user_and_skips_optional_and_allowed():
    docs = [deployment(name, env=[secret_env("ASSEMBLYAI_API_KEY", "echo-backend-secrets", "ASSEMBLYAI_API_KEY"),
                                  secret_env("DATABASE_URL", "echo-backend-secrets", "DATABASE_URL"),
                                  secret_env("SENDGRID_API_KEY", "echo-backend-secrets", "SENDGRID_API_KEY", True)])
            for name in ("echo-api", "echo-worker")]
    available = {("Secret", "echo-prod", "echo-backend-secrets"): {"DATABASE_URL"},
                 ("Secret", "echo-prod", "do-registry-secret"): {".dockerconfigjson"}}
    missing = wl.missing_refs(wl.config_refs(docs), available)
    assert [(m["name"], m["key"]) for m in missing] == [("echo-backend-secrets", "ASSEMBLYAI_API_KEY")]
    assert len(missing[0]["used_by"]) == 2
    assert "Deployment echo-prod/echo-worker container echo-worker env ASSEMBLYAI_API_KEY" in missing[0]["used_by"]
    assert wl.missing_refs(wl.config_refs(docs), available, allow=["ASSEMBLYAI_API_KEY"]) == []
    assert wl.missing_refs(wl.config_refs(docs), available, allow=["echo-prod/echo-backend-secrets:ASSEMBLYAI_API_KEY"]) == []


def test_a_missing_object_is_reported_without_a_key():
    docs = [deployment("echo-api", env=[secret_env("DATABASE_URL", "echo-backend-secrets", "DATABASE_URL")])]
    missing = wl.missing_refs(wl.config_refs(docs), {})
    assert {(m["name"], m["key"]) for m in missing} == {("echo-backend-secrets", None), ("do-registry-secret", None)}


def pool(count, size="s-4vcpu-8gb", **extra):
    return dict({"name": "default-pool", "size": size, "count": count}, **extra)


def test_capacity_fits_and_reports_totals():
    docs = [deployment("echo-api", replicas=2, cpu="500m", memory="1Gi"), daemonset("node-exporter")]
    plan = wl.plan_capacity(docs, [pool(2)])
    assert plan["fits"] is True
    assert plan["requested"] == {"cpu_m": 2 * 500 + 2 * 100, "memory_bytes": 2 * GIB + 2 * 128 * 1024 ** 2}
    assert plan["allocatable"] == {"cpu_m": 7800, "memory_bytes": 12 * GIB}
    assert plan["pods"] == 4


def test_prod_shaped_requests_do_not_fit_two_nodes_and_the_shortfall_is_named():
    # reference 9.3 I10: prod's minimum requests (~10.75 vCPU) exceed the 2-node minimum
    docs = [deployment("echo-api", replicas=6, cpu="500m", memory="1536Mi"),
            deployment("echo-worker-cpu", replicas=2, cpu="1", memory="1536Mi"),
            deployment("echo-directus", replicas=2, cpu="1", memory="1Gi")]
    plan = wl.plan_capacity(docs, [pool(2)])
    assert plan["fits"] is False
    assert plan["unplaced"] and plan["shortfall"]["memory_bytes"] > 0
    needed = wl.nodes_needed(docs, pool(2))
    assert needed and needed > 2
    assert wl.plan_capacity(docs, [pool(needed)])["fits"] is True
    message = wl.capacity_message(plan, pool(2), needed)
    assert "do not fit, short by" in message and "needs at least %d node(s)" % needed in message


def test_a_pod_larger_than_any_node_never_fits():
    docs = [deployment("huge", cpu="8", memory="1Gi")]
    assert wl.nodes_needed(docs, pool(1), limit=5) is None
    assert wl.plan_capacity(docs, [pool(5)])["unplaced"][0]["workload"] == "Deployment echo-prod/huge"


def test_daemonsets_land_on_every_node_they_tolerate_and_taints_keep_others_off():
    tainted = pool(2, taints=[{"key": "dedicated", "value": "monitoring", "effect": "NoSchedule"}])
    plain = wl.plan_capacity([daemonset("promtail")], [tainted])
    assert plain["pods"] == 0
    tolerant = wl.plan_capacity([daemonset("promtail", tolerations=[{"operator": "Exists"}])], [tainted])
    assert tolerant["pods"] == 2
    app = wl.plan_capacity([deployment("echo-api")], [tainted])
    assert app["fits"] is False


def test_jobs_and_cronjobs_are_not_counted_for_capacity_but_are_checked_for_refs():
    cron = {"kind": "CronJob", "metadata": {"name": "digest", "namespace": "monitoring"},
            "spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [
                {"name": "d", "image": "python:3", "resources": {"requests": {"cpu": "8"}},
                 "volumeMounts": []}], "volumes": [{"name": "s", "secret": {"secretName": "monitoring-secrets"}}]}}}}}}
    assert wl.plan_capacity([cron], [pool(1)])["fits"] is True
    assert [(r["kind"], r["name"]) for r in wl.config_refs([cron])] == [("Secret", "monitoring-secrets")]


def test_unknown_node_sizes_never_fit():
    plan = wl.plan_capacity([deployment("a")], [pool(2, size="x-weird")])
    assert plan["fits"] is False and plan["unknown_sizes"] == ["x-weird"]


def test_images_lists_every_container_image():
    docs = [deployment("a"), daemonset("b")]
    assert wl.images(docs) == ["prom/node-exporter:v1", "registry.digitalocean.com/dbr-cr/dbr-echo-server:v1"]


def test_objects_the_render_creates_itself_count_as_present():
    docs = [deployment("prometheus", namespace="monitoring", pull=(),
                       volumes=[{"name": "config", "configMap": {"name": "prometheus-config"}}]),
            {"kind": "ConfigMap", "metadata": {"name": "prometheus-config", "namespace": "monitoring"},
             "data": {"prometheus.yml": "..."}}]
    available = wl.rendered_keys(docs)
    assert available == {("ConfigMap", "monitoring", "prometheus-config"): {"prometheus.yml"}}
    assert wl.missing_refs(wl.config_refs(docs), available) == []


def test_pods_selecting_the_well_known_node_labels_fit():
    docs = [deployment("argocd-server", cpu="", memory="", pull=(), nodeSelector={"kubernetes.io/os": "linux"})]
    assert wl.plan_capacity(docs, [pool(1)])["fits"] is True
    picky = [deployment("gpu", pull=(), nodeSelector={"gpu": "yes"})]
    assert wl.plan_capacity(picky, [pool(1)])["fits"] is False
