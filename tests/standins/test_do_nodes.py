"""Pure logic of testenv/do_nodes/doks.py: what Node DOKS registers for an emulated node, and what the sync
changes on a live Node (labels, taints, capacity; nothing it does not own)."""

import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "testenv" / "do_nodes"))
import doks  # noqa: E402  pylint: disable=wrong-import-position

CLUSTER = {"id": "c-1", "name": "echo-local", "region": "ams3", "version": "1.34.1-do.0"}
POOL = {"id": "p-1", "name": "default-pool", "size": "s-4vcpu-8gb", "labels": {"workload": "echo"},
        "taints": [{"key": "dedicated", "value": "echo", "effect": "NoSchedule"}]}
NODE = {"id": "n-1", "name": "default-pool-abcde", "droplet_id": "12345678", "status": {"state": "running"}}


def test_node_is_named_and_labelled_as_doks_does():
    node = doks.desired_node(CLUSTER, POOL, NODE)
    assert node["metadata"]["name"] == "default-pool-abcde"
    labels = node["metadata"]["labels"]
    assert labels["doks.digitalocean.com/node-id"] == "n-1"
    assert labels["doks.digitalocean.com/node-pool"] == "default-pool"
    assert labels["doks.digitalocean.com/node-pool-id"] == "p-1"
    assert labels["doks.digitalocean.com/version"] == "1.34.1-do.0"
    assert labels["node.kubernetes.io/instance-type"] == "s-4vcpu-8gb"
    assert labels["topology.kubernetes.io/region"] == "ams3"
    assert labels["kubernetes.io/hostname"] == "default-pool-abcde"
    assert labels["kubernetes.io/os"] == "linux" and labels["kubernetes.io/arch"] == "amd64"
    assert labels["workload"] == "echo"
    assert node["metadata"]["annotations"]["kwok.x-k8s.io/node"] == "fake"
    assert node["spec"]["taints"] == [{"key": "dedicated", "value": "echo", "effect": "NoSchedule"}]
    assert node["spec"]["providerID"] == "digitalocean://12345678"
    assert node["status"]["nodeInfo"]["kubeletVersion"] == "v1.34.1"


def test_pool_labels_cannot_override_doks_labels():
    pool = dict(POOL, labels={"doks.digitalocean.com/node-pool": "forged"})
    assert doks.desired_node(CLUSTER, pool, NODE)["metadata"]["labels"]["doks.digitalocean.com/node-pool"] == "default-pool"


@pytest.mark.parametrize("slug,cpu,mem,alloc", [
    ("s-1vcpu-2gb", "1", 2048, 1024),
    ("s-2vcpu-4gb", "2", 4096, 2560),
    ("s-4vcpu-8gb", "4", 8192, 6144),
    ("g-4vcpu-16gb", "4", 16384, 13312),
    ("c-16", "16", 32768, 28672),
])
def test_capacity_and_allocatable_follow_the_size_slug(slug, cpu, mem, alloc):
    cap, allocatable = doks.capacity(slug)
    assert cap["cpu"] == cpu == allocatable["cpu"]
    assert doks.quantity(cap["memory"]) == mem * 2 ** 20
    assert doks.quantity(allocatable["memory"]) == alloc * 2 ** 20
    assert doks.quantity(allocatable["memory"]) < doks.quantity(cap["memory"])
    assert cap["pods"] == "110"


def test_every_slug_has_an_allocatable_figure():
    for slug in doks.SIZES:
        doks.capacity(slug)


def test_unknown_slug_is_reported_not_guessed():
    with pytest.raises(doks.UnknownSize, match="s-99vcpu-1tb"):
        doks.capacity("s-99vcpu-1tb")
    pool = dict(POOL, size="s-99vcpu-1tb")
    nodes, problems = doks.desired_nodes([dict(CLUSTER, node_pools=[pool, dict(POOL, id="p-2", nodes=[])])])
    assert nodes == {}
    assert problems == []  # no nodes in that pool: nothing to report
    nodes, problems = doks.desired_nodes([dict(CLUSTER, node_pools=[dict(pool, nodes=[NODE])])])
    assert nodes == {} and len(problems) == 1 and "s-99vcpu-1tb" in problems[0]


