"""Pods run on the rehearsal: Nodes come from the emulated DOKS node pools, the scheduler binds pods to them,
kwok makes them Running/Ready, and the workload controllers do the rest.

Needs `testenv/bin/testenv up`. Each test module makes its own cluster through the DigitalOcean emulator's
public API (as the collection's provisioning does) and deletes it again; Nodes follow the pools.
"""

import json
import os
import subprocess
import time
import urllib.request
import uuid

import pytest
import yaml

from _testenv import REPO, read_env

DO_TOKEN = "rehearsal-do-token"


def tool(name):
    path = REPO / ".venv" / "bin" / name
    if path.exists():
        return str(path)
    return name


class Rehearsal:
    """Connection facts plus small helpers for the DO emulator and kubectl."""

    def __init__(self, facts):
        self.facts = facts
        self.do_url = facts["DO_API_URL"]
        self.kubeconfig = facts["KUBECONFIG"]

    def do(self, method, path, body=None):
        req = urllib.request.Request(self.do_url + path, method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Authorization": "Bearer " + DO_TOKEN,
                                              "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=20) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else None

    def kubectl(self, *args, stdin=None, check=True):
        out = subprocess.run([tool("kubectl"), "--kubeconfig", self.kubeconfig, *args], input=stdin,
                             capture_output=True, text=True, timeout=120, check=False)
        if check:
            assert out.returncode == 0, "kubectl %s: %s" % (" ".join(args), out.stderr)
        return out

    def get(self, *args):
        return json.loads(self.kubectl("get", "-o", "json", *args).stdout)

    def apply(self, docs):
        self.kubectl("apply", "-f", "-", stdin=yaml.safe_dump_all(docs))

    def nodes(self, selector):
        return self.get("nodes", "-l", selector)["items"]

    def create_cluster(self, name, pools):
        body = {"name": name, "region": "ams3", "version": "1.34.1-do.0", "node_pools": pools}
        return self.do("POST", "/v2/kubernetes/clusters", body)["kubernetes_cluster"]

    def delete_cluster(self, cid):
        self.do("DELETE", "/v2/kubernetes/clusters/%s" % cid)


def wait_for(what, predicate, timeout=90, interval=0.5):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    pytest.fail("timed out after %ss waiting for %s (last: %r)" % (timeout, what, last))


def ready(node):
    return any(c["type"] == "Ready" and c["status"] == "True" for c in node.get("status", {}).get("conditions", []))


def pool_nodes_ready(rh, pool_name, count):
    nodes = rh.nodes("doks.digitalocean.com/node-pool=%s" % pool_name)
    return nodes if len(nodes) == count and all(ready(n) for n in nodes) else None


@pytest.fixture(scope="module")
def rh():
    facts = read_env()
    for key in ("KUBECONFIG", "DO_API_URL", "TESTENV_DO_NODES_SOURCE", "TESTENV_KWOK_VERSION"):
        if key not in facts:
            pytest.fail("the rehearsal environment is not up (no %s in env.d); run `testenv/bin/testenv up`" % key)
    return Rehearsal(facts)


@pytest.fixture(scope="module")
def cluster(rh):
    suffix = uuid.uuid4().hex[:6]
    pool = "e2e-%s" % suffix
    made = rh.create_cluster("e2e-workloads-%s" % suffix, [
        {"name": pool, "size": "s-2vcpu-4gb", "count": 2, "labels": {"e2e": suffix}}])
    try:
        nodes = wait_for("2 Ready nodes of pool %s" % pool, lambda: pool_nodes_ready(rh, pool, 2))
        yield {"id": made["id"], "pool": pool, "pool_id": made["node_pools"][0]["id"], "suffix": suffix,
               "nodes": nodes}
    finally:
        rh.delete_cluster(made["id"])
    wait_for("the nodes of pool %s to go with the cluster" % pool, lambda: not rh.nodes("doks.digitalocean.com/node-pool=%s" % pool))


@pytest.fixture(scope="module")
def namespace(rh, cluster):
    name = "e2e-workloads-%s" % cluster["suffix"]
    rh.kubectl("create", "namespace", name)
    wait_for("default service account", lambda: rh.kubectl("-n", name, "get", "sa", "default", check=False).returncode == 0)
    yield name
    rh.kubectl("delete", "namespace", name, "--wait=false", check=False)


def test_nodes_carry_doks_names_labels_and_capacity(rh, cluster):
    api = rh.do("GET", "/v2/kubernetes/clusters/%s" % cluster["id"])["kubernetes_cluster"]
    api_nodes = {n["name"]: n for n in api["node_pools"][0]["nodes"]}
    nodes = {n["metadata"]["name"]: n for n in cluster["nodes"]}
    assert sorted(nodes) == sorted(api_nodes)
    for name, node in nodes.items():
        labels = node["metadata"]["labels"]
        assert labels["doks.digitalocean.com/node-id"] == api_nodes[name]["id"]
        assert labels["doks.digitalocean.com/node-pool"] == cluster["pool"]
        assert labels["doks.digitalocean.com/node-pool-id"] == cluster["pool_id"]
        assert labels["doks.digitalocean.com/version"] == "1.34.1-do.0"
        assert labels["node.kubernetes.io/instance-type"] == "s-2vcpu-4gb"
        assert labels["topology.kubernetes.io/region"] == "ams3"
        assert labels["kubernetes.io/hostname"] == name
        assert labels["e2e"] == cluster["suffix"]
        status = node["status"]
        assert status["capacity"]["cpu"] == "2"
        assert status["capacity"]["memory"] == "4Gi"
        assert status["allocatable"]["memory"] == "2560Mi"
        assert node["metadata"]["annotations"]["kwok.x-k8s.io/node"] == "fake"


def test_nodes_follow_pool_resize_taints_and_pool_deletion(rh, cluster):
    path = "/v2/kubernetes/clusters/%s/node_pools" % cluster["id"]
    pool = cluster["pool"]
    rh.do("PUT", "%s/%s" % (path, cluster["pool_id"]), {"name": pool, "count": 3, "labels": {"e2e": cluster["suffix"]}})
    wait_for("3 nodes after the resize", lambda: pool_nodes_ready(rh, pool, 3))
    rh.do("PUT", "%s/%s" % (path, cluster["pool_id"]), {"name": pool, "count": 2, "labels": {"e2e": cluster["suffix"]}})
    wait_for("2 nodes after shrinking", lambda: pool_nodes_ready(rh, pool, 2))

    extra = "%s-t" % pool
    added = rh.do("POST", path, {"name": extra, "size": "s-1vcpu-2gb", "count": 1,
                                 "taints": [{"key": "dedicated", "value": "e2e", "effect": "NoSchedule"}]})["node_pool"]
    nodes = wait_for("the tainted pool's node", lambda: pool_nodes_ready(rh, extra, 1))
    assert {"key": "dedicated", "value": "e2e", "effect": "NoSchedule"} in nodes[0]["spec"]["taints"]
    assert nodes[0]["status"]["allocatable"]["memory"] == "1Gi"
    rh.do("DELETE", "%s/%s" % (path, added["id"]))
    wait_for("the deleted pool's node to go", lambda: not rh.nodes("doks.digitalocean.com/node-pool=%s" % extra))


def on_pool(cluster):
    return {"doks.digitalocean.com/node-pool": cluster["pool"]}


def container(requests=None):
    return {"name": "app", "image": "registry.invalid/e2e:1",
            "resources": {"requests": requests or {"cpu": "50m", "memory": "32Mi"}}}


def test_deployment_becomes_available_on_pool_nodes(rh, cluster, namespace):
    labels = {"app": "web"}
    rh.apply([{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": namespace},
               "spec": {"replicas": 3, "selector": {"matchLabels": labels},
                        "template": {"metadata": {"labels": labels},
                                     "spec": {"nodeSelector": on_pool(cluster), "containers": [container()]}}}}])
    rh.kubectl("-n", namespace, "rollout", "status", "deployment/web", "--timeout=90s")
    dep = rh.get("-n", namespace, "deployment", "web")
    assert dep["status"]["availableReplicas"] == 3
    pods = rh.get("-n", namespace, "pods", "-l", "app=web")["items"]
    names = {n["metadata"]["name"] for n in cluster["nodes"]}
    assert all(p["spec"]["nodeName"] in names and p["status"]["phase"] == "Running" and p["status"].get("podIP")
               for p in pods), pods

    # a PodDisruptionBudget over those pods: 3 healthy, at least 2 must stay -> 1 may go
    rh.apply([{"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "web", "namespace": namespace},
               "spec": {"minAvailable": 2, "selector": {"matchLabels": labels}}}])
    pdb = wait_for("the PDB's status", lambda: (lambda p: p if p.get("status", {}).get("currentHealthy") == 3 else None)(
        rh.get("-n", namespace, "pdb", "web")))
    assert pdb["status"]["disruptionsAllowed"] == 1
    assert pdb["status"]["expectedPods"] == 3

    # the Service of the Deployment follows its pods
    rh.apply([{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": namespace},
               "spec": {"selector": labels, "ports": [{"port": 80, "targetPort": 8080}]}}])
    ips = sorted(p["status"]["podIP"] for p in pods)
    wait_for("the Endpoints of service web", lambda: sorted(
        a["ip"] for s in rh.get("-n", namespace, "endpoints", "web").get("subsets") or [] for a in s.get("addresses") or []) == ips)


def test_daemonset_lands_on_every_pool_node(rh, cluster, namespace):
    labels = {"app": "agent"}
    rh.apply([{"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent", "namespace": namespace},
               "spec": {"selector": {"matchLabels": labels},
                        "template": {"metadata": {"labels": labels},
                                     "spec": {"nodeSelector": on_pool(cluster), "containers": [container()]}}}}])
    rh.kubectl("-n", namespace, "rollout", "status", "daemonset/agent", "--timeout=90s")
    pool_nodes = {n["metadata"]["name"] for n in rh.nodes("doks.digitalocean.com/node-pool=%s" % cluster["pool"])}
    ds = rh.get("-n", namespace, "daemonset", "agent")
    assert ds["status"]["desiredNumberScheduled"] == len(pool_nodes) == ds["status"]["numberReady"]
    pods = rh.get("-n", namespace, "pods", "-l", "app=agent")["items"]
    assert sorted(p["spec"]["nodeName"] for p in pods) == sorted(pool_nodes)


