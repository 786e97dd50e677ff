"""What a DigitalOcean Kubernetes (DOKS) worker node looks like to the Kubernetes API, as pure functions.

No I/O here: `desired_node(cluster, pool, node)` turns one node of the DigitalOcean API's
`GET /v2/kubernetes/clusters` answer into the Node object DOKS would register for it, and
`node_changes(live, desired)` says what must change on a live Node. Unit-tested in
tests/standins/test_do_nodes.py.

Size slugs: vCPUs, memory and disk of each Droplet size a node pool may use (DigitalOcean's published
Droplet plans). The collection keeps its own copy for its capacity check; a test compares the two.

Allocatable memory: DOKS reserves part of each worker's memory for the kubelet, the container runtime
and the system; DigitalOcean documents the resulting allocatable memory per node memory size in the
"Allocatable memory" table of https://docs.digitalocean.com/products/kubernetes/details/limits/
(the excerpt the team's search tool returned for that page stops before the table, so the figures below
are that table as we know it and must be re-checked against the page when it is reachable). CPU is not
reduced in that table, so allocatable CPU is the vCPU count. Pods per node: 110, the kubelet default
DOKS keeps.
"""

import hashlib
import ipaddress
import re

# slug: (vCPUs, memory MiB, disk GiB)
SIZES = {
    # Basic (shared CPU)
    "s-1vcpu-2gb": (1, 2048, 50),
    "s-2vcpu-2gb": (2, 2048, 60),
    "s-2vcpu-4gb": (2, 4096, 80),
    "s-4vcpu-8gb": (4, 8192, 160),
    "s-8vcpu-16gb": (8, 16384, 320),
    # Basic premium Intel / AMD
    "s-1vcpu-2gb-intel": (1, 2048, 70),
    "s-2vcpu-4gb-intel": (2, 4096, 120),
    "s-4vcpu-8gb-intel": (4, 8192, 240),
    "s-8vcpu-16gb-intel": (8, 16384, 480),
    "s-1vcpu-2gb-amd": (1, 2048, 50),
    "s-2vcpu-4gb-amd": (2, 4096, 80),
    "s-4vcpu-8gb-amd": (4, 8192, 160),
    "s-8vcpu-16gb-amd": (8, 16384, 320),
    # General purpose (dedicated CPU)
    "g-2vcpu-8gb": (2, 8192, 25),
    "g-4vcpu-16gb": (4, 16384, 50),
    "g-8vcpu-32gb": (8, 32768, 100),
    "g-16vcpu-64gb": (16, 65536, 200),
    # CPU-optimized
    "c-2": (2, 4096, 25),
    "c-4": (4, 8192, 50),
    "c-8": (8, 16384, 100),
    "c-16": (16, 32768, 200),
    # Memory-optimized
    "m-2vcpu-16gb": (2, 16384, 50),
    "m-4vcpu-32gb": (4, 32768, 100),
    "m-8vcpu-64gb": (8, 65536, 200),
}

# node memory (MiB) -> allocatable memory (MiB), DigitalOcean's "Allocatable memory" table (see above)
ALLOCATABLE_MEMORY_MIB = {
    2048: 1024,     # 2 GB node: 1 GB allocatable
    4096: 2560,     # 4 GB: 2.5 GB
    8192: 6144,     # 8 GB: 6 GB
    16384: 13312,   # 16 GB: 13 GB
    32768: 28672,   # 32 GB: 28 GB
    65536: 59392,   # 64 GB: 58 GB
}

MAX_PODS = 110
ARCH = "amd64"
OS = "linux"
OS_IMAGE = "Debian GNU/Linux 12 (bookworm)"

# our bookkeeping on each Node we manage (annotations, so no workload can select on them)
ANNOTATION_CLUSTER = "rehearsal.echo-platform.io/do-cluster-id"
ANNOTATION_POOL_LABELS = "rehearsal.echo-platform.io/pool-label-keys"
ANNOTATION_POOL_TAINTS = "rehearsal.echo-platform.io/pool-taint-keys"
KWOK_ANNOTATION = "kwok.x-k8s.io/node"

# InternalIP of a node: a stable address derived from its id in a range nothing else on the machine uses
NODE_NETWORK = ipaddress.ip_network("10.233.0.0/16")

_VERSION = re.compile(r"^(\d+)\.(\d+)\.(\d+)")


# public address DOKS's cloud controller gives a Service of type LoadBalancer (the DO load balancer's
# IP); a documentation range (TEST-NET-2), stable per Service uid
LB_NETWORK = ipaddress.ip_network("198.51.100.0/24")


