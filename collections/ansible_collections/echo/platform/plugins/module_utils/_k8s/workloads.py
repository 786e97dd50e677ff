# -*- coding: utf-8 -*-
# Copyright: echo.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the kubelet and the scheduler would check, decided from rendered manifests (pure, no I/O).

Private to the echo.platform collection. Used by the k8s_preflight_info module before a rollout:

- ``config_refs``: every Secret/ConfigMap (and key) a pod template references (env ``secretKeyRef`` /
  ``configMapKeyRef``, ``envFrom``, volumes, projected volumes, image pull secrets), with who uses it;
- ``missing_refs``: the references the cluster cannot satisfy (a missing required key is the
  CreateContainerConfigError of reference 10.3);
- ``plan_capacity``: whether the pods (replicas x requests, DaemonSets x nodes) fit a node pool at its
  minimum size, placed first-fit-decreasing as a scheduler would, and by how much they do not.
"""

from __future__ import annotations

import math
import re

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod")
# Kinds whose pods run continuously; Jobs/CronJobs run to completion and are not counted for capacity.
LONG_RUNNING = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Pod")

_CPU_RE = re.compile(r"^([0-9]+(?:\.[0-9]+)?)(m?)$")
_MEM_RE = re.compile(r"^([0-9]+(?:\.[0-9]+)?(?:[eE][0-9]+)?)(Ki|Mi|Gi|Ti|Pi|Ei|k|K|M|G|T|P|E|m)?$")
_MEM_FACTOR = {
    None: 1, "Ki": 1024, "Mi": 1024 ** 2, "Gi": 1024 ** 3, "Ti": 1024 ** 4, "Pi": 1024 ** 5, "Ei": 1024 ** 6,
    "k": 1000, "K": 1000, "M": 1000 ** 2, "G": 1000 ** 3, "T": 1000 ** 4, "P": 1000 ** 5, "E": 1000 ** 6,
    "m": 0.001,
}
GIB = 1024 ** 3

# DigitalOcean size slugs used for DOKS node pools: vCPUs and memory (GB, as DigitalOcean names the size),
# and the memory DOKS leaves allocatable to pods on such a node (DigitalOcean's Kubernetes limits page lists
# the allocatable memory per node memory size: 2 GB -> 1 GiB, 4 GB -> 2.5 GiB, 8 GB -> 6 GiB, 16 GB -> 13 GiB,
# 32 GB -> 28 GiB, 64 GB -> 58 GiB). DOKS keeps a small CPU reservation for the kubelet and system daemons
# (100m per node is what DOKS nodes report as capacity minus allocatable); our plan uses the same.
DOKS_RESERVED_CPU_M = 100
_DOKS_ALLOCATABLE_MEM_GIB = {2: 1.0, 4: 2.5, 8: 6.0, 16: 13.0, 32: 28.0, 64: 58.0, 128: 120.0}
_SLUG_RE = re.compile(r"^(?:s|c|c2|g|gd|m|m3|so|so1_5)-([0-9]+)vcpu-([0-9]+)gb(?:-[a-z0-9-]+)?$")


def parse_cpu(value):
    """Millicores of a CPU quantity ("500m", "1", "0.5", 2); None or "" is 0."""
    if value in (None, ""):
        return 0
    text = str(value).strip()
    match = _CPU_RE.match(text)
    if not match:
        raise ValueError("not a CPU quantity: %r" % (value,))
    number, milli = float(match.group(1)), match.group(2)
    return int(math.ceil(number if milli else number * 1000))


def parse_memory(value):
    """Bytes of a memory quantity ("1.5Gi", "512Mi", "1G", 1024); None or "" is 0."""
    if value in (None, ""):
        return 0
    text = str(value).strip()
    match = _MEM_RE.match(text)
    if not match:
        raise ValueError("not a memory quantity: %r" % (value,))
    return int(math.ceil(float(match.group(1)) * _MEM_FACTOR[match.group(2)]))


def format_cpu(millicores):
    return ("%d" % (millicores // 1000)) if millicores % 1000 == 0 else ("%dm" % millicores)


def format_memory(num_bytes):
    if num_bytes % GIB == 0:
        return "%dGi" % (num_bytes // GIB)
    return "%.2fGi" % (num_bytes / float(GIB))


def doks_node_size(slug):
    """(vcpus, memory_gb, allocatable_cpu_m, allocatable_memory_bytes) of a DOKS node size slug, or None."""
    match = _SLUG_RE.match(slug or "")
    if not match:
        return None
    vcpus, mem_gb = int(match.group(1)), int(match.group(2))
    alloc_gib = _DOKS_ALLOCATABLE_MEM_GIB.get(mem_gb)
    if alloc_gib is None:
        return None
    return vcpus, mem_gb, vcpus * 1000 - DOKS_RESERVED_CPU_M, int(alloc_gib * GIB)


def _pod_spec_of(doc):
    kind = doc.get("kind")
    spec = doc.get("spec") or {}
    if kind == "Pod":
        return spec
    if kind == "CronJob":
        return (((spec.get("jobTemplate") or {}).get("spec") or {}).get("template") or {}).get("spec") or {}
    return (spec.get("template") or {}).get("spec") or {}


def workloads(docs, default_namespace="default"):
    """The pod-creating objects of rendered manifests: [{kind, namespace, name, replicas, pod_spec}]."""
    out = []
    for doc in docs or []:
        if not isinstance(doc, dict) or doc.get("kind") not in WORKLOAD_KINDS:
            continue
        meta = doc.get("metadata") or {}
        spec = doc.get("spec") or {}
        if doc["kind"] in ("Deployment", "StatefulSet", "ReplicaSet"):
            replicas = spec.get("replicas", 1)
            replicas = 1 if replicas is None else int(replicas)
        elif doc["kind"] == "Job":
            replicas = int(spec.get("parallelism", 1) or 0)
        else:
            replicas = 1
        out.append({
            "kind": doc["kind"],
            "namespace": meta.get("namespace") or default_namespace,
            "name": meta.get("name", ""),
            "replicas": replicas,
            "pod_spec": _pod_spec_of(doc),
        })
    return out


def pod_requests(pod_spec):
    """(cpu_m, memory_bytes) the scheduler reserves for one pod: max(sum of containers, largest init
    container) plus the pod overhead."""
    def req(container, name):
        return ((container.get("resources") or {}).get("requests") or {}).get(name)

    containers = pod_spec.get("containers") or []
    inits = pod_spec.get("initContainers") or []
    # restartable init containers (sidecars) run alongside the containers
    sidecars = [c for c in inits if c.get("restartPolicy") == "Always"]
    plain_inits = [c for c in inits if c.get("restartPolicy") != "Always"]
    cpu = sum(parse_cpu(req(c, "cpu")) for c in containers + sidecars)
    mem = sum(parse_memory(req(c, "memory")) for c in containers + sidecars)
    cpu = max([cpu] + [parse_cpu(req(c, "cpu")) for c in plain_inits])
    mem = max([mem] + [parse_memory(req(c, "memory")) for c in plain_inits])
    overhead = pod_spec.get("overhead") or {}
    return cpu + parse_cpu(overhead.get("cpu")), mem + parse_memory(overhead.get("memory"))


def images(docs):
    """Sorted unique container images (init containers included) of the rendered pod templates."""
    found = set()
    for wl in workloads(docs):
        spec = wl["pod_spec"]
        for c in (spec.get("initContainers") or []) + (spec.get("containers") or []):
            if c.get("image"):
                found.add(c["image"])
    return sorted(found)


def config_refs(docs, default_namespace="default"):
    """Every Secret/ConfigMap reference of the pod templates.

    Each ref: {kind, namespace, name, key (None: the object itself must exist), optional, used_by}.
    Optional references (``optional: true``) are listed too; ``missing_refs`` skips them.
    """
    refs = []

    def add(wl, kind, name, key, optional, where):
        refs.append({
            "kind": kind, "namespace": wl["namespace"], "name": name, "key": key,
            "optional": bool(optional), "used_by": "%s %s/%s %s" % (wl["kind"], wl["namespace"], wl["name"], where),
        })

    for wl in workloads(docs, default_namespace):
        spec = wl["pod_spec"]
        for pull in spec.get("imagePullSecrets") or []:
            if pull.get("name"):
                add(wl, "Secret", pull["name"], ".dockerconfigjson", False, "imagePullSecrets")
        for c in (spec.get("initContainers") or []) + (spec.get("containers") or []):
            cname = c.get("name", "?")
            for env in c.get("env") or []:
                source = env.get("valueFrom") or {}
                for field, kind in (("secretKeyRef", "Secret"), ("configMapKeyRef", "ConfigMap")):
                    ref = source.get(field)
                    if ref:
                        add(wl, kind, ref.get("name", ""), ref.get("key"), ref.get("optional"),
                            "container %s env %s" % (cname, env.get("name", "?")))
            for env_from in c.get("envFrom") or []:
                for field, kind in (("secretRef", "Secret"), ("configMapRef", "ConfigMap")):
                    ref = env_from.get(field)
                    if ref:
                        add(wl, kind, ref.get("name", ""), None, ref.get("optional"),
                            "container %s envFrom" % cname)
        for vol in spec.get("volumes") or []:
            vname = vol.get("name", "?")
            sources = []
            if vol.get("secret"):
                src = vol["secret"]
                sources.append(("Secret", src.get("secretName", ""), src))
            if vol.get("configMap"):
                src = vol["configMap"]
                sources.append(("ConfigMap", src.get("name", ""), src))
            for proj in (vol.get("projected") or {}).get("sources") or []:
                if proj.get("secret"):
                    sources.append(("Secret", proj["secret"].get("name", ""), proj["secret"]))
                if proj.get("configMap"):
                    sources.append(("ConfigMap", proj["configMap"].get("name", ""), proj["configMap"]))
            for kind, name, src in sources:
                items = src.get("items") or []
                if items:
                    for item in items:
                        add(wl, kind, name, item.get("key"), src.get("optional"), "volume %s" % vname)
                else:
                    add(wl, kind, name, None, src.get("optional"), "volume %s" % vname)
    return refs


def rendered_keys(docs, default_namespace="default"):
    """{(kind, namespace, name): keys} of the Secrets and ConfigMaps the rendered manifests create themselves."""
    found = {}
    for doc in docs or []:
        if not isinstance(doc, dict) or doc.get("kind") not in ("Secret", "ConfigMap"):
            continue
        meta = doc.get("metadata") or {}
        keys = set()
        for field in ("data", "stringData", "binaryData"):
            keys |= set((doc.get(field) or {}).keys())
        found.setdefault((doc["kind"], meta.get("namespace") or default_namespace, meta.get("name", "")), set()).update(keys)
    return found


def missing_refs(refs, available, allow=()):
    """References the cluster cannot satisfy, grouped per missing object/key.

    ``available``: {(kind, namespace, name): set of keys} of what exists (or will, e.g. a committed
    SealedSecret the GitOps flow syncs). ``allow``: exceptions for one run, as ``KEY``,
    ``NAME:KEY`` or ``NAMESPACE/NAME:KEY``. Returns [{kind, namespace, name, key, used_by: [...]}],
    key None meaning the whole object is missing.
    """
    allow = set(allow or ())
    grouped = {}
    for ref in refs:
        if ref["optional"]:
            continue
        keys = available.get((ref["kind"], ref["namespace"], ref["name"]))
        if keys is not None and (ref["key"] is None or ref["key"] in keys):
            continue
        key = ref["key"] if keys is not None else None
        if key is not None and ({key, "%s:%s" % (ref["name"], key),
                                 "%s/%s:%s" % (ref["namespace"], ref["name"], key)} & allow):
            continue
        if key is None and ({ref["name"], "%s/%s" % (ref["namespace"], ref["name"])} & allow):
            continue
        ident = (ref["kind"], ref["namespace"], ref["name"], key)
        entry = grouped.setdefault(ident, {"kind": ref["kind"], "namespace": ref["namespace"],
                                           "name": ref["name"], "key": key, "used_by": []})
        if ref["used_by"] not in entry["used_by"]:
            entry["used_by"].append(ref["used_by"])
    return [grouped[k] for k in sorted(grouped, key=lambda t: tuple("" if x is None else x for x in t))]


def _tolerates(pod_spec, taints):
    for taint in taints or []:
        if taint.get("effect") not in ("NoSchedule", "NoExecute"):
            continue
        ok = False
        for tol in pod_spec.get("tolerations") or []:
            if tol.get("operator") == "Exists" and not tol.get("key"):
                ok = True
            elif tol.get("key") == taint.get("key") and (
                    tol.get("operator") == "Exists" or tol.get("value", "") == taint.get("value", "")) and (
                    not tol.get("effect") or tol.get("effect") == taint.get("effect")):
                ok = True
            if ok:
                break
        if not ok:
            return False
    return True


def _selects(pod_spec, labels):
    for key, value in (pod_spec.get("nodeSelector") or {}).items():
        if labels.get(key) != value:
            return False
    return True


def plan_capacity(docs, pools, default_namespace="default", extra_docs=()):
    """Place the long-running pods of ``docs`` (+ ``extra_docs``: what already runs) on the pools at
    their minimum size.

    ``pools``: [{name, size, count, labels?, taints?}] (count = the minimum number of nodes).
    Returns {fits, nodes, requested, allocatable, shortfall, unplaced: [...], unknown_sizes: [...],
    per_pool: {...}, pods}. ``shortfall`` is what the unplaced pods request (cpu_m, memory_bytes).
    """
    nodes, unknown = [], []
    for pool in pools or []:
        size = doks_node_size(pool.get("size"))
        if size is None:
            unknown.append(pool.get("size"))
            continue
        labels = dict(pool.get("labels") or {})
        labels.setdefault("doks.digitalocean.com/node-pool", pool.get("name", ""))
        labels.setdefault("node.kubernetes.io/instance-type", pool.get("size"))
        # the well-known labels every DOKS node carries (charts select on them, e.g. kubernetes.io/os: linux)
        for key, value in (("kubernetes.io/os", "linux"), ("kubernetes.io/arch", "amd64"),
                           ("beta.kubernetes.io/os", "linux"), ("beta.kubernetes.io/arch", "amd64")):
            labels.setdefault(key, value)
        for i in range(int(pool.get("count") or 0)):
            nodes.append({"pool": pool.get("name", ""), "name": "%s-%d" % (pool.get("name", ""), i + 1),
                          "cpu": size[2], "mem": size[3], "free_cpu": size[2], "free_mem": size[3],
                          "labels": labels, "taints": pool.get("taints") or [], "pods": 0})
    pods, daemon_pods = [], []
    for wl in workloads(list(docs or []) + list(extra_docs or []), default_namespace):
        if wl["kind"] not in LONG_RUNNING:
            continue
        cpu, mem = pod_requests(wl["pod_spec"])
        item = {"workload": "%s %s/%s" % (wl["kind"], wl["namespace"], wl["name"]), "cpu": cpu, "mem": mem,
                "pod_spec": wl["pod_spec"]}
        if wl["kind"] == "DaemonSet":
            daemon_pods.append(item)
        else:
            pods.extend([item] * wl["replicas"])
    unplaced = []
    requested_cpu = requested_mem = 0
    for ds in daemon_pods:  # the DaemonSet controller places one pod on every node it tolerates
        for node in nodes:
            if not (_tolerates(ds["pod_spec"], node["taints"]) and _selects(ds["pod_spec"], node["labels"])):
                continue
            requested_cpu += ds["cpu"]
            requested_mem += ds["mem"]
            if node["free_cpu"] >= ds["cpu"] and node["free_mem"] >= ds["mem"]:
                node["free_cpu"] -= ds["cpu"]
                node["free_mem"] -= ds["mem"]
                node["pods"] += 1
            else:
                unplaced.append({"workload": ds["workload"], "cpu": ds["cpu"], "mem": ds["mem"], "node": node["name"]})
    # largest first, each on the node with the most free memory that tolerates it (a spreading scheduler)
    for pod in sorted(pods, key=lambda p: (p["mem"], p["cpu"]), reverse=True):
        requested_cpu += pod["cpu"]
        requested_mem += pod["mem"]
        fitting = [n for n in nodes
                   if n["free_cpu"] >= pod["cpu"] and n["free_mem"] >= pod["mem"]
                   and _tolerates(pod["pod_spec"], n["taints"]) and _selects(pod["pod_spec"], n["labels"])]
        if not fitting:
            unplaced.append({"workload": pod["workload"], "cpu": pod["cpu"], "mem": pod["mem"], "node": None})
            continue
        node = max(fitting, key=lambda n: (n["free_mem"], n["free_cpu"]))
        node["free_cpu"] -= pod["cpu"]
        node["free_mem"] -= pod["mem"]
        node["pods"] += 1
    alloc_cpu = sum(n["cpu"] for n in nodes)
    alloc_mem = sum(n["mem"] for n in nodes)
    short_cpu = sum(p["cpu"] for p in unplaced)
    short_mem = sum(p["mem"] for p in unplaced)
    per_pool = {}
    for node in nodes:
        entry = per_pool.setdefault(node["pool"], {"nodes": 0, "free_cpu_m": 0, "free_memory_bytes": 0})
        entry["nodes"] += 1
        entry["free_cpu_m"] += node["free_cpu"]
        entry["free_memory_bytes"] += node["free_mem"]
    return {
        "fits": not unplaced and not unknown and bool(nodes),
        "nodes": len(nodes),
        "pods": len(pods) + sum(1 for ds in daemon_pods for n in nodes
                                if _tolerates(ds["pod_spec"], n["taints"]) and _selects(ds["pod_spec"], n["labels"])),
        "requested": {"cpu_m": requested_cpu, "memory_bytes": requested_mem},
        "allocatable": {"cpu_m": alloc_cpu, "memory_bytes": alloc_mem},
        "shortfall": {"cpu_m": short_cpu, "memory_bytes": short_mem},
        "unplaced": [{"workload": p["workload"], "cpu": format_cpu(p["cpu"]), "memory": format_memory(p["mem"]),
                      "node": p["node"]} for p in unplaced],
        "unknown_sizes": unknown,
        "per_pool": per_pool,
    }


def nodes_needed(docs, pool, other_pools=(), default_namespace="default", extra_docs=(), limit=50):
    """The smallest node count of ``pool`` (the other pools unchanged) at which everything fits, or None."""
    for count in range(max(1, int(pool.get("count") or 1)), limit + 1):
        trial = list(other_pools) + [dict(pool, count=count)]
        if plan_capacity(docs, trial, default_namespace, extra_docs)["fits"]:
            return count
    return None


def capacity_message(result, pool=None, needed=None):
    """One line saying whether the pods fit, and by how much they do not."""
    req, alloc = result["requested"], result["allocatable"]
    head = "requests %s CPU / %s memory on %d node(s) with %s CPU / %s allocatable" % (
        format_cpu(req["cpu_m"]), format_memory(req["memory_bytes"]), result["nodes"],
        format_cpu(alloc["cpu_m"]), format_memory(alloc["memory_bytes"]))
    if result["unknown_sizes"]:
        return "%s; unknown node size(s) %s" % (head, ", ".join(str(s) for s in result["unknown_sizes"]))
    if result["fits"]:
        return "%s: fits" % head
    short = result["shortfall"]
    msg = "%s: %d pod(s) do not fit, short by %s CPU / %s memory" % (
        head, len(result["unplaced"]), format_cpu(short["cpu_m"]), format_memory(short["memory_bytes"]))
    if pool is not None and needed:
        msg += "; the pool %s needs at least %d node(s) at its minimum" % (pool.get("name"), needed)
    return msg