def test_job_and_cronjob_complete(rh, cluster, namespace):
    spec = {"template": {"spec": {"restartPolicy": "Never", "nodeSelector": on_pool(cluster), "containers": [container()]}}}
    rh.apply([{"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "once", "namespace": namespace}, "spec": spec},
              {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "every-minute", "namespace": namespace},
               "spec": {"schedule": "* * * * *", "jobTemplate": {"spec": spec}}}])
    rh.kubectl("-n", namespace, "wait", "--for=condition=complete", "job/once", "--timeout=90s")
    assert rh.get("-n", namespace, "job", "once")["status"]["succeeded"] == 1

    # the CronJob controller starts a Job at the next minute boundary; it must complete
    def cron_done():
        cj = rh.get("-n", namespace, "cronjob", "every-minute")
        return cj if cj.get("status", {}).get("lastSuccessfulTime") else None
    cron = wait_for("a successful run of the CronJob", cron_done, timeout=150, interval=2)
    assert cron["status"]["lastSuccessfulTime"] >= cron["status"]["lastScheduleTime"]


def test_pod_above_allocatable_stays_pending_with_failed_scheduling(rh, cluster, namespace):
    # the pool's nodes have 4Gi of memory but DOKS leaves 2.5Gi allocatable: 3Gi fits nowhere
    rh.apply([{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "too-big", "namespace": namespace},
               "spec": {"nodeSelector": on_pool(cluster), "containers": [container({"cpu": "100m", "memory": "3Gi"})]}}])

    def failed_scheduling():
        events = rh.get("-n", namespace, "events", "--field-selector", "involvedObject.name=too-big")["items"]
        return [e for e in events if e["reason"] == "FailedScheduling"]
    events = wait_for("a FailedScheduling event", failed_scheduling, timeout=60)
    assert "Insufficient memory" in events[0]["message"]
    pod = rh.get("-n", namespace, "pod", "too-big")
    assert pod["status"]["phase"] == "Pending" and not pod["spec"].get("nodeName")

    # 2Gi fits the same nodes
    rh.apply([{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "fits", "namespace": namespace},
               "spec": {"nodeSelector": on_pool(cluster), "containers": [container({"cpu": "100m", "memory": "2Gi"})]}}])
    rh.kubectl("-n", namespace, "wait", "--for=condition=Ready", "pod/fits", "--timeout=60s")


def test_a_claim_of_the_doks_storage_class_is_bound(rh, cluster, namespace):
    rh.apply([{"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data", "namespace": namespace},
               "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}])
    pvc = wait_for("the claim to be bound", lambda: (lambda c: c if c.get("status", {}).get("phase") == "Bound" else None)(
        rh.get("-n", namespace, "pvc", "data")))
    assert pvc["spec"]["storageClassName"] == "do-block-storage"
    pv = rh.get("pv", pvc["spec"]["volumeName"])
    assert pv["spec"]["claimRef"]["name"] == "data"
    assert pv["spec"]["csi"]["driver"] == "dobs.csi.digitalocean.com"