class UnknownSize(ValueError):
    """A node pool uses a size slug that is not in SIZES."""


def capacity(slug):
    """Capacity and allocatable resources of one node of size `slug` (Kubernetes quantities)."""
    if slug not in SIZES:
        raise UnknownSize("unknown Droplet size slug %r: add it to SIZES in testenv/do_nodes/doks.py" % (slug,))
    vcpus, mem_mib, disk_gib = SIZES[slug]
    if mem_mib not in ALLOCATABLE_MEMORY_MIB:
        raise UnknownSize("no allocatable-memory figure for %d MiB nodes (size %s)" % (mem_mib, slug))
    cap = {"cpu": str(vcpus), "memory": "%dMi" % mem_mib, "ephemeral-storage": "%dGi" % disk_gib,
           "pods": str(MAX_PODS)}
    alloc = dict(cap, memory="%dMi" % ALLOCATABLE_MEMORY_MIB[mem_mib])
    return cap, alloc


def kubelet_version(doks_version):
    """'1.34.1-do.0' -> 'v1.34.1' (what the kubelet of that DOKS release reports)."""
    match = _VERSION.match(doks_version or "")
    return "v%s.%s.%s" % match.groups() if match else "v0.0.0"


def node_ip(node_id):
    """Stable InternalIP for a node id (DOKS gives each node a VPC address; the emulator has none)."""
    digest = int(hashlib.sha256(node_id.encode()).hexdigest(), 16)
    hosts = NODE_NETWORK.num_addresses - 2
    return str(NODE_NETWORK.network_address + 1 + digest % hosts)


def load_balancer_ip(uid):
    """Stable public address for the load balancer of a Service (by uid)."""
    digest = int(hashlib.sha256(uid.encode()).hexdigest(), 16)
    return str(LB_NETWORK.network_address + 1 + digest % (LB_NETWORK.num_addresses - 2))


def load_balancer_pending(service):
    """True for a Service of type LoadBalancer that has no load balancer address yet."""
    spec, status = service.get("spec") or {}, service.get("status") or {}
    if spec.get("type") != "LoadBalancer" or spec.get("loadBalancerClass"):
        return False
    return not ((status.get("loadBalancer") or {}).get("ingress"))


def node_labels(cluster, pool, node):
    """The labels DOKS puts on a worker, then the pool's own labels (which cannot override DOKS's)."""
    name, slug, region = node["name"], pool["size"], cluster["region"]
    labels = dict(pool.get("labels") or {})
    labels.update({
        "doks.digitalocean.com/node-id": node["id"],
        "doks.digitalocean.com/node-pool": pool["name"],
        "doks.digitalocean.com/node-pool-id": pool["id"],
        "doks.digitalocean.com/version": cluster["version"],
        "node.kubernetes.io/instance-type": slug,
        "beta.kubernetes.io/instance-type": slug,
        "topology.kubernetes.io/region": region,
        "failure-domain.beta.kubernetes.io/region": region,
        "region": region,
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": OS,
        "kubernetes.io/arch": ARCH,
        "beta.kubernetes.io/os": OS,
        "beta.kubernetes.io/arch": ARCH,
    })
    return labels


def node_taints(pool):
    """The pool's taints as Kubernetes taints (DOKS applies them to every node of the pool)."""
    out = []
    for taint in pool.get("taints") or []:
        entry = {"key": taint["key"], "effect": taint["effect"]}
        if taint.get("value"):
            entry["value"] = taint["value"]
        out.append(entry)
    return out


def node_running(node):
    """DOKS registers a Node once the droplet is up: the API's node state `running`."""
    return ((node.get("status") or {}).get("state")) == "running"