def test_only_running_nodes_are_registered():
    provisioning = dict(NODE, id="n-2", name="default-pool-fghij", status={"state": "provisioning"})
    nodes, _ = doks.desired_nodes([dict(CLUSTER, node_pools=[dict(POOL, nodes=[NODE, provisioning])])])
    assert sorted(nodes) == ["default-pool-abcde"]


def test_node_ip_is_stable_and_in_the_node_network():
    assert doks.node_ip("n-1") == doks.node_ip("n-1")
    assert doks.node_ip("n-1") != doks.node_ip("n-2")
    assert doks.node_ip("n-1").startswith("10.233.")


def live_copy(node):
    live = {"metadata": {"name": node["metadata"]["name"], "labels": dict(node["metadata"]["labels"]),
                         "annotations": dict(node["metadata"]["annotations"])},
            "spec": {"taints": list(node["spec"]["taints"])},
            "status": {"capacity": {"cpu": "4", "memory": "8Gi", "ephemeral-storage": "160Gi", "pods": "110"},
                       "allocatable": {"cpu": "4", "memory": "6Gi", "ephemeral-storage": "160Gi", "pods": "110"},
                       "addresses": node["status"]["addresses"], "nodeInfo": dict(node["status"]["nodeInfo"]),
                       "conditions": [{"type": "Ready", "status": "True"}]}}
    return live


def test_no_change_when_the_live_node_matches_canonical_quantities_included():
    desired = doks.desired_node(CLUSTER, POOL, NODE)
    assert doks.node_changes(live_copy(desired), desired) == (None, None)


def test_pool_label_and_taint_changes_are_applied_others_kept():
    before = doks.desired_node(CLUSTER, POOL, NODE)
    live = live_copy(before)
    live["metadata"]["labels"]["team.example/owner"] = "someone-else"
    live["spec"]["taints"].append({"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"})
    pool = dict(POOL, labels={"tier": "backend"}, taints=[{"key": "gpu", "value": "", "effect": "NoExecute"}])
    after = doks.desired_node(CLUSTER, pool, NODE)
    patch, status_patch = doks.node_changes(live, after)
    assert status_patch is None
    assert patch["metadata"]["labels"] == {"tier": "backend", "workload": None}
    taints = patch["spec"]["taints"]
    assert {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"} in taints
    assert {"key": "gpu", "effect": "NoExecute"} in taints
    assert all(t["key"] != "dedicated" for t in taints)
    assert "team.example/owner" not in patch["metadata"]["labels"]


def test_capacity_follows_a_size_change():
    desired = doks.desired_node(CLUSTER, POOL, NODE)
    live = live_copy(desired)
    bigger = doks.desired_node(CLUSTER, dict(POOL, size="s-8vcpu-16gb"), NODE)
    _, status_patch = doks.node_changes(live, bigger)
    assert status_patch["status"]["capacity"]["cpu"] == "8"
    assert doks.quantity(status_patch["status"]["allocatable"]["memory"]) == 13312 * 2 ** 20


def test_load_balancer_address_only_for_pending_load_balancer_services():
    pending = {"metadata": {"uid": "u-1"}, "spec": {"type": "LoadBalancer"}, "status": {}}
    assert doks.load_balancer_pending(pending)
    assert not doks.load_balancer_pending(dict(pending, spec={"type": "ClusterIP"}))
    assert not doks.load_balancer_pending(dict(pending, status={"loadBalancer": {"ingress": [{"ip": "198.51.100.9"}]}}))
    assert not doks.load_balancer_pending(dict(pending, spec={"type": "LoadBalancer", "loadBalancerClass": "other"}))
    assert doks.load_balancer_ip("u-1") == doks.load_balancer_ip("u-1")
    assert doks.load_balancer_ip("u-1").startswith("198.51.100.")