def desired_node(cluster, pool, node):
    """The Node object (metadata, spec, status) DOKS would register for `node` of `pool` in `cluster`."""
    cap, alloc = capacity(pool["size"])
    pool_labels = sorted((pool.get("labels") or {}).keys())
    taints = node_taints(pool)
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": node["name"],
            "labels": node_labels(cluster, pool, node),
            "annotations": {
                KWOK_ANNOTATION: "fake",
                ANNOTATION_CLUSTER: cluster["id"],
                ANNOTATION_POOL_LABELS: ",".join(pool_labels),
                ANNOTATION_POOL_TAINTS: ",".join(sorted({t["key"] for t in taints})),
                "node.alpha.kubernetes.io/ttl": "0",
            },
        },
        "spec": {
            "providerID": "digitalocean://%s" % node.get("droplet_id", ""),
            "taints": taints,
        },
        "status": {
            "capacity": cap,
            "allocatable": alloc,
            "addresses": [{"type": "InternalIP", "address": node_ip(node["id"])},
                          {"type": "Hostname", "address": node["name"]}],
            "nodeInfo": {
                "architecture": ARCH, "operatingSystem": OS, "osImage": OS_IMAGE,
                "kubeletVersion": kubelet_version(cluster["version"]),
                "kubeProxyVersion": kubelet_version(cluster["version"]),
                "containerRuntimeVersion": "containerd://1.7.27", "kernelVersion": "6.1.0-rehearsal",
                "machineID": "", "systemUUID": node["id"], "bootID": "",
            },
        },
    }


def desired_nodes(clusters):
    """name -> desired Node for every running node of every emulated cluster; plus problems (text)."""
    nodes, problems = {}, []
    for cluster in clusters:
        for pool in cluster.get("node_pools") or []:
            for node in pool.get("nodes") or []:
                if not node_running(node):
                    continue
                try:
                    nodes[node["name"]] = desired_node(cluster, pool, node)
                except UnknownSize as exc:
                    problems.append("cluster %s pool %s: %s" % (cluster.get("name"), pool.get("name"), exc))
    return nodes, problems


def _keys(csv):
    return {k for k in (csv or "").split(",") if k}


def node_changes(live, desired):
    """A merge patch for the live Node's metadata/spec (None if nothing differs) and one for its status.

    Labels: DOKS's and the pool's are set; pool labels we set earlier and the pool no longer has are
    removed; any other label (someone else's) is left alone. Taints: the pool's replace the pool's
    taints we set earlier; other taints (cordon, node lifecycle) stay.
    """
    meta, spec = live.get("metadata") or {}, live.get("spec") or {}
    live_labels = meta.get("labels") or {}
    live_ann = meta.get("annotations") or {}
    want_labels = desired["metadata"]["labels"]
    want_ann = desired["metadata"]["annotations"]

    label_patch = {k: v for k, v in want_labels.items() if live_labels.get(k) != v}
    for key in _keys(live_ann.get(ANNOTATION_POOL_LABELS)) - set(want_labels):
        if key in live_labels:
            label_patch[key] = None
    ann_patch = {k: v for k, v in want_ann.items() if live_ann.get(k) != v}

    ours_before = _keys(live_ann.get(ANNOTATION_POOL_TAINTS)) | _keys(want_ann[ANNOTATION_POOL_TAINTS])
    kept = [t for t in spec.get("taints") or [] if t.get("key") not in ours_before]
    want_taints = kept + desired["spec"]["taints"]

    def taint_set(taints):
        return sorted((t.get("key"), t.get("value") or "", t.get("effect")) for t in taints)

    patch = {}
    if label_patch or ann_patch:
        patch["metadata"] = {}
        if label_patch:
            patch["metadata"]["labels"] = label_patch
        if ann_patch:
            patch["metadata"]["annotations"] = ann_patch
    if taint_set(spec.get("taints") or []) != taint_set(want_taints):
        patch["spec"] = {"taints": want_taints}

    status = live.get("status") or {}
    want = desired["status"]
    status_patch = {k: want[k] for k in ("capacity", "allocatable", "nodeInfo") if _differs(status.get(k), want[k])}
    if not status.get("addresses"):
        status_patch["addresses"] = want["addresses"]
    return (patch or None), ({"status": status_patch} if status_patch else None)


_UNITS = {"": 1, "Ki": 2 ** 10, "Mi": 2 ** 20, "Gi": 2 ** 30, "Ti": 2 ** 40, "k": 10 ** 3, "M": 10 ** 6,
          "G": 10 ** 9, "m": 0.001}
_QUANTITY = re.compile(r"^([0-9.]+)(Ki|Mi|Gi|Ti|k|M|G|m)?$")


def quantity(value):
    """A Kubernetes quantity as a number ('8Gi' == '8192Mi'); other values unchanged."""
    match = _QUANTITY.match(str(value))
    if not match:
        return value
    return float(match.group(1)) * _UNITS[match.group(2) or ""]


def _differs(live, want):
    """True if a live status map lacks or disagrees with a wanted key (extra live keys are fine);
    quantities compare by value, since the API server rewrites them canonically (8192Mi -> 8Gi)."""
    live = live or {}
    return any(quantity(live.get(k)) != quantity(v) for k, v in want.items())
